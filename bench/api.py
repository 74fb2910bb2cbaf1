"""API benchmark (bench/RESULTS.md#targets): GraphQL read latency at a fixed request rate.

Usage::

    .venv/bin/python bench/api.py [--seconds 20] [--rate 200] [--warmup 3] [--rng-seed 7]
        [--heap 1g] [--inprocess 500] [--no-store] [--peers] [--quiet-timeout 300]
        [--profile DIR] [--profile-seconds 15] [--profile-rate 40]

Targets: ``reputation`` p99 <= 25 ms and ``leaderboard(first: 100)`` p99 <= 50 ms at
200 requests/s. Steps, all in one run:

1. a fresh embedded ArcadeDB in a temporary directory (owned by this process), the
   services over it (``running_services``) and the demo network loaded into it with
   ``load_demo`` (ingest + weekly snapshots);
2. the real server, ``graphsvc serve --port P``, in a subprocess on 127.0.0.1, pointed
   at that store over Bolt (``GRAPHSVC_NEO4J_URI``) with background recomputes off
   (``GRAPHSVC_SCORE_INTERVAL=0``), so nothing but the load runs in it. uvicorn runs as
   ``serve`` configures it (uvloop + httptools, access log at info, to a file);
3. an open-loop load generator in this process (``bench/harness.py``: raw asyncio
   HTTP/1.1 over keep-alive connections, uvloop when installed): requests are scheduled
   every 1/rate s whatever the answers do, and each latency runs from the *scheduled*
   send time to the last byte of the answer, so a stalled server or a late client shows
   up in the figures instead of being hidden (no coordinated omission). A connection is
   opened when none is idle. Every answer is checked (HTTP 200, no GraphQL errors,
   non-null data); requests unanswered 10 s after the last send count as errors.
   Percentiles cover every request, errors included; a target is met only with no errors.

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

The server answers repeated documents from its answer cache (issue 23: computed once per
snapshot). ``--peers`` adds, in the same run: the same scenarios on a second server over
the same store with the cache off (``GRAPHSVC_ANSWER_CACHE_BYTES=0``, the uncached path),
and the floor: a bare Starlette endpoint (``bench/harness/floor_app.py``, its own uvicorn
process, no access log) answering the leaderboard page as JSON from the same table.

Store floors (from this process, the same driver and store code as the server, paced at
the same rate from one thread, latency from the scheduled time too): the cheapest Bolt
read, one ``Entity`` node by its indexed id; the store read behind ``entity`` when the
process cache misses (``AttributionService.entities``: 1 id for reputation, 100 ids for
a leaderboard page); and the newest-snapshot check the read path makes once every 2 s
per process (``store.snapshots.latest_snapshot``).

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
import json
import math
import random
import shutil
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from harness.accounting import Usage
from harness.load import Http, Picker, Result, get, open_loop, paced, post_graphql, wait_ready
from harness.processes import (
    Server,
    add_process_options,
    find_jvm,
    server_process,
    settle,
    wait_quiet,
)
from harness.report import LatencyRow, percentile, progress, table

from graphsvc.api.context import Context
from graphsvc.api.schema import build_schema
from graphsvc.demo.load import load_demo
from graphsvc.domain import EntityKind
from graphsvc.services import Services, running_services
from graphsvc.settings import Settings
from graphsvc.store.connect import open_store
from graphsvc.store.graph_store import GraphStore
from graphsvc.store.snapshots import latest_snapshot

INITIAL_CONNECTIONS = 16
MIXED_REPUTATION_SHARE = 0.75
TARGETS_MS = {"reputation": 25.0, "leaderboard": 50.0}

REPUTATION = (
    "query Reputation($id: ID!) { reputation(id: $id) { score rank percentile faultRate "
    "confidence entity { id name kind } breakdown { incomingOtherShare "
    "incoming { channel share entity { id name } } faults { cause weight entity { id } } } } }"
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
# The store floor: one node by its indexed id, the cheapest read there is.
ENTITY_NODE = "MATCH (e:Entity {id: $id}) RETURN e"


@dataclass
class Run:
    scenario: str
    rate: float
    results: list[Result]
    usage: Usage
    # Until the server was idle again: what every request cost it, answered in time or not.
    drained: Usage | None = None

    @property
    def requests(self) -> int:
        return len(self.results)


# ----------------------------------------------------------------------------- answers


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


async def scored(http: Http) -> bool:
    """Whether the server answers with a non-empty leaderboard."""
    status, body = await http.exchange(post_graphql(http.port, READY_PROBE))
    data = graphql_data(status, body)
    return bool(data and data["leaderboard"]["totalCount"] > 0)


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


# ----------------------------------------------------------------------------- HTTP load


@dataclass
class Scenario:
    name: str
    pick: Picker
    labels: list[str] = field(default_factory=list)


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


def uncached_scenarios(port: int, ids: list[str]) -> list[Scenario]:
    """The same documents on a server whose answer cache is off: computed every time."""
    return [
        Scenario(f"uncached: {s.name}", s.pick, s.labels)
        for s in scenarios(port, ids)
        if s.name != "healthz"
    ]


def floor_scenarios(port: int) -> list[Scenario]:
    page = get(port, "/leaderboard")
    return [Scenario("floor: leaderboard, bare Starlette", lambda rng: ("leaderboard", page))]


async def http_phase(
    args: argparse.Namespace, server: Server, jvm: int | None
) -> tuple[list[Run], list[str]]:
    http = Http(server.port)
    await wait_ready(http, server, scored)
    ids = await scored_ids(http)
    await http.close()
    return await load_phase(args, server, scenarios(server.port, ids), jvm, 0), ids


async def load_phase(
    args: argparse.Namespace, server: Server, cases: list[Scenario], jvm: int | None, first: int
) -> list[Run]:
    """Each scenario at the fixed rate against ``server``, after its warm-up."""
    http = Http(server.port)
    await wait_ready(http, server)
    await http.prime(INITIAL_CONNECTIONS)
    runs = []
    for number, scenario in enumerate(cases, start=first):
        seed = args.rng_seed * 1000 + number
        settle(server.pid)
        wait_quiet(server.pid, jvm, args.quiet_timeout)
        await open_loop(http, scenario.pick, problem, args.rate, args.warmup, seed + 500)
        before = Usage.now(server.pid, jvm)
        results = await open_loop(http, scenario.pick, problem, args.rate, args.seconds, seed)
        usage = Usage.now(server.pid, jvm).since(before)
        settle(server.pid)  # an overloaded server still works off its backlog
        drained = Usage.now(server.pid, jvm).since(before)
        runs.append(Run(scenario.name, args.rate, results, usage, drained))
        progress(f"{scenario.name}: {len(results)} requests")
    await http.close()
    return runs


async def peers_phase(
    args: argparse.Namespace, store: GraphStore, data: Path, ids: list[str], jvm: int | None
) -> list[Run]:
    """The uncached path (a second server, answer cache off) and the floor (a bare
    Starlette endpoint), over the same store, one after the other."""
    runs: list[Run] = []
    for name, command, settings in [
        ("uncached", None, {"GRAPHSVC_ANSWER_CACHE_BYTES": "0"}),
        ("floor", [sys.executable, str(Path(__file__).parent / "harness" / "floor_app.py")], {}),
    ]:
        folder = data / name
        folder.mkdir()
        with server_process(store.endpoint, folder, command, **settings) as server:
            progress(f"{name} server pid {server.pid} on port {server.port}")
            cases = (
                uncached_scenarios(server.port, ids)
                if command is None
                else floor_scenarios(server.port)
            )
            runs += await load_phase(args, server, cases, jvm, 100 * len(runs) + 100)
    return runs


# ----------------------------------------------------------------------------- store floors


def store_phase(
    args: argparse.Namespace,
    store: GraphStore,
    services: Services,
    ids: list[str],
    server: int,
    jvm: int | None,
) -> list[Run]:
    view = services.reputation.view()
    assert view is not None
    rng = random.Random(args.rng_seed)
    page = [row.entity for row in view.leaderboard(EntityKind.NODE, size=100).rows]
    picks = [rng.randrange(len(ids)) for _ in range(round(args.rate * (args.seconds + 5)) + 1)]
    entities = services.attribution.entities  # reads the store every time (fills the cache)
    cases: list[tuple[str, Callable[[int], object]]] = [
        ("store: 1 Entity node by id", lambda i: store.read(ENTITY_NODE, id=ids[picks[i]])),
        ("store: entities, 1 id", lambda i: entities([ids[picks[i]]])),
        ("store: entities, 100 ids", lambda i: len(entities(page)) == len(page)),
        ("store: latest snapshot", lambda i: latest_snapshot(store)),
    ]
    runs = []
    for name, work in cases:
        wait_quiet(server, jvm, args.quiet_timeout)
        paced(name, work, args.rate, min(args.warmup, 2.0))
        before = Usage.now(server, jvm)
        results = paced(name, work, args.rate, args.seconds / 2)
        runs.append(Run(name, args.rate, results, Usage.now(server, jvm).since(before)))
        progress(f"{name}: {len(results)} reads")
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
    args: argparse.Namespace, server: Server, ids: list[str], folder: Path
) -> list[tuple[str, Path, int]]:
    py_spy = Path(sys.executable).parent / "py-spy"
    if not py_spy.exists():
        found = shutil.which("py-spy")
        if found is None:
            raise SystemExit("--profile needs py-spy (.venv/bin/pip install py-spy)")
        py_spy = Path(found)
    folder.mkdir(parents=True, exist_ok=True)
    http = Http(server.port)
    await http.prime(INITIAL_CONNECTIONS)
    chosen = {s.name: s for s in scenarios(server.port, ids)}
    out = []
    for name in ("reputation", "leaderboard"):
        path = folder / f"{name}.txt"
        seconds = args.profile_seconds
        recorder = await asyncio.create_subprocess_exec(
            str(py_spy), "record", "--pid", str(server.pid), "--rate", "250", "--format", "raw",
            "--gil", "--nonblocking", "--duration", str(math.ceil(seconds) + 2),
            "--output", str(path),
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        settle(server.pid)
        wait_quiet(server.pid, None, args.quiet_timeout)
        pick = chosen[name].pick
        results = await open_loop(
            http, pick, problem, args.profile_rate, seconds, args.rng_seed + 77
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
    ("SnapshotReader.view (", "worker thread: reputation.view"),
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
    table(
        ["where", "ms / request", "share"],
        (
            [category, f"{count * per_request:.2f}", f"{100 * count / total:.0f} %"]
            for category, count in categories.most_common()
        ),
    )
    print("\nHeaviest frames (inclusive, wrappers present in every busy stack left out):\n")
    heaviest = [(f, c) for f, c in inclusive.most_common() if c < 0.97 * total][:30]
    table(
        ["ms / request", "share", "function"],
        (
            [f"{count * per_request:.2f}", f"{100 * count / total:.0f} %", f"`{frame}`"]
            for frame, count in heaviest
        ),
    )


def _short(frame: str) -> str:
    name, _, where = frame.partition(" (")
    where = where.rstrip(")")
    for prefix in ("site-packages/", "lib/python3.11/", "/work/main/"):
        if prefix in where:
            where = where.split(prefix, 1)[1]
    return f"{name} ({where})" if where else name


# ----------------------------------------------------------------------------- report


def latency_rows(http_runs: list[Run], store_runs: list[Run]) -> list[LatencyRow]:
    rows = []
    for run in http_runs:
        grouped: dict[str, list[Result]] = defaultdict(list)
        for r in run.results:
            grouped[r.label].append(r)
        for label, results in grouped.items():
            name = run.scenario if len(grouped) == 1 else f"{run.scenario}: {label}"
            rate = run.rate * len(results) / len(run.results)
            rows.append(LatencyRow.of(name, rate, results, TARGETS_MS.get(label)))
    for run in store_runs:
        rows.append(LatencyRow.of(run.scenario, run.rate, run.results, None))
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
    table(
        [
            "scenario", "rate /s", "achieved /s", "requests", "errors", "p50 ms", "p90 ms",
            "p99 ms", "max ms", "client lag p99 ms", "p50 / healthz", "p99 / healthz",
            "p99 target", "met",
        ],
        (
            [
                r.name, f"{r.rate:.0f}", f"{r.achieved:.1f}", r.n, r.errors, f"{r.p50:.2f}",
                f"{r.p90:.2f}", f"{r.p99:.2f}", f"{r.max:.2f}", f"{r.lag99:.2f}",
                f"{r.p50 / floor.p50:.1f}x", f"{r.p99 / floor.p99:.1f}x",
                "" if r.target is None else f"<= {r.target:g} ms", r.met,
            ]
            for r in rows
        ),
    )  # fmt: skip
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
    cpu_rows = []
    for run in http_runs + store_runs:
        u, d, n = run.usage, run.drained or run.usage, run.requests
        served = run in http_runs
        cpu_rows.append(
            [
                run.scenario, f"{u.percent(u.client):.0f}", f"{1e3 * u.client / n:.2f}",
                f"{u.percent(u.server):.0f}", f"{1e3 * d.server / n:.2f}" if served else "-",
                f"{u.percent(u.jvm):.0f}", f"{1e3 * d.jvm / n:.2f}",
                f"{u.percent(u.others):.0f}",
                f"{n / d.server:.0f}" if served and d.server > 0 else "-",
            ]
        )  # fmt: skip
    table(
        [
            "scenario", "client %", "client ms / request", "server %", "server ms / request",
            "JVM %", "JVM ms / request", "other %", "server capacity /s",
        ],
        cpu_rows,
    )  # fmt: skip
    if inprocess:
        print(
            "\nIn-process `schema.execute` (this process, no HTTP, one at a time, "
            f"{len(inprocess[0][1])} runs each after warm-up):\n"
        )
        table(
            ["document", "mean ms", "p50 ms", "p99 ms"],
            (
                [
                    name, f"{sum(times) / len(times):.2f}", f"{percentile(times, 0.5):.2f}",
                    f"{percentile(times, 0.99):.2f}",
                ]
                for name, times in inprocess
            ),
        )  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="measured s per scenario")
    parser.add_argument("--rate", type=float, default=200.0, help="requests per second")
    parser.add_argument("--warmup", type=float, default=3.0, help="discarded s per scenario")
    parser.add_argument("--rng-seed", type=int, default=7, help="seed of the request picks")
    parser.add_argument("--inprocess", type=int, default=500, help="schema.execute runs (0: off)")
    parser.add_argument("--no-store", action="store_true", help="skip the store floors")
    parser.add_argument(
        "--peers",
        action="store_true",
        help="also the uncached path (answer cache off) and the bare-Starlette floor",
    )
    add_process_options(parser, quiet_timeout=300.0)
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
    settings = Settings(data=data / "store", score_interval=0, embedded_heap=args.heap)
    jvm_root = settings.data.resolve() / "arcadedb"
    profiles: list[tuple[str, Path, int]] = []
    try:
        # The store is opened here, not by running_services, because the server
        # subprocess needs its endpoint and the store floors read it directly.
        with open_store(settings) as store, running_services(settings, store=store) as services:
            jvm = find_jvm(jvm_root)
            progress(f"store up (JVM pid {jvm}); loading the demo network")
            started = time.perf_counter()
            load_demo(services, progress=False)
            demo_seconds = time.perf_counter() - started
            with server_process(store.endpoint, data) as server:
                progress(f"server pid {server.pid} on port {server.port}")
                http_runs, ids = asyncio.run(http_phase(args, server, jvm))
                if args.peers:
                    http_runs += asyncio.run(peers_phase(args, store, data, ids, jvm))
                store_runs = (
                    []
                    if args.no_store
                    else store_phase(args, store, services, ids, server.pid, jvm)
                )
                wait_quiet(server.pid, jvm, args.quiet_timeout if args.inprocess else 0)
                inprocess = (
                    asyncio.run(inprocess_phase(services, ids, args.inprocess, args.rng_seed))
                    if args.inprocess
                    else []
                )
                print_report(args, http_runs, store_runs, inprocess, demo_seconds, len(ids))
                if args.profile:
                    profiles = asyncio.run(profile_phase(args, server, ids, args.profile))
            for name, path, requests in profiles:
                summarise_profile(name, path, requests, args.profile_seconds)
    finally:
        shutil.rmtree(data, ignore_errors=True)
    left = find_jvm(jvm_root)
    print(f"\nJVM after the run: {'still running, pid ' + str(left) if left else 'none left'}")


if __name__ == "__main__":
    main()
