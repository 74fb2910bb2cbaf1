"""Evidence-log benchmark (docs/auditors.md): ingest with and without the log, side by
side, and proof latency at a log of 1M leaves.

Usage::

    .venv/bin/python bench/log.py [--receipts 5000] [--rounds 3] [--batch 1000]
        [--warmup 10000] [--leaves 1000000] [--proofs 2000] [--heap 1g]

Ingest: the demo network's records (``graphsvc.demo``, signed before anything is timed)
into one fresh embedded ArcadeDB, through ``Ingestor.submit`` in batches of
``--batch``, as ``bench/ingest.py``'s ``submit`` case. ``--rounds`` rounds each ingest
one slice with the log and one without, in alternating order (with first in odd
rounds), so drift of the shared machine hits both alike; the checkpoint publisher runs
during the cases with the log (it integrates each second, as a server does). "Without"
is the same write path with the log's additions taken out: no leaf hash per record, no
leaf index on the record, no batch entries node, the ingest counter bumped as before the
log (the receipt statements' one lookup of the counter node stays).

Proofs: a tree of ``--leaves`` random leaf hashes is built through the log's own
``HashFiles`` (appended 1,000 at a time, as batches are) in a temporary directory, not by
ingesting 1M signed receipts (about an hour on this machine); then ``--proofs`` inclusion
proofs (random leaf, full tree), consistency proofs (random older size) and tile reads
are timed, each checked by the verifier's code (untimed).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness.accounting import Usage
from harness.network import cut, receipts_in, scaled_params, setup_and_stream
from harness.processes import settle
from harness.report import progress, table
from ingest import expect_accepted, run_submit

from graphsvc.demo import NetworkParams, generate
from graphsvc.domain.batch import WritePlan
from graphsvc.ingest import resolution
from graphsvc.services import Services, running_services
from graphsvc.settings import Settings
from graphsvc.store import cypher, ingest_state
from graphsvc.store.embedded import EmbeddedArcadeDB
from graphsvc.store.graph_store import GraphStore
from graphsvc.tlog.hash_files import HashFiles
from graphsvc.tlog.merkle import CompactRange
from graphsvc.tlog.proofs import verify_consistency, verify_inclusion
from graphsvc.tlog.prove import consistency_proof, inclusion_proof, range_hash
from graphsvc.tlog.tiles import TILE_WIDTH

DAY_MS = 86_400_000
# What BUMP_INGEST_COUNTER adds for the log: without it, the counter is bumped as before.
_LOG_COUNTER_LINES = (
    "WITH m, coalesce(m.leaves, 0) AS base\nSET m.log_base = base, m.leaves = base + $accepted\n"
)


@contextmanager
def log_taken_out() -> Iterator[None]:
    """The ingest write path as it was before the log (see the module's docstring)."""
    saved = (
        resolution.record_leaf_hash,
        WritePlan.log,
        ingest_state._statements,
        cypher.BUMP_INGEST_COUNTER,
    )
    statements = ingest_state._statements
    assert _LOG_COUNTER_LINES in cypher.BUMP_INGEST_COUNTER

    def without_entries(*args: object) -> list[object]:
        return [s for s in statements(*args) if s.query != cypher.CREATE_LOG_ENTRIES]  # type: ignore[arg-type]

    resolution.record_leaf_hash = lambda record: b""  # type: ignore[assignment]
    WritePlan.log = lambda self, record_id, leaf_hash: None  # type: ignore[assignment,method-assign,return-value]
    ingest_state._statements = without_entries  # type: ignore[assignment]
    cypher.BUMP_INGEST_COUNTER = cypher.BUMP_INGEST_COUNTER.replace(_LOG_COUNTER_LINES, "")
    try:
        yield
    finally:
        (
            resolution.record_leaf_hash,
            WritePlan.log,
            ingest_state._statements,
            cypher.BUMP_INGEST_COUNTER,
        ) = saved  # type: ignore[assignment]


def ingest_rounds(args: argparse.Namespace) -> list[tuple[str, int, Usage]]:
    cases = [("with", "without") if r % 2 == 0 else ("without", "with") for r in range(args.rounds)]
    quotas = [args.warmup] + [args.receipts] * (2 * args.rounds)
    params = scaled_params(sum(quotas), NetworkParams().rng_seed)
    started = time.perf_counter()
    network = generate(params)
    setup, stream = setup_and_stream(network.records)
    slices = cut(stream, quotas)
    progress(f"signed {len(network.records):,} records in {time.perf_counter() - started:.0f} s")
    now = params.end_ms + DAY_MS
    settings = Settings(score_interval=0, log_interval=1.0)
    timings: list[tuple[str, int, Usage]] = []
    with (
        tempfile.TemporaryDirectory(prefix="graphsvc-bench-log-") as tmp,
        EmbeddedArcadeDB(Path(tmp) / "data", heap=args.heap) as server,
        GraphStore(server.endpoint) as store,
        running_services(
            settings, store=store, clock=lambda: now, log_dir=Path(tmp) / "log"
        ) as services,
    ):
        expect_accepted(services.ingestor.submit(setup), len(setup))
        with log_taken_out():
            run_submit(services.ingestor, slices[0], args.batch)  # JIT warm-up, untimed
        for number, order in enumerate(cases):
            for position, case in enumerate(order):
                records = slices[1 + 2 * number + position]
                settle(server.pid, deadline=60)
                usage = _timed(services, case, records, args.batch, server.pid)
                timings.append((case, receipts_in(records), usage))
                rate = receipts_in(records) / usage.wall
                progress(f"round {number + 1} {case}: {rate:,.0f} receipts/s")
    return timings


def _timed(
    services: Services, case: str, records: list[dict[str, object]], batch: int, jvm: int | None
) -> Usage:
    """Wall time and the CPU of this process and the JVM while ``records`` go in."""
    if case == "without":
        with log_taken_out():
            started = Usage.now(None, jvm)
            run_submit(services.ingestor, records, batch)
            return Usage.now(None, jvm).since(started)
    with services.publisher:
        started = Usage.now(None, jvm)
        run_submit(services.ingestor, records, batch)
        return Usage.now(None, jvm).since(started)


def proof_latency(args: argparse.Namespace) -> list[list[str]]:
    rng = random.Random(20261202)
    with tempfile.TemporaryDirectory(prefix="graphsvc-bench-tree-") as tmp:
        files = HashFiles(Path(tmp))
        reference = CompactRange()
        started = time.perf_counter()
        for first in range(0, args.leaves, 1_000):
            leaves = [rng.randbytes(32) for _ in range(min(1_000, args.leaves - first))]
            files.append(leaves)
            reference.extend(leaves)
        build = time.perf_counter() - started
        size = files.size
        root = range_hash(files, 0, size)
        assert root == reference.root()
        on_disk = sum(p.stat().st_size for p in Path(tmp).iterdir())
        progress(f"built {size:,} leaves in {build:.1f} s ({on_disk / 1e6:.1f} MB of hash files)")
        rows = [["build (append, 1,000 a time)", f"{size / build:,.0f} leaves/s", "", ""]]

        def timed(name: str, work: Callable[[], Callable[[], None]]) -> None:
            seconds = []
            for _ in range(args.proofs):
                check = None
                started = time.perf_counter()
                check = work()
                seconds.append(time.perf_counter() - started)
                check()  # verified with the verifier's code, untimed
            seconds.sort()
            rows.append(
                [
                    name,
                    f"{statistics.median(seconds) * 1e6:,.0f}",
                    f"{seconds[int(0.99 * len(seconds))] * 1e6:,.0f}",
                    f"{seconds[-1] * 1e6:,.0f}",
                ]
            )

        def inclusion() -> Callable[[], None]:
            index = rng.randrange(size)
            path = inclusion_proof(files, index, size)
            leaf = files.read(0, index, 1)
            return lambda: verify_inclusion(index, size, leaf, path, root)

        older_roots: dict[int, bytes] = {}

        def consistency() -> Callable[[], None]:
            older = rng.randrange(1, size)
            proof = consistency_proof(files, older, size)

            def check() -> None:
                old_root = older_roots.get(older) or range_hash(files, 0, older)
                verify_consistency(older, size, old_root, root, proof)

            return check

        def tile() -> Callable[[], None]:
            index = rng.randrange(size // TILE_WIDTH)
            data = files.read(0, index * TILE_WIDTH, TILE_WIDTH)
            return lambda: None if len(data) == TILE_WIDTH * 32 else sys.exit("short tile")

        timed("inclusion proof (random leaf, full tree)", inclusion)
        timed("consistency proof (random older size)", consistency)
        timed("level-0 tile read", tile)
        files.close()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--receipts", type=int, default=5_000, help="receipts per case")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch", type=int, default=1_000)
    parser.add_argument("--warmup", type=int, default=10_000)
    parser.add_argument("--leaves", type=int, default=1_000_000)
    parser.add_argument("--proofs", type=int, default=2_000)
    parser.add_argument("--heap", default="1g")
    parser.add_argument("--skip-ingest", action="store_true")
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    if not args.skip_ingest:
        timings = ingest_rounds(args)
        rows = []
        for case in ("with", "without"):
            mine = [(r, u) for c, r, u in timings if c == case]
            receipts = sum(r for r, _ in mine)
            wall = sum(u.wall for _, u in mine)
            client = sum(u.client for _, u in mine)
            jvm = sum(u.jvm for _, u in mine)
            rows.append(
                [
                    case,
                    f"{receipts / wall:,.0f}",
                    ", ".join(f"{r / u.wall:,.0f}" for r, u in mine),
                    f"{client / receipts * 1e6:,.0f}",
                    f"{jvm / receipts * 1e6:,.0f}",
                    f"{(client + jvm) / receipts * 1e6:,.0f}",
                ]
            )
        print()
        print(
            f"receipts={args.receipts} per case, rounds={args.rounds}, batch={args.batch}, "
            f"warmup={args.warmup}; load average {load_before:.2f} before (2 cores)"
        )
        columns = ["ingest", "receipts/s", "each round", "python µs/receipt", "JVM µs/receipt"]
        table([*columns, "CPU µs/receipt"], rows)
        with_wall, without_wall = (float(r[1].replace(",", "")) for r in rows)
        with_cpu, without_cpu = (float(r[5].replace(",", "")) for r in rows)
        print(
            f"with the log: {with_wall / without_wall - 1:+.1%} receipts/s (wall, all rounds), "
            f"{with_cpu / without_cpu - 1:+.1%} CPU per receipt (python + JVM)"
        )
    print()
    print(f"leaves={args.leaves} proofs={args.proofs}")
    table(["proof latency", "p50 µs", "p99 µs", "max µs"], proof_latency(args))


if __name__ == "__main__":
    main()
