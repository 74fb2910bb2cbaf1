"""Count and time every GraphQL operation, by type, name and outcome (``/metrics``)."""

from __future__ import annotations

import time
from collections.abc import Iterator

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from graphsvc.api.context import Context


class OperationMetrics(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        started = time.perf_counter()
        yield
        execution = self.execution_context
        context = execution.context
        if not isinstance(context, Context):
            return
        metrics = context.services.metrics
        errors: list[GraphQLError] = list(execution.pre_execution_errors or [])
        if execution.result is not None and execution.result.errors:
            errors += execution.result.errors
        try:
            kind = execution.operation_type.value
        except RuntimeError:  # no operation to run: the document did not parse
            kind = "unknown"
        if not errors:
            outcome = "ok"
        elif execution.pre_execution_errors or all(e.path is None for e in errors):
            outcome = "invalid"
        else:
            outcome = "error"
        metrics.graphql_operations.labels(
            kind, metrics.operation_label(execution.operation_name), outcome
        ).observe(time.perf_counter() - started)
