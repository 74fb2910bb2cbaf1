"""CORS (Starlette's ``CORSMiddleware``), with a short way for requests without an
``Origin`` header: same-origin pages, scripts, probes and other servers, nearly every
request. Starlette's only change to their answers is ``Vary: Origin`` (a cache must not
give a cross-origin page an answer made without CORS headers); the short way adds
exactly that, with neither of its two header parses per request (issue 23). Requests
with an ``Origin`` take Starlette's way, preflights included."""

from __future__ import annotations

from starlette.middleware.cors import CORSMiddleware
from starlette.types import Message, Receive, Scope, Send

RawHeaders = list[tuple[bytes, bytes]]


def with_vary_origin(headers: RawHeaders) -> RawHeaders:
    """``headers`` with ``Origin`` added to ``Vary`` as Starlette does: the values of every
    ``vary`` entry joined into the first one, the others dropped."""
    values = [value for name, value in headers if name == b"vary"]
    if not values:
        return [*headers, (b"vary", b"Origin")]
    joined: tuple[bytes, bytes] | None = (b"vary", b", ".join([*values, b"Origin"]))
    kept: RawHeaders = []
    for name, value in headers:
        if name != b"vary":
            kept.append((name, value))
        elif joined is not None:
            kept.append(joined)
            joined = None
    return kept


class CORS(CORSMiddleware):
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or any(name == b"origin" for name, _ in scope["headers"]):
            await super().__call__(scope, receive, send)
            return

        async def send_varied(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = with_vary_origin(message.get("headers", []))
            await send(message)

        await self.app(scope, receive, send_varied)
