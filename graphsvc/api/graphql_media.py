"""The ``application/graphql-response+json`` media type of GraphQL over HTTP.

A client that asks for it (``Accept``) gets it, with the status codes that type defines: a
request that never reached execution (a document that does not parse or validate, or
variables that do not coerce) answers 400 and carries no ``data``. A client asking for
``application/json`` (or ``*/*``, or nothing) gets the classic answer: 200 and
``"data": null``, as clients written before the media type expect.

Strawberry answers in ``application/json`` only, so this wraps its ASGI app and rewrites
the answer's status and type; the body is parsed again only for a ``null`` data.
"""

from __future__ import annotations

import json

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"
_NULL_DATA = b'{"data":null'


def prefers_graphql_response(accept: str) -> bool:
    """Whether ``accept`` ranks ``application/graphql-response+json`` first: the highest
    quality of the two types, the earlier listed of equals. ``*/*`` and ``application/*``
    stand for ``application/json`` (the spec's choice for legacy clients)."""
    best: tuple[float, int, str] | None = None
    for position, item in enumerate(accept.split(",")):
        media, *params = (part.strip() for part in item.split(";"))
        media = media.lower()
        if media in ("*/*", "application/*"):
            media = JSON
        if media not in (JSON, GRAPHQL_RESPONSE):
            continue
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if quality > 0 and (best is None or quality > best[0]):
            best = (quality, position, media)
    return best is not None and best[2] == GRAPHQL_RESPONSE


def is_request_error(body: bytes) -> tuple[bool, bytes]:
    """Whether ``body`` (a single GraphQL result) reports a request error: no data, and
    errors none of which has a ``path`` (field errors always do). Returns the body with
    its ``data`` entry removed when so."""
    if not body.startswith(_NULL_DATA):
        return False, body
    result = json.loads(body)
    errors = result.get("errors")
    if not errors or any("path" in error for error in errors):
        return False, body
    del result["data"]
    return True, json.dumps(result, separators=(",", ":")).encode()


class GraphQLResponseMedia:
    """Serve ``application/graphql-response+json`` to the clients that prefer it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not prefers_graphql_response(
            Headers(scope=scope).get("accept", "")
        ):
            await self.app(scope, receive, send)
            return
        start: Message | None = None
        body = bytearray()

        async def rewrite(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                headers = Headers(raw=message["headers"])
                if message["status"] == 200 and headers.get("content-type", "").startswith(JSON):
                    start = message  # held until the whole body is in
                    return
            elif start is not None and message["type"] == "http.response.body":
                body.extend(message.get("body", b""))
                if message.get("more_body", False):
                    return
                failed, answer = is_request_error(bytes(body))
                headers = MutableHeaders(raw=list(start["headers"]))
                headers["content-type"] = GRAPHQL_RESPONSE
                headers["content-length"] = str(len(answer))
                await send({**start, "status": 400 if failed else 200, "headers": headers.raw})
                await send({"type": "http.response.body", "body": answer})
                return
            await send(message)

        await self.app(scope, receive, rewrite)
