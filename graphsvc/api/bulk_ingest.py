"""``POST /records``: NDJSON bulk ingest, read as it arrives
(docs/decisions/0080-bulk-answer-after-body.md).

The body is never held whole: lines are parsed as they come and stored 1,000 at a time,
each chunk its own transaction (a record may refer to records of an earlier line or of
its own chunk), while the next lines are read. A line that is not acceptable JSON (not
UTF-8, nested too deep, a huge integer, a duplicate key) is rejected on its own and the
lines around it are stored. The answer has one line per input line, then a summary;
it is sent once the body is read, so its status tells the whole story:

- 200: every line was read and has its result;
- 413: the body passed ``max_bulk_lines`` lines or ``max_bulk_bytes`` bytes; the lines
  before were stored and are answered, the rest were not read;
- 503 with ``Retry-After``: the store stopped answering; the lines answered were
  stored, the others were not (re-send them all: the stored ones come back duplicate);
- 507 with ``Retry-After``: the same, because the store's disk is full ("disk full").
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterator
from typing import Any

from starlette.types import Receive, Scope, Send

from graphsvc.domain.failures import DiskFull, StoreUnavailable
from graphsvc.domain.outcomes import RecordResult, RecordStatus
from graphsvc.records.json_input import JSONInputError, parse_json
from graphsvc.services import Services

BULK_CHUNK = 1_000
RETRY_AFTER_SECONDS = 5

log = logging.getLogger(__name__)


class _Stop(Exception):
    """Reading stops: the answer gets ``status`` and a last line saying why."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class _Limit(_Stop):
    """A per-request cap was reached: the lines before it are stored and answered."""

    def __init__(self, message: str) -> None:
        super().__init__(413, message)


class _Lines:
    """Split arriving bytes into lines; a line over ``max_bytes`` is kept as None."""

    def __init__(self, max_bytes: int) -> None:
        self._max = max_bytes
        self._tail = bytearray()
        self._overlong = False

    def feed(self, data: bytes) -> Iterator[bytes | None]:
        start = 0
        while (end := data.find(b"\n", start)) != -1:
            yield self._line(data[start:end])
            start = end + 1
        self._keep(data[start:])

    def finish(self) -> Iterator[bytes | None]:
        if self._tail or self._overlong:
            yield self._line(b"")

    def _keep(self, part: bytes) -> None:
        if self._overlong:
            return
        self._tail += part
        if len(self._tail) > self._max:
            self._overlong = True
            self._tail.clear()

    def _line(self, part: bytes) -> bytes | None:
        self._keep(part)
        line = None if self._overlong else bytes(self._tail)
        self._tail.clear()
        self._overlong = False
        return line


class BulkRecords:
    """The ASGI endpoint of ``POST /records``."""

    def __init__(self, services: Services) -> None:
        self.services = services

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        run = _BulkRun(self.services)
        status, headers = 200, []
        try:
            await run.read(receive)
        except _Stop as stop:
            status = stop.status
            run.answer({"error": stop.message, "summary": run.counts})
            if status in (503, 507):
                headers.append((b"retry-after", str(RETRY_AFTER_SECONDS).encode()))
        else:
            run.answer({"summary": run.counts})
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", b"application/x-ndjson"), *headers],
            }
        )
        await send({"type": "http.response.body", "body": b"".join(run.lines)})


class _BulkRun:
    """One request's state: the chunk being filled, the chunk being stored, answers."""

    def __init__(self, services: Services) -> None:
        self.services = services
        settings = services.settings
        self.max_lines = settings.max_bulk_lines
        self.max_bytes = settings.max_bulk_bytes
        self.max_line_bytes = settings.max_request_bytes
        self.lines: list[bytes] = []
        self.counts = {"accepted": 0, "duplicate": 0, "rejected": 0}
        self.chunk: list[object] = []
        self.parse_errors: dict[int, str] = {}
        self.read_lines = 0
        self.storing: asyncio.Task[list[RecordResult]] | None = None
        self.stored_base = 0  # index of the first line of the chunk being stored
        self.stored_errors: dict[int, str] = {}

    def answer(self, line: dict[str, Any]) -> None:
        self.lines.append((json.dumps(line) + "\n").encode())

    async def read(self, receive: Receive) -> None:
        try:
            try:
                await self._read_lines(receive)
            except _Limit:
                await self._flush()
                await self._collect()
                raise
            await self._flush()
        finally:
            await self._collect()

    async def _read_lines(self, receive: Receive) -> None:
        splitter = _Lines(self.max_line_bytes)
        seen = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise _Stop(400, "the client disconnected before the body ended")
            data = message.get("body", b"")
            seen += len(data)
            if seen > self.max_bytes:
                raise _Limit(
                    f"request body over {self.max_bytes} bytes; the lines answered were "
                    "read, send the rest in another request"
                )
            for line in splitter.feed(data):
                await self._line(line)
            if not message.get("more_body", False):
                break
        for line in splitter.finish():
            await self._line(line)

    async def _line(self, line: bytes | None) -> None:
        if line is not None and not line.strip():
            return
        if self.read_lines >= self.max_lines:
            raise _Limit(
                f"more than {self.max_lines} lines; the lines answered were read, send the "
                "rest in another request"
            )
        index = len(self.chunk)
        self.read_lines += 1
        if line is None:
            self.parse_errors[index] = f"line over {self.max_line_bytes} bytes"
            self.chunk.append(None)
        else:
            try:
                self.chunk.append(parse_json(line))
            except JSONInputError as error:
                self.parse_errors[index] = f"line {error}"
                self.chunk.append(None)
        if len(self.chunk) == BULK_CHUNK:
            await self._flush()

    async def _flush(self) -> None:
        """Start storing the filled chunk once the previous one is answered."""
        await self._collect()
        if not self.chunk:
            return
        chunk, self.chunk = self.chunk, []
        self.stored_errors, self.parse_errors = self.parse_errors, {}
        self.stored_base = self.read_lines - len(chunk)
        self.storing = asyncio.ensure_future(self.services.ingestor.submit_async(chunk))

    async def _collect(self) -> None:
        if self.storing is None:
            return
        storing, self.storing = self.storing, None
        try:
            results = await storing
        except DiskFull as error:
            raise _Stop(
                507,
                f"{error}; the lines answered were stored, the others were not: send them "
                "again once space is freed",
            ) from None
        except StoreUnavailable as error:
            raise _Stop(
                503,
                f"store unavailable: {error}; the lines answered were stored, the others "
                "were not: send them again",
            ) from None
        except Exception:
            log.exception("bulk ingest failed")
            raise _Stop(
                500, "internal error: the lines answered were stored, the others were not"
            ) from None
        for result in results:  # the ingestor counts them in /metrics
            line = _result_line(result, self.stored_base, self.stored_errors.get(result.index))
            self.counts[RecordStatus[line["status"]].value] += 1
            self.answer(line)


def _result_line(result: RecordResult, base: int, parse_error: str | None) -> dict[str, Any]:
    # A status is spelled as GraphQL's RecordStatus spells it (ACCEPTED, DUPLICATE,
    # REJECTED): one vocabulary for both doors (docs/decisions/0077-status-vocabulary.md).
    status = RecordStatus.REJECTED if parse_error else result.status
    line: dict[str, Any] = {"index": base + result.index, "id": result.id, "status": status.name}
    reason = parse_error or result.reason
    if reason:
        line["reason"] = reason
    return line
