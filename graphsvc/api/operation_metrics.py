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
        try:
            yield
        finally:  # a document that does not parse ends the operation with an exception
            self._observe(time.perf_counter() - started)

    def _observe(self, seconds: float) -> None:
        execution = self.execution_context
        context = execution.context
        if not isinstance(context, Context):
            return
        metrics = context.services.metrics
        # Strawberry lists execution errors among the "pre-execution" ones too, so the
        # two lists say nothing apart: an error without a path never reached a field.
        errors: list[GraphQLError] = (
            execution.result.errors if execution.result is not None else None
        ) or list(execution.pre_execution_errors or [])
        try:
            kind = execution.operation_type.value
        except RuntimeError:  # no operation to run: the document did not parse
            kind = "unknown"
        if execution.graphql_document is None:
            outcome = "invalid"
        elif not errors:
            outcome = "ok"
        elif all(e.path is None for e in errors):
            outcome = "invalid"
        else:
            outcome = "error"
        metrics.graphql_operations.labels(
            kind, metrics.operation_label(execution.operation_name), outcome
        ).observe(seconds)
