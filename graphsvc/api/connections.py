"""Connection limits uvicorn lacks (docs/decisions/0054-slow-client-limits.md): a deadline
for a request's headers, from the connection's start or the previous response, a cap on
their size (431; uvicorn's httptools protocol has none, and h11's
``h11_max_incomplete_event_size`` does not apply to it), and a cap on open connections.
uvicorn closes idle keep-alive connections only after a first response, and has no header
deadline, so a client that connects and sends nothing (or a byte at a time) would hold its
file descriptor for ever, and one that sends headers without end would grow the process's
memory.

Besides, a response's head and body leave in one write (``JoinedWrites``).
"""

from __future__ import annotations

import asyncio
from typing import Any, cast

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol


class GuardedHTTP(HttpToolsProtocol):
    """uvicorn's httptools protocol with a header deadline and a connection cap."""

    header_timeout = 10.0
    max_connections = 1_000
    max_header_bytes = 64 * 1024

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._header_deadline: asyncio.TimerHandle | None = None
        self._in_headers = False
        self._header_bytes = 0

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        # Counted after parsing, so a chunk that ends the headers and carries the body
        # counts nothing: what is counted is what the parser holds as headers so far.
        if self._in_headers and not self.transport.is_closing():
            self._header_bytes += len(data)
            if self._header_bytes > self.max_header_bytes:
                self._headers_too_large()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_headers = True
        self._header_bytes = 0

    def _headers_too_large(self) -> None:
        message = f"request headers over {self.max_header_bytes} bytes\n".encode()
        self.transport.write(
            b"HTTP/1.1 431 Request Header Fields Too Large\r\n"
            b"content-type: text/plain; charset=utf-8\r\n"
            b"content-length: " + str(len(message)).encode() + b"\r\n"
            b"connection: close\r\n\r\n" + message
        )
        self.transport.close()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if len(self.connections) > self.max_connections:
            transport.abort()  # over the cap: no request is read, the fd is freed at once
            return
        self._await_headers()

    def on_headers_complete(self) -> None:
        self._in_headers = False
        self._cancel_deadline()
        super().on_headers_complete()
        cycle = self.cycle
        if cycle is not None and cycle.transport is self.transport:  # a cycle made now
            cycle.transport = cast(asyncio.Transport, JoinedWrites(self.transport, self.loop))

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._await_headers()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_deadline()
        super().connection_lost(exc)

    def _await_headers(self) -> None:
        self._cancel_deadline()
        self._header_deadline = self.loop.call_later(self.header_timeout, self._headers_late)

    def _headers_late(self) -> None:
        self._header_deadline = None
        if self.cycle is None or self.cycle.response_complete:
            self.transport.close()

    def _cancel_deadline(self) -> None:
        if self._header_deadline is not None:
            self._header_deadline.cancel()
            self._header_deadline = None


class JoinedWrites:
    """A request's writes to its connection, each held until the next joins it or this
    turn of the event loop ends (whichever comes first): uvicorn writes a response's head
    and then its body, two system calls and two packets where one does, and the client
    wakes once, not twice (issue 23). Nothing waits longer than the current turn: a
    stream's head still leaves before its first chunk is ready."""

    __slots__ = ("_held", "_loop", "_transport")

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._held: bytes | None = None

    def write(self, data: bytes) -> None:
        held = self._held
        if held is None:
            self._held = data
            self._loop.call_soon(self.flush)
        else:
            self._held = None
            self._transport.writelines((held, data))  # one writev: no copy

    def flush(self) -> None:
        held, self._held = self._held, None
        if held is not None and not self._transport.is_closing():
            self._transport.write(held)

    def is_closing(self) -> bool:
        return self._transport.is_closing()

    def close(self) -> None:
        self.flush()
        self._transport.close()


def guarded_http(
    header_timeout: float, max_connections: int, max_header_bytes: int
) -> type[GuardedHTTP]:
    """The protocol class with these limits, for ``uvicorn.Config(http=...)``."""
    return type(
        "GuardedHTTP",
        (GuardedHTTP,),
        {
            "header_timeout": header_timeout,
            "max_connections": max_connections,
            "max_header_bytes": max_header_bytes,
        },
    )
