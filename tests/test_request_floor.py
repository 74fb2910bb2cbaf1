"""The short ways of the request floor (issue 23) change nothing a client or an
extension sees: a response's writes joined into one, and schema extensions' hooks found
once per class."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any, cast

import strawberry
from strawberry.extensions import SchemaExtension

from graphsvc.api.connections import JoinedWrites
from graphsvc.api.extension_hooks import ClassHooksSchema


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


class Recorder(SchemaExtension):
    """Every kind of hook strawberry accepts: generator, async generator, coroutine and
    plain function."""

    def on_operation(self) -> Iterator[None]:
        events.append("operation starts")
        yield
        events.append("operation ends")

    async def on_validate(self) -> AsyncIterator[None]:
        events.append("validation starts")
        yield
        events.append("validation ends")

    async def on_parse(self) -> None:  # type: ignore[override]
        events.append("parsed")

    def on_execute(self) -> None:  # type: ignore[override]
        events.append("executing")


class Outer(SchemaExtension):
    def get_results(self) -> dict[str, Any]:
        return {"outer": len(events)}  # Recorder keeps the default: no results

    def on_operation(self) -> Iterator[None]:
        events.append("outer starts")
        try:
            yield
        finally:
            result = self.execution_context.result
            events.append(f"outer ends, {len(getattr(result, 'errors', None) or [])} error(s)")


@strawberry.type
class Query:
    @strawberry.field
    def answer(self) -> int:
        return 42

    @strawberry.field
    def broken(self) -> int:
        raise ValueError("no answer")


def _run(schema_class: type[strawberry.Schema], query: str) -> tuple[list[str], Any]:
    schema = schema_class(query=Query, extensions=[Outer, Recorder])
    events.clear()
    result = asyncio.run(schema.execute(query))
    return list(events), (result.data, [str(e) for e in result.errors or []], result.extensions)


def test_extension_hooks_run_as_strawberrys_own_runner_runs_them() -> None:
    for query in ("{ answer }", "{ broken }", "{ answer", "{ noSuchField }"):
        ours = _run(ClassHooksSchema, query)
        assert ours == _run(strawberry.Schema, query), query
        assert ours[0][0] == "outer starts" and ours[0][-1].startswith("outer ends"), ours
    events_run, (_, _, extensions) = _run(ClassHooksSchema, "{ answer }")
    assert "executing" in events_run
    assert extensions == {"outer": len(events_run)}  # asked once the operation has ended
