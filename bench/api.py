"""API benchmark (DESIGN §6): GraphQL read latency at a fixed request rate.

Usage::

    .venv/bin/python bench/api.py [--seconds 20] [--rate 200] [--warmup 3] [--seed 7]
                                  [--heap 1g] [--profile DIR] [--profile-seconds 15]

Targets: ``reputation`` p99 <= 25 ms and ``leaderboard(first: 100)`` p99 <= 50 ms at
200 requests/s. Steps, all in one run:

1. a fresh embedded ArcadeDB in a temporary directory (owned by this process), the
   demo network loaded into it with ``load_demo`` (ingest + weekly snapshots);
2. the real server, ``graphsvc serve --port P``, in a subprocess on 127.0.0.1, pointed
   at that store over Bolt (``GRAPHSVC_NEO4J_URI``) with background recomputes off
   (``GRAPHSVC_SCORE_INTERVAL=0``), so nothing but the load runs in it. uvicorn runs as
   ``serve`` configures it (uvloop + httptools, access log at info, to a file);
3. an open-loop load generator in this process (raw asyncio HTTP/1.1 over keep-alive
   connections, uvloop when installed): requests are scheduled every 1/rate s whatever
   the answers do, and each latency runs from the *scheduled* send time to the last
   byte of the answer, so a stalled server or a late client shows up in the figures
   instead of being hidden (no coordinated omission). A connection is opened when
   none is idle. Every answer is checked (HTTP 200, no GraphQL errors, non-null data);
   requests unanswered 10 s after the last send count as errors. Percentiles cover
   every request, errors included; a target is met only with no errors.

Scenarios (each after ``--warmup`` s of the same load, discarded):

- ``healthz``: ``GET /healthz`` through the same server: the HTTP + uvicorn +
  Starlette-middleware floor, the peer of the ratio columns;
- ``graphql __typename``: ``{ __typename }``: the GraphQL floor (strawberry parse,
  validate, the four security extensions, execute; no resolver work);
- ``reputation``: one random scored entity (ids from every kind's leaderboard) with
  score, rank, percentile, faultRate, confidence, breakdown and entity { id name kind };
- ``leaderboard``: ``leaderboard(kind: NODE, first: 100)`` with rank, score, entity
  { id name } and pageInfo { endCursor };
- ``mixed``: 75 % reputation / 25 % leaderboard at the same total rate.

Store floors (from this process, same driver and session-per-read code as the server,
paced at the same rate from one thread, latency from the scheduled time too): a Bolt
read of one ``Score`` row by its unique id; the ``ENTITIES_INFO`` read the API makes
for ``entity`` (1 id for reputation, 100 ids for a leaderboard page); and
``LATEST_SNAPSHOT``, which the read path runs once every 2 s per process.

In-process execution: ``schema.execute`` of the same documents in this process (no
HTTP, closed loop, one at a time): the GraphQL + resolver + store service time.

The load generator shares the machine's 2 cores with the server and the JVM: the CPU
table gives each one's use (percent of one core) during each scenario, and ``other``
is everything else on the machine in that time (other users' jobs), from /proc/stat.

Before each scenario the bench waits until the server is idle, so a backlog left by an
overloaded scenario does not spill into the next one, and (up to ``--quiet-timeout`` s)
until other jobs on the shared machine use under a quarter of a core.

``--profile DIR`` then records the server with ``py-spy record --gil --nonblocking``
under reputation and leaderboard load at ``--profile-rate`` (one it sustains, so the
profile shows the cost of a request rather than a queue): only the thread holding the
GIL is sampled, i.e. the Python work that bounds one uvicorn process. Raw collapsed
stacks go to DIR and are summarised here per request.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ctypes
import json
import math
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from graphsvc.api.context import Context, Services
from graphsvc.api.schema import build_schema
from graphsvc.demo import load_demo
from graphsvc.domain import EntityKind
from graphsvc.service import running_services
from graphsvc.settings import Settings
from graphsvc.store import cypher, snapshots

HOST = "127.0.0.1"
GRACE_SECONDS = 10.0
READY_DEADLINE = 180.0
INITIAL_CONNECTIONS = 16
MAX_CONNECTIONS = 512
KEEPALIVE_EXPIRY = 3.0  # s; uvicorn's keep-alive timeout is 5 s
MIXED_REPUTATION_SHARE = 0.75
OTHERS_LIMIT = 0.25  # of a core: more than this from other jobs and we wait
TARGETS_MS = {"reputation": 25.0, "leaderboard": 50.0}

REPUTATION = (
    "query Reputation($id: ID!) { reputation(id: $id) { score rank percentile faultRate "
    "confidence breakdown entity { id name kind } } }"
)
LEADERBOARD = (
    "{ leaderboard(kind: NODE, first: 100) { items { rank score entity { id name } } "
    "pageInfo { endCursor } } }"
)
TYPENAME = "{ __typename }"
READY_PROBE = "{ leaderboard(kind: NODE, first: 1) { totalCount } }"
IDS_PAGE = (
    "query Ids($kind: EntityKind!, $after: String) { leaderboard(kind: $kind, first: 500, "
    "after: $after) { items { entity { id } } pageInfo { hasNextPage endCursor } } }"
)
SCORE_ROW = f"MATCH (c:Score {{id: $id}}) RETURN {cypher.SCORE_FIELDS}"


# ----------------------------------------------------------------------------- figures


@dataclass
class Result:
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


@dataclass
class Usage:
    """CPU seconds of this process, the server, the JVM, and the whole machine."""

    wall: float
    client: float
    server: float
    jvm: float
    machine: float

    @classmethod
    def now(cls, server_pid: int | None, jvm_pid: int | None) -> Usage:
        return cls(
            time.perf_counter(),
            time.process_time(),
            _proc_cpu(server_pid),
            _proc_cpu(jvm_pid),
            _machine_busy(),
        )

    def since(self, start: Usage) -> Usage:
        return Usage(
            self.wall - start.wall,
            self.client - start.client,
            self.server - start.server,
            self.jvm - start.jvm,
            self.machine - start.machine,
        )


@dataclass
class Run:
    scenario: str
    rate: float
    results: list[Result]
    usage: Usage
    requests: int = 0
    # Until the server was idle again: what every request cost it, answered in time or not.
    drained: Usage | None = None


_TICK = os.sysconf("SC_CLK_TCK")


def _proc_cpu(pid: int | None) -> float:
    if pid is None:
        return 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICK  # utime, stime


def _machine_busy() -> float:
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]  # idle, iowait
    return (sum(values[:8]) - idle) / _TICK


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest rank: the smallest value with at least q of the values at or below it."""
    if not sorted_values:
        return math.nan
    return sorted_values[max(0, math.ceil(q * len(sorted_values)) - 1)]


@dataclass
class Row:
    name: str
    rate: float
    achieved: float
    n: int
    errors: int
    p50: float
    p90: float
    p99: float
    max: float
    lag99: float
    target: float | None = None

    @classmethod
    def of(cls, name: str, rate: float, results: list[Result], target: float | None) -> Row:
        latencies = sorted(r.latency * 1e3 for r in results)
        lags = sorted(r.lag * 1e3 for r in results)
        ok = sum(r.ok for r in results)
        span = max(r.done for r in results) - min(r.scheduled for r in results)
        return cls(
            name,
            rate,
            ok / span if span > 0 else math.nan,
            len(results),
            len(results) - ok,
            percentile(latencies, 0.50),
            percentile(latencies, 0.90),
            percentile(latencies, 0.99),
            latencies[-1],
            percentile(lags, 0.99),
            target,
        )


# ----------------------------------------------------------------------------- HTTP client


@dataclass
class Conn:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    last_used: float = 0.0


class Http:
    """A keep-alive HTTP/1.1 connection pool to one server; no pipelining.

    Connections idle for KEEPALIVE_EXPIRY s are dropped before use: uvicorn closes
    keep-alive connections after 5 idle s, and a request written on one it has just
    closed would fail for a reason that is the client's, not the server's.
    """

    def __init__(self, port: int, max_connections: int = MAX_CONNECTIONS) -> None:
        self.port = port
        self.max_connections = max_connections
        self.opened = 0
        self.idle: list[Conn] = []
        self.waiters: list[asyncio.Future[Conn]] = []

    async def _open(self) -> Conn:
        reader, writer = await asyncio.open_connection(HOST, self.port)
        sock = writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return Conn(reader, writer, time.monotonic())

    async def prime(self, count: int) -> None:
        while self.opened < count:
            self.opened += 1
            self.release(await self._open())

    async def acquire(self) -> Conn:
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
        waiter: asyncio.Future[Conn] = asyncio.get_running_loop().create_future()
        self.waiters.append(waiter)
        return await waiter

    def release(self, conn: Conn) -> None:
        conn.last_used = time.monotonic()
        while self.waiters:
            waiter = self.waiters.pop(0)
            if not waiter.done():
                waiter.set_result(conn)
                return
        self.idle.append(conn)

    def discard(self, conn: Conn) -> None:
        conn.writer.close()
        self.opened -= 1
        if self.waiters:  # someone waits for a connection this one would have served
            asyncio.get_running_loop().create_task(self._replace())

    async def _replace(self) -> None:
        with contextlib.suppress(OSError):
            self.opened += 1
            self.release(await self._open())
            return
        self.opened -= 1

    async def close(self) -> None:
        for conn in self.idle:
            conn.writer.close()
        self.idle.clear()

    async def exchange(self, raw: bytes) -> tuple[int, bytes]:
        conn = await self.acquire()
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
            self.discard(conn)
            raise
        if close:
            self.discard(conn)
        else:
            self.release(conn)
        return status, body


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    body = bytearray()
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
        if size == 0:
            await reader.readuntil(b"\r\n")
            return bytes(body)
        body += (await reader.readexactly(size + 2))[:-2]


def post_graphql(port: int, query: str, variables: dict[str, Any] | None = None) -> bytes:
    payload: dict[str, Any] = {"query": query}
    if variables:
        payload["variables"] = variables
    body = json.dumps(payload, separators=(",", ":")).encode()
    head = (
        f"POST /graphql HTTP/1.1\r\nHost: {HOST}:{port}\r\nContent-Type: application/json\r\n"
        f"Accept: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


def get(port: int, path: str) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\n\r\n".encode()


def graphql_data(status: int, body: bytes) -> dict[str, Any] | None:
    if status != 200:
        return None
    answer = json.loads(body)
    if answer.get("errors") or not isinstance(answer.get("data"), dict):
        return None
    data: dict[str, Any] = answer["data"]
    return data


def problem(label: str, status: int, body: bytes) -> str:
    """What is wrong with an answer ('' if nothing)."""
    if status != 200:
        return f"HTTP {status}"
    if label == "healthz":
        return "" if json.loads(body) == {"status": "ok"} else "unexpected body"
    answer = json.loads(body)
    if answer.get("errors"):
        return "GraphQL error: " + str(answer["errors"][0].get("message"))[:80]
    data = answer.get("data") or {}
    if label == "__typename":
        return "" if data.get("__typename") == "Query" else "unexpected data"
    if label == "leaderboard":
        return "" if (data.get("leaderboard") or {}).get("items") else "empty leaderboard"
    return "" if data.get(label) is not None else f"null {label}"


# ----------------------------------------------------------------------------- load


Picker = Callable[[random.Random], tuple[str, bytes]]


@dataclass
class Scenario:
    name: str
    pick: Picker
    labels: list[str] = field(default_factory=list)


async def _one(http: Http, label: str, raw: bytes, scheduled: float, out: list[Result]) -> None:
    # perf_counter, not loop.time(): uvloop's clock is cached per loop turn, in ms.
    started = time.perf_counter()
    try:
        status, body = await http.exchange(raw)
        error = problem(label, status, body)
    except (OSError, ValueError, KeyError, TypeError, asyncio.IncompleteReadError) as exc:
        error = type(exc).__name__
    out.append(Result(label, scheduled, started, time.perf_counter(), not error, error))


async def open_loop(
    http: Http, pick: Picker, rate: float, seconds: float, seed: int
) -> list[Result]:
    """Send at fixed intervals regardless of answers; latency from the scheduled time."""
    loop = asyncio.get_running_loop()
    rng = random.Random(seed)
    count = max(1, round(rate * seconds))
    interval = 1.0 / rate
    out: list[Result] = []
    pending: list[tuple[asyncio.Task[None], str, float]] = []
    start = time.perf_counter() + 0.005
    for i in range(count):
        scheduled = start + i * interval
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        label, raw = pick(rng)
        pending.append((loop.create_task(_one(http, label, raw, scheduled, out)), label, scheduled))
    _, late = await asyncio.wait([t for t, _, _ in pending], timeout=GRACE_SECONDS)
    now = time.perf_counter()
    for task, label, scheduled in pending:
        if task in late:
            task.cancel()
            out.append(Result(label, scheduled, scheduled, now, False, "no answer in time"))
    return out


def _pdeathsig() -> Callable[[], None] | None:
    if not sys.platform.startswith("linux"):
        return None
    libc = ctypes.CDLL(None, use_errno=True)

    def preexec() -> None:
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG: die with this process

    return preexec


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def find_jvm(root: Path) -> int | None:
    """The pid of the ArcadeDB JVM whose root path is ``root``, if it runs."""
    marker = f"-Darcadedb.server.rootPath={root}".encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            args = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if marker in args and any(b"ArcadeDBServer" in a for a in args):
            return int(entry.name)
    return None


@contextlib.contextmanager
def server_process(services: Services, data: Path, port: int) -> Iterator[subprocess.Popen[bytes]]:
    endpoint = services.store.endpoint
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRAPHSVC_")}
    env.update(
        GRAPHSVC_DATA=str(data / "server"),
        GRAPHSVC_NEO4J_URI=endpoint.uri,
        GRAPHSVC_NEO4J_USER=endpoint.user,
        GRAPHSVC_NEO4J_PASSWORD=endpoint.password,
        GRAPHSVC_NEO4J_DATABASE=endpoint.database or "",
        GRAPHSVC_SCORE_INTERVAL="0",
    )
    graphsvc = Path(sys.executable).parent / "graphsvc"
    with (data / "server.log").open("wb") as log:
        proc = subprocess.Popen(
            [str(graphsvc), "serve", "--host", HOST, "--port", str(port)],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=_pdeathsig(),
        )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


async def wait_ready(http: Http, proc: subprocess.Popen[bytes], log: Path) -> None:
    """Poll /readyz, then until the leaderboard has entries; fail past the deadline."""
    deadline = time.monotonic() + READY_DEADLINE
    port = http.port
    while True:
        if proc.poll() is not None:
            tail = log.read_text(errors="replace")[-3000:]
            raise SystemExit(f"the server exited with {proc.returncode}:\n{tail}")
        if time.monotonic() > deadline:
            raise SystemExit(f"the server was not ready within {READY_DEADLINE:.0f} s")
        with contextlib.suppress(OSError, ValueError, asyncio.IncompleteReadError):
            status, _ = await http.exchange(get(port, "/readyz"))
            if status == 200:
                status, body = await http.exchange(post_graphql(port, READY_PROBE))
                data = graphql_data(status, body)
                if data and data["leaderboard"]["totalCount"] > 0:
                    return
        await asyncio.sleep(0.2)


async def settle(pid: int, deadline: float = 120.0) -> None:
    """Wait until the server is idle: a backlog left by an overload must not spill over."""
    until = time.monotonic() + deadline
    while time.monotonic() < until:
        before = _proc_cpu(pid)
        await asyncio.sleep(0.5)
        if _proc_cpu(pid) - before < 0.05:  # under 10 % of a core
            return
    _progress("the server did not settle; going on")


def _others_busy(server: int | None, jvm: int | None, window: float) -> bool:
    """Whether the rest of the machine used over OTHERS_LIMIT of a core in the window."""
    before = Usage.now(server, jvm)
    time.sleep(window)
    d = Usage.now(server, jvm).since(before)
    return d.machine - d.client - d.server - d.jvm > OTHERS_LIMIT * d.wall


def wait_quiet(server: int | None, jvm: int | None, timeout: float) -> None:
    """The machine is shared: wait (up to timeout s) until other jobs leave it alone."""
    if timeout <= 0:
        return
    until = time.monotonic() + timeout
    waited = False
    while _others_busy(server, jvm, 1.0):
        if time.monotonic() > until:
            _progress("other jobs keep the machine busy; measuring anyway (see other %)")
            return
        if not waited:
            _progress("other jobs are using the CPU; waiting for a quiet machine")
            waited = True


async def scored_ids(http: Http) -> list[str]:
    ids: list[str] = []
    for kind in EntityKind:
        after: str | None = None
        while True:
            variables: dict[str, Any] = {"kind": kind.name, "after": after}
            status, body = await http.exchange(post_graphql(http.port, IDS_PAGE, variables))
            data = graphql_data(status, body)
            if data is None:
                raise SystemExit(f"could not list the {kind} leaderboard: {body[:500]!r}")
            page = data["leaderboard"]
            ids.extend(item["entity"]["id"] for item in page["items"])
            if not page["pageInfo"]["hasNextPage"]:
                break
            after = page["pageInfo"]["endCursor"]
    return ids


def scenarios(port: int, ids: list[str]) -> list[Scenario]:
    healthz = get(port, "/healthz")
    typename = post_graphql(port, TYPENAME)
    leaderboard = post_graphql(port, LEADERBOARD)
    reputation = [post_graphql(port, REPUTATION, {"id": i}) for i in ids]

    def pick_reputation(rng: random.Random) -> tuple[str, bytes]:
        return "reputation", rng.choice(reputation)

    def pick_mixed(rng: random.Random) -> tuple[str, bytes]:
        if rng.random() < MIXED_REPUTATION_SHARE:
            return pick_reputation(rng)
        return "leaderboard", leaderboard

    share = round(MIXED_REPUTATION_SHARE * 100)
    return [
        Scenario("healthz", lambda rng: ("healthz", healthz), ["healthz"]),
        Scenario("graphql __typename", lambda rng: ("__typename", typename), ["__typename"]),
        Scenario("reputation", pick_reputation, ["reputation"]),
        Scenario("leaderboard", lambda rng: ("leaderboard", leaderboard), ["leaderboard"]),
        Scenario(f"mixed {share}/{100 - share}", pick_mixed, ["reputation", "leaderboard"]),
    ]


async def http_phase(
    args: argparse.Namespace, port: int, proc: subprocess.Popen[bytes], log: Path, jvm: int | None
) -> tuple[list[Run], list[str]]:
    http = Http(port)
    await wait_ready(http, proc, log)
    ids = await scored_ids(http)
    await http.prime(INITIAL_CONNECTIONS)
    runs = []
    for number, scenario in enumerate(scenarios(port, ids)):
        seed = args.seed * 1000 + number
        await settle(proc.pid)
        wait_quiet(proc.pid, jvm, args.quiet_timeout)
        await open_loop(http, scenario.pick, args.rate, args.warmup, seed + 500)
        before = Usage.now(proc.pid, jvm)
        results = await open_loop(http, scenario.pick, args.rate, args.seconds, seed)
        usage = Usage.now(proc.pid, jvm).since(before)
        await settle(proc.pid)  # an overloaded server still works off its backlog
        drained = Usage.now(proc.pid, jvm).since(before)
        runs.append(Run(scenario.name, args.rate, results, usage, len(results), drained))
        _progress(f"{scenario.name}: {len(results)} requests")
    await http.close()
    return runs, ids


# ----------------------------------------------------------------------------- store floors


def paced(name: str, work: Callable[[int], object], rate: float, seconds: float) -> list[Result]:
    """Call work(i) every 1/rate s from this thread; latency from the scheduled time."""
    count = max(1, round(rate * seconds))
    interval = 1.0 / rate
    out = []
    start = time.perf_counter() + 0.005
    for i in range(count):
        scheduled = start + i * interval
        delay = scheduled - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        started = time.perf_counter()
        error = ""
        try:
            if not work(i):
                error = "unexpected rows"
        except Exception as exc:
            error = type(exc).__name__
        out.append(Result(name, scheduled, started, time.perf_counter(), not error, error))
    return out


def store_phase(
    args: argparse.Namespace, services: Services, ids: list[str], server: int, jvm: int | None
) -> list[Run]:
    store = services.store
    latest = snapshots.latest_snapshot(store)
    assert latest is not None
    rng = random.Random(args.seed)
    score_ids = [f"{latest.id}|{i}" for i in ids]
    one_ids = [[i] for i in ids]
    nodes = store.read(
        "MATCH (c:Score {snapshot: $s, kind: 'node'}) RETURN c.entity AS id "
        "ORDER BY c.rank LIMIT 100",
        s=latest.id,
    )
    page_ids = [r["id"] for r in nodes]
    picks = [rng.randrange(len(ids)) for _ in range(round(args.rate * (args.seconds + 5)) + 1)]
    cases: list[tuple[str, Callable[[int], object]]] = [
        ("bolt: 1 Score row by id", lambda i: store.read(SCORE_ROW, id=score_ids[picks[i]])),
        (
            "bolt: ENTITIES_INFO, 1 id",
            lambda i: store.read(cypher.ENTITIES_INFO, ids=one_ids[picks[i]]),
        ),
        (
            "bolt: ENTITIES_INFO, 100 ids",
            lambda i: len(store.read(cypher.ENTITIES_INFO, ids=page_ids)) == len(page_ids),
        ),
        ("bolt: LATEST_SNAPSHOT", lambda i: store.read(cypher.LATEST_SNAPSHOT)),
    ]
    runs = []
    for name, work in cases:
        wait_quiet(server, jvm, args.quiet_timeout)
        paced(name, work, args.rate, min(args.warmup, 2.0))
        before = Usage.now(server, jvm)
        results = paced(name, work, args.rate, args.seconds / 2)
        usage = Usage.now(server, jvm).since(before)
        runs.append(Run(name, args.rate, results, usage, len(results)))
        _progress(f"{name}: {len(results)} reads")
    return runs


# ----------------------------------------------------------------------------- in process


async def inprocess_phase(
    services: Services, ids: list[str], iterations: int, seed: int
) -> list[tuple[str, list[float]]]:
    schema = build_schema(services.settings)
    rng = random.Random(seed)
    cases: list[tuple[str, str, Callable[[], dict[str, Any] | None]]] = [
        ("__typename", TYPENAME, lambda: None),
        ("reputation", REPUTATION, lambda: {"id": rng.choice(ids)}),
        ("leaderboard", LEADERBOARD, lambda: None),
    ]
    out = []
    for name, query, variables in cases:
        times = []
        for i in range(iterations + iterations // 5):
            started = time.perf_counter()
            result = await schema.execute(
                query, variable_values=variables(), context_value=Context(services)
            )
            elapsed = time.perf_counter() - started
            if result.errors:
                raise SystemExit(f"in-process {name} failed: {result.errors}")
            if i >= iterations // 5:  # the first fifth warms up
                times.append(elapsed * 1e3)
        out.append((name, sorted(times)))
    return out


# ----------------------------------------------------------------------------- profile


async def profile_phase(
    args: argparse.Namespace, port: int, pid: int, ids: list[str], folder: Path
) -> list[tuple[str, Path, int]]:
    py_spy = Path(sys.executable).parent / "py-spy"
    if not py_spy.exists():
        found = shutil.which("py-spy")
        if found is None:
            raise SystemExit("--profile needs py-spy (.venv/bin/pip install py-spy)")
        py_spy = Path(found)
    folder.mkdir(parents=True, exist_ok=True)
    http = Http(port)
    await http.prime(INITIAL_CONNECTIONS)
    chosen = {s.name: s for s in scenarios(port, ids)}
    out = []
    for name in ("reputation", "leaderboard"):
        path = folder / f"{name}.txt"
        seconds = args.profile_seconds
        recorder = await asyncio.create_subprocess_exec(
            str(py_spy), "record", "--pid", str(pid), "--rate", "250", "--format", "raw",
            "--gil", "--nonblocking", "--duration", str(math.ceil(seconds) + 2),
            "--output", str(path),
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        await settle(pid)
        wait_quiet(pid, None, args.quiet_timeout)
        results = await open_loop(
            http, chosen[name].pick, args.profile_rate, seconds, args.seed + 77
        )
        _, err = await recorder.communicate()
        if recorder.returncode != 0 or not path.exists():
            raise SystemExit(f"py-spy failed: {err.decode(errors='replace')[-2000:]}")
        out.append((name, path, len(results)))
    await http.close()
    return out


# Where a sampled stack's time goes: the deepest frame containing one of these names it.
CATEGORIES: list[tuple[str, str]] = [
    ("Runner.run (", "asyncio loop, uvicorn HTTP protocol (httptools)"),
    ("RequestResponseCycle.run_asgi (", "ASGI middleware and routing (Starlette, graphsvc)"),
    ("GraphQL.__call__ (", "strawberry HTTP view: body, context, extensions, response"),
    ("encode_json (", "response JSON encoding"),
    ("_parse_operation_document (", "GraphQL parse"),
    ("_run_validation (", "GraphQL validation"),
    ("Schema._execute_operation (", "GraphQL execution: graphql-core + strawberry"),
    ("Executor.", "GraphQL execution: graphql-core + strawberry"),
    ("graphsvc/api/", "graphsvc resolvers (incl. DataLoader.load)"),
    ("dispatch_batch (", "DataLoader batch dispatch"),
    ("run_in_threadpool (", "thread-pool hand-off (anyio)"),
    ("Logger.", "logging (uvicorn access log)"),
    ("WorkerThread.run (", "worker thread: other"),
    ("ReputationService.view (", "worker thread: reputation.view"),
    ("GraphStore.read (", "worker thread: Bolt read (neo4j driver, record.data())"),
]
IDLE_LEAVES = ("Condition.wait ", "Event.wait ", "Queue.get ", "select ", "epoll")


def summarise_profile(name: str, path: Path, requests: int, seconds: float) -> None:
    """Print where the sampled server threads spent their time (idle waits left out)."""
    categories: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        frames = stack.split(";")
        if frames[-1].startswith(IDLE_LEAVES):
            continue
        count = int(count_text)
        total += count
        category = "other"
        for frame in frames:
            for marker, label in CATEGORIES:
                if marker in frame:
                    category = label
        categories[category] += count
        for frame in set(frames):
            inclusive[_short(frame)] += count
    if not total:
        print(f"\n### py-spy: no active samples under {name} load")
        return
    per_request = 1e3 / 250 / requests
    print(
        f"\n### py-spy: server under {name} load, {requests / seconds:.0f} requests/s "
        f"({requests} requests): {total * per_request:.2f} ms with the GIL per request\n"
    )
    print("| where | ms / request | share |\n|---|---|---|")
    for category, count in categories.most_common():
        print(f"| {category} | {count * per_request:.2f} | {100 * count / total:.0f} % |")
    print("\nHeaviest frames (inclusive, wrappers present in every busy stack left out):\n")
    print("| ms / request | share | function |\n|---|---|---|")
    shown = 0
    for frame, count in inclusive.most_common():
        if count >= 0.97 * total and shown == 0:
            continue
        print(f"| {count * per_request:.2f} | {100 * count / total:.0f} % | `{frame}` |")
        shown += 1
        if shown == 30:
            break


def _short(frame: str) -> str:
    name, _, where = frame.partition(" (")
    where = where.rstrip(")")
    for prefix in ("site-packages/", "lib/python3.11/", "/work/main/"):
        if prefix in where:
            where = where.split(prefix, 1)[1]
    return f"{name} ({where})" if where else name


# ----------------------------------------------------------------------------- report


def _progress(message: str) -> None:
    print(f"[api bench] {message}", file=sys.stderr, flush=True)


def latency_rows(http_runs: list[Run], store_runs: list[Run]) -> list[Row]:
    rows = []
    for run in http_runs:
        grouped: dict[str, list[Result]] = defaultdict(list)
        for r in run.results:
            grouped[r.label].append(r)
        for label, results in grouped.items():
            name = run.scenario if len(grouped) == 1 else f"{run.scenario}: {label}"
            rate = run.rate * len(results) / len(run.results)
            rows.append(Row.of(name, rate, results, TARGETS_MS.get(label)))
    for run in store_runs:
        rows.append(Row.of(run.scenario, run.rate, run.results, None))
    return rows


def print_report(
    args: argparse.Namespace,
    http_runs: list[Run],
    store_runs: list[Run],
    inprocess: list[tuple[str, list[float]]],
    demo_seconds: float,
    entities: int,
) -> None:
    rows = latency_rows(http_runs, store_runs)
    floor = next(r for r in rows if r.name == "healthz")
    print(
        f"\n## API latency: {args.rate:g} requests/s open loop, {args.seconds:g} s per "
        f"scenario ({entities} scored entities; demo loaded in {demo_seconds:.0f} s)\n"
    )
    print(
        "| scenario | rate /s | achieved /s | requests | errors | p50 ms | p90 ms | p99 ms "
        "| max ms | client lag p99 ms | p50 / healthz | p99 / healthz | p99 target | met |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        met = "" if r.target is None else ("yes" if r.p99 <= r.target and not r.errors else "NO")
        target = "" if r.target is None else f"<= {r.target:g} ms"
        print(
            f"| {r.name} | {r.rate:.0f} | {r.achieved:.1f} | {r.n} | {r.errors} | {r.p50:.2f} "
            f"| {r.p90:.2f} | {r.p99:.2f} | {r.max:.2f} | {r.lag99:.2f} "
            f"| {r.p50 / floor.p50:.1f}x | {r.p99 / floor.p99:.1f}x | {target} | {met} |"
        )
    for run in http_runs + store_runs:
        kinds = Counter(r.error for r in run.results if r.error)
        if kinds:
            listed = ", ".join(f"{kind} x{count}" for kind, count in kinds.most_common())
            print(f"\nErrors in {run.scenario}: {listed}")
    print(
        "\nCPU during each scenario, percent of one core (the machine has 2): client = this "
        "process (load generator, or the Bolt reads of the store floors); server = the "
        "uvicorn process; JVM = ArcadeDB; other = the rest of the machine (not ours). The "
        "server and JVM ms / request run until the server is idle again (an overloaded "
        "server works off its backlog after the last send); server capacity = requests per "
        "CPU-second of the server process, about the most one uvicorn process (one event "
        "loop, one GIL) can answer.\n"
    )
    print(
        "| scenario | client % | client ms / request | server % | server ms / request "
        "| JVM % | JVM ms / request | other % | server capacity /s |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for run in http_runs + store_runs:
        u, d = run.usage, run.drained or run.usage
        other = u.machine - u.client - u.server - u.jvm
        http_run = run in http_runs
        capacity = f"{run.requests / d.server:.0f}" if http_run and d.server > 0 else "-"
        print(
            f"| {run.scenario} | {100 * u.client / u.wall:.0f} "
            f"| {1e3 * u.client / run.requests:.2f} | {100 * u.server / u.wall:.0f} "
            f"| {f'{1e3 * d.server / run.requests:.2f}' if http_run else '-'} "
            f"| {100 * u.jvm / u.wall:.0f} "
            f"| {1e3 * d.jvm / run.requests:.2f} | {100 * max(other, 0.0) / u.wall:.0f} "
            f"| {capacity} |"
        )
    if inprocess:
        print(
            "\nIn-process `schema.execute` (this process, no HTTP, one at a time, "
            f"{len(inprocess[0][1])} runs each after warm-up):\n"
        )
        print("| document | mean ms | p50 ms | p99 ms |\n|---|---|---|---|")
        for name, times in inprocess:
            mean = sum(times) / len(times)
            p50, p99 = percentile(times, 0.5), percentile(times, 0.99)
            print(f"| {name} | {mean:.2f} | {p50:.2f} | {p99:.2f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="measured s per scenario")
    parser.add_argument("--rate", type=float, default=200.0, help="requests per second")
    parser.add_argument("--warmup", type=float, default=3.0, help="discarded s per scenario")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--heap", default="1g", help="embedded ArcadeDB heap")
    parser.add_argument("--inprocess", type=int, default=500, help="schema.execute runs (0: off)")
    parser.add_argument("--no-store", action="store_true", help="skip the store floors")
    parser.add_argument(
        "--quiet-timeout",
        type=float,
        default=300.0,
        help="s to wait before each scenario for other jobs to leave the CPU (0: never)",
    )
    parser.add_argument("--profile", type=Path, help="py-spy the server into this folder")
    parser.add_argument("--profile-seconds", type=float, default=15.0)
    parser.add_argument(
        "--profile-rate", type=float, default=40.0, help="a rate the server sustains"
    )
    args = parser.parse_args()
    if args.rate <= 0 or args.seconds <= 0:
        parser.error("--rate and --seconds must be positive")
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass

    data = Path(tempfile.mkdtemp(prefix="graphsvc-api-bench-"))
    store_root = data / "store"
    settings = Settings(data=store_root, score_interval=0, embedded_heap=args.heap)
    profiles: list[tuple[str, Path, int]] = []
    try:
        with running_services(settings) as services:
            jvm = find_jvm(store_root.resolve() / "arcadedb")
            _progress(f"store up (JVM pid {jvm}); loading the demo network")
            started = time.perf_counter()
            load_demo(services, progress=False)
            demo_seconds = time.perf_counter() - started
            port = free_port()
            log = data / "server.log"
            with server_process(services, data, port) as proc:
                _progress(f"server pid {proc.pid} on {HOST}:{port}")
                http_runs, ids = asyncio.run(http_phase(args, port, proc, log, jvm))
                store_runs = (
                    [] if args.no_store else store_phase(args, services, ids, proc.pid, jvm)
                )
                wait_quiet(proc.pid, jvm, args.quiet_timeout if args.inprocess else 0)
                inprocess = (
                    asyncio.run(inprocess_phase(services, ids, args.inprocess, args.seed))
                    if args.inprocess
                    else []
                )
                print_report(args, http_runs, store_runs, inprocess, demo_seconds, len(ids))
                if args.profile:
                    profiles = asyncio.run(profile_phase(args, port, proc.pid, ids, args.profile))
            for name, path, requests in profiles:
                summarise_profile(name, path, requests, args.profile_seconds)
    finally:
        shutil.rmtree(data, ignore_errors=True)
    left = find_jvm(store_root.resolve() / "arcadedb")
    print(f"\nJVM after the run: {'still running, pid ' + str(left) if left else 'none left'}")


if __name__ == "__main__":
    main()
