"""Load generation: a raw asyncio HTTP/1.1 client, open-loop requests, paced calls."""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import socket
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from harness.processes import HOST, Server

GRACE_SECONDS = 10.0  # an open-loop request unanswered this long after the last send fails
READY_DEADLINE = 180.0
MAX_CONNECTIONS = 512
KEEPALIVE_EXPIRY = 3.0  # s; uvicorn's keep-alive timeout is 5 s


@dataclass
class _Conn:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    last_used: float = 0.0


class Http:
    """A keep-alive HTTP/1.1 connection pool to one server on HOST; no pipelining.

    Connections idle for KEEPALIVE_EXPIRY s are dropped before use: uvicorn closes
    keep-alive connections after 5 idle s, and a request written on one it has just
    closed would fail for a reason that is the client's, not the server's.
    """

    def __init__(self, port: int, max_connections: int = MAX_CONNECTIONS) -> None:
        self.port = port
        self.max_connections = max_connections
        self.opened = 0
        self.idle: list[_Conn] = []
        self.waiters: list[asyncio.Future[_Conn]] = []

    async def _open(self) -> _Conn:
        reader, writer = await asyncio.open_connection(HOST, self.port)
        sock = writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return _Conn(reader, writer, time.monotonic())

    async def prime(self, count: int) -> None:
        """Open connections up to ``count``, so the first requests do not pay for them."""
        while self.opened < count:
            self.opened += 1
            self._release(await self._open())

    async def _acquire(self) -> _Conn:
        now = time.monotonic()
        while self.idle:
            conn = self.idle.pop()
            if now - conn.last_used < KEEPALIVE_EXPIRY and not conn.reader.at_eof():
                return conn
            conn.writer.close()
            self.opened -= 1
        if self.opened < self.max_connections:
            self.opened += 1
            try:
                return await self._open()
            except BaseException:
                self.opened -= 1
                raise
        waiter: asyncio.Future[_Conn] = asyncio.get_running_loop().create_future()
        self.waiters.append(waiter)
        return await waiter

    def _release(self, conn: _Conn) -> None:
        conn.last_used = time.monotonic()
        while self.waiters:
            waiter = self.waiters.pop(0)
            if not waiter.done():
                waiter.set_result(conn)
                return
        self.idle.append(conn)

    def _discard(self, conn: _Conn) -> None:
        conn.writer.close()
        self.opened -= 1
        if self.waiters:  # someone waits for a connection this one would have served
            asyncio.get_running_loop().create_task(self._replace())

    async def _replace(self) -> None:
        with contextlib.suppress(OSError):
            self.opened += 1
            self._release(await self._open())
            return
        self.opened -= 1

    async def close(self) -> None:
        for conn in self.idle:
            conn.writer.close()
        self.idle.clear()

    async def exchange(self, raw: bytes) -> tuple[int, bytes]:
        """Send one raw request; the answer's status and whole body."""
        conn = await self._acquire()
        reader = conn.reader
        try:
            conn.writer.write(raw)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            length, chunked, close = 0, False, False
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                name = name.strip().lower()
                if name == b"content-length":
                    length = int(value)
                elif name == b"transfer-encoding":
                    chunked = b"chunked" in value.lower()
                elif name == b"connection":
                    close = b"close" in value.lower()
            body = await (_read_chunked(reader) if chunked else reader.readexactly(length))
        except BaseException:
            self._discard(conn)
            raise
        if close:
            self._discard(conn)
        else:
            self._release(conn)
        return status, body


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    body = bytearray()
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
        if size == 0:
            await reader.readuntil(b"\r\n")
            return bytes(body)
        body += (await reader.readexactly(size + 2))[:-2]


def get(port: int, path: str) -> bytes:
    """A raw GET request, to send with ``Http.exchange`` (as often as wanted)."""
    return f"GET {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\n\r\n".encode()


def post(port: int, path: str, body: bytes, content_type: str) -> bytes:
    """A raw POST request, to send with ``Http.exchange`` (as often as wanted)."""
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\nContent-Type: {content_type}\r\n"
        f"Accept: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


def post_graphql(port: int, query: str, variables: dict[str, Any] | None = None) -> bytes:
    payload: dict[str, Any] = {"query": query}
    if variables:
        payload["variables"] = variables
    body = json.dumps(payload, separators=(",", ":")).encode()
    return post(port, "/graphql", body, "application/json")


async def wait_ready(
    http: Http, server: Server, ready: Callable[[Http], Awaitable[bool]] | None = None
) -> None:
    """Poll /readyz (then ``ready``, if given) until both say yes; fail if the server
    exits or takes longer than READY_DEADLINE."""
    deadline = time.monotonic() + READY_DEADLINE
    while True:
        if server.proc.poll() is not None:
            tail = server.log.read_text(errors="replace")[-3000:]
            raise SystemExit(f"the server exited with {server.proc.returncode}:\n{tail}")
        if time.monotonic() > deadline:
            raise SystemExit(f"the server was not ready within {READY_DEADLINE:.0f} s")
        with contextlib.suppress(OSError, ValueError, asyncio.IncompleteReadError):
            status, _ = await http.exchange(get(http.port, "/readyz"))
            if status == 200 and (ready is None or await ready(http)):
                return
        await asyncio.sleep(0.2)


@dataclass
class Result:
    """One request or call: when it was due, when it went out, when it was answered."""

    label: str
    scheduled: float
    started: float
    done: float
    ok: bool
    error: str = ""

    @property
    def latency(self) -> float:
        return self.done - self.scheduled

    @property
    def lag(self) -> float:
        return self.started - self.scheduled


Picker = Callable[[random.Random], tuple[str, bytes]]  # -> (label, raw request)
Check = Callable[[str, int, bytes], str]  # (label, status, body) -> what is wrong, or ""


async def _one(
    http: Http, check: Check, label: str, raw: bytes, scheduled: float, out: list[Result]
) -> None:
    # perf_counter, not loop.time(): uvloop's clock is cached per loop turn, in ms.
    started = time.perf_counter()
    try:
        status, body = await http.exchange(raw)
        error = check(label, status, body)
    except (OSError, ValueError, KeyError, TypeError, asyncio.IncompleteReadError) as exc:
        error = type(exc).__name__
    out.append(Result(label, scheduled, started, time.perf_counter(), not error, error))


async def open_loop(
    http: Http, pick: Picker, check: Check, rate: float, seconds: float, seed: int
) -> list[Result]:
    """Send at fixed intervals regardless of answers; latency from the scheduled time.
    Requests unanswered GRACE_SECONDS after the last send count as errors."""
    loop = asyncio.get_running_loop()
    rng = random.Random(seed)
    interval = 1.0 / rate
    out: list[Result] = []
    pending: list[tuple[asyncio.Task[None], str, float]] = []
    start = time.perf_counter() + 0.005
    for i in range(max(1, round(rate * seconds))):
        scheduled = start + i * interval
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        label, raw = pick(rng)
        task = loop.create_task(_one(http, check, label, raw, scheduled, out))
        pending.append((task, label, scheduled))
    _, late = await asyncio.wait([t for t, _, _ in pending], timeout=GRACE_SECONDS)
    now = time.perf_counter()
    for task, label, scheduled in pending:
        if task in late:
            task.cancel()
            out.append(Result(label, scheduled, scheduled, now, False, "no answer in time"))
    return out


def paced(name: str, work: Callable[[int], object], rate: float, seconds: float) -> list[Result]:
    """Call ``work(i)`` every 1/rate s from this thread; latency from the scheduled time.
    A falsy answer or an exception is an error."""
    interval = 1.0 / rate
    out = []
    start = time.perf_counter() + 0.005
    for i in range(max(1, round(rate * seconds))):
        scheduled = start + i * interval
        delay = scheduled - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        started = time.perf_counter()
        error = ""
        try:
            if not work(i):
                error = "unexpected answer"
        except Exception as exc:
            error = type(exc).__name__
        out.append(Result(name, scheduled, started, time.perf_counter(), not error, error))
    return out
