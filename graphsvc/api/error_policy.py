"""How GraphQL errors reach the caller and the log (docs/decisions/0081-graphql-error-classes.md).

Three kinds:
- the caller's mistakes (a document that does not parse or validate, a wrong or missing
  variable, a ``ClientError`` or ``ValueError`` from a resolver): answered as they are,
  logged as one line without a traceback;
- the store out of reach: answered with its cause and ``extensions.code =
  "STORE_UNAVAILABLE"`` (retry later), logged as one line;
- anything else, a fault of ours: masked as "Unexpected error.", logged with its
  traceback.
"""

from __future__ import annotations

import logging

import strawberry
from asgi_correlation_id import correlation_id
from graphql import GraphQLError
from strawberry.extensions import MaskErrors
from strawberry.types import ExecutionContext

from graphsvc.api.limits import ClientError
from graphsvc.domain.failures import DiskFull, StoreUnavailable

STORE_UNAVAILABLE = "STORE_UNAVAILABLE"
DISK_FULL = "DISK_FULL"
INTERNAL_ERROR = "INTERNAL_SERVER_ERROR"
MASKED_MESSAGE = "Unexpected error."

log = logging.getLogger("graphsvc.graphql")


def is_client_error(error: GraphQLError) -> bool:
    """The caller's mistake: an error of the request itself (parsing, validation,
    variables: no path), or one a resolver raised for the caller to read."""
    original = error.original_error
    if original is None or error.path is None:
        return not isinstance(original, StoreUnavailable)
    return isinstance(original, ClientError | ValueError)


def is_store_unavailable(error: GraphQLError) -> bool:
    return isinstance(error.original_error, StoreUnavailable)


def store_unavailable(error: GraphQLError) -> GraphQLError:
    full = isinstance(error.original_error, DiskFull)
    return GraphQLError(
        message=f"{'' if full else 'store unavailable: '}{error.original_error}",
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        extensions={"code": DISK_FULL if full else STORE_UNAVAILABLE},
    )


def masked(error: GraphQLError) -> GraphQLError:
    """What the caller sees of an internal error: no details (the log keeps them, with
    its traceback), but the request's id, the key to that log line in a report."""
    return GraphQLError(
        message=MASKED_MESSAGE,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        extensions={"code": INTERNAL_ERROR, "requestId": correlation_id.get()},
    )


class ErrorPolicy(MaskErrors):
    """Answer each error by its kind (see the module's docstring)."""

    def _process_result(self, result: object) -> None:
        # An attribute read: strawberry's own check, an isinstance against a
        # runtime-checkable Protocol, walks the Protocol's members at every request.
        errors = getattr(result, "errors", None)
        if errors:
            result.errors = self._process_errors(errors)  # type: ignore[attr-defined]

    def _process_errors(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        return [
            store_unavailable(e)
            if is_store_unavailable(e)
            else e
            if is_client_error(e)
            else masked(e)
            for e in errors
        ]


class Schema(strawberry.Schema):
    """The schema, logging errors by kind: only internal ones with a traceback."""

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        for error in errors:
            if is_store_unavailable(error):
                log.warning("GraphQL: store unavailable: %s", error.original_error)
            elif is_client_error(error):
                log.info("GraphQL client error: %s", error.message)
            else:
                log.error("GraphQL internal error: %s", error, exc_info=error.original_error)
