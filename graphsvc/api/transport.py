"""How GraphQL operations travel, and what each way refuses (issue 24): subscriptions
only over WebSocket (a subscription POSTed as a plain request has nowhere to stream to:
400), WebSocket messages read as strictly as request bodies (a message that is not a
JSON object closes the connection with 4400 and one log line), and a server-wide cap on
the operations running over WebSockets (reached: the connection is closed with 4503).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, Iterable
from typing import Any, cast

from starlette.websockets import WebSocketDisconnect, WebSocketState
from strawberry.asgi import ASGIWebSocketAdapter
from strawberry.http.exceptions import NonJsonMessageReceived, NonTextMessageReceived
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    Message,
    SubscribeMessage,
)
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType

from graphsvc.api.error_policy import Schema
from graphsvc.records.json_input import JSONInputError, parse_json

# The server's WebSocket operations are all in use: try again later (graphql-ws
# clients retry a close code they do not know, with backoff).
SERVER_BUSY = 4503
BAD_REQUEST = 4400

log = logging.getLogger("graphsvc.graphql")


class HTTPSchema(Schema):
    """The schema, with subscriptions refused on the plain-request path (``execute``):
    strawberry would run one there as a query and fail on its stream."""

    async def execute(
        self,
        query: str | None,
        variable_values: dict[str, Any] | None = None,
        context_value: Any | None = None,
        root_value: Any | None = None,
        operation_name: str | None = None,
        allowed_operation_types: Iterable[OperationType] | None = None,
        operation_extensions: dict[str, Any] | None = None,
    ) -> ExecutionResult:
        allowed = set(allowed_operation_types or OperationType) - {OperationType.SUBSCRIPTION}
        return await super().execute(
            query,
            variable_values,
            context_value,
            root_value,
            operation_name,
            allowed,
            operation_extensions,
        )


class StrictWebSocket(ASGIWebSocketAdapter):
    """WebSocket messages parsed as request bodies are (``records.json_input``)."""

    async def iter_json(
        self, *, ignore_parsing_errors: bool = False
    ) -> AsyncGenerator[object, None]:
        try:
            while self.ws.application_state != WebSocketState.DISCONNECTED:
                try:
                    text = await self.ws.receive_text()
                except KeyError as error:  # a binary message
                    raise NonTextMessageReceived from error
                try:
                    message = parse_json(text)
                except JSONInputError as error:
                    if ignore_parsing_errors:
                        continue
                    raise NonJsonMessageReceived from error
                yield message
        except WebSocketDisconnect:
            pass


class OperationSlots:
    """Operations running over all WebSockets of the server, at most ``cap``."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.active = 0


class TransportWS(BaseGraphQLTransportWSHandler[Any, None]):
    """graphql-transport-ws with messages that must be JSON objects, and the server's
    cap on operations (``slots``, set on the class by ``transport_handler``)."""

    slots: OperationSlots

    async def handle_message(self, message: Any) -> None:
        if not isinstance(message, dict):
            await self.handle_invalid_message("WebSocket message must be a JSON object")
            return
        await super().handle_message(cast(Message, message))

    async def handle_invalid_message(self, error_message: str) -> None:
        log.info("GraphQL WebSocket closed (%d): %s", BAD_REQUEST, error_message)
        await super().handle_invalid_message(error_message)

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        slots = self.slots
        if (
            self.connection_acknowledged
            and message["id"] not in self.operations
            and slots.active >= slots.cap
        ):
            log.warning("GraphQL WebSocket closed: %d operations running", slots.active)
            await self.websocket.close(
                code=SERVER_BUSY,
                reason=f"the server runs its maximum of {slots.cap} WebSocket operations: "
                "retry later",
            )
            return
        await super().handle_subscribe(message)
        operation = self.operations.get(message["id"])
        if operation is not None and operation.task is not None and not operation.task.done():
            slots.active += 1
            operation.task.add_done_callback(lambda _: _release(slots))


def _release(slots: OperationSlots) -> None:
    slots.active -= 1


def transport_handler(cap: int) -> type[TransportWS]:
    """The handler class sharing one count of ``cap`` slots (one per server)."""
    return type("TransportWS", (TransportWS,), {"slots": OperationSlots(cap)})
