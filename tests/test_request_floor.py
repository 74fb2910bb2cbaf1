"""A short way of the request floor (issue 23,
docs/decisions/0092-short-ways-on-the-request-path.md) changes nothing a client sees: a
response's writes joined into one."""

from __future__ import annotations

import asyncio
from typing import Any, cast

from graphsvc.api.connections import JoinedWrites


class RecordingTransport:
    """What reaches the socket: one entry per system call (``write`` or ``writelines``)."""

    def __init__(self) -> None:
        self.calls: list[list[bytes] | str] = []
        self.closing = False

    def write(self, data: bytes) -> None:
        self.calls.append([data])

    def writelines(self, lines: Any) -> None:
        self.calls.append(list(lines))

    def is_closing(self) -> bool:
        return self.closing

    def close(self) -> None:
        self.closing = True
        self.calls.append("close")


async def _turn_ends() -> None:
    """Return once the callbacks scheduled so far on this loop have run (FIFO order)."""
    loop = asyncio.get_running_loop()
    done = loop.create_future()
    loop.call_soon(done.set_result, None)
    await done


def _joined() -> tuple[RecordingTransport, JoinedWrites]:
    transport = RecordingTransport()
    joined = JoinedWrites(cast(asyncio.Transport, transport), asyncio.get_running_loop())
    return transport, joined


def test_a_response_head_and_body_leave_in_one_write() -> None:
    async def main() -> list[list[bytes] | str]:
        transport, joined = _joined()
        joined.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n")
        assert transport.calls == []  # held for the body
        joined.write(b"{}")
        await _turn_ends()
        return transport.calls

    assert asyncio.run(main()) == [[b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n", b"{}"]]


def test_a_lone_head_and_a_streams_chunks_leave_when_the_turn_ends() -> None:
    async def main() -> list[list[bytes] | str]:
        transport, joined = _joined()
        joined.write(b"HEAD")  # a 304 or an answer to HEAD: no body follows
        await _turn_ends()
        assert transport.calls == [[b"HEAD"]]
        joined.write(b"chunk 1")  # a stream: each turn's writes together, none kept
        joined.write(b"chunk 2")
        joined.write(b"chunk 3")
        await _turn_ends()
        return transport.calls

    assert asyncio.run(main()) == [[b"HEAD"], [b"chunk 1", b"chunk 2"], [b"chunk 3"]]


def test_closing_sends_what_is_held_first() -> None:
    async def main() -> list[list[bytes] | str]:
        transport, joined = _joined()
        joined.write(b"last words")
        joined.close()
        await _turn_ends()
        assert joined.is_closing()
        return transport.calls

    assert asyncio.run(main()) == [[b"last words"], "close"]


events: list[str] = []
