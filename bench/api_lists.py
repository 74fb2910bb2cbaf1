"""A page of an entity's receipts at network size (issue 11, docs/decisions/0048-keyset-pages.md).

Usage::

    .venv/bin/python bench/api_lists.py [--receipts 1000000] [--busy-share 0.1]
        [--runs 30] [--heap 4g] [--rng-seed 11]

A fresh embedded ArcadeDB in a temporary folder gets ``--receipts`` receipts written
through the store's own write path (``harness.synthetic.receipt_plans``: node 0 signs
``--busy-share`` of them, 99 other nodes the rest, one in ten with witness votes).
Then ``entity(id).receipts`` is executed in this process (``schema.execute``, no HTTP:
``bench/api.py`` measures that layer) ``--runs`` times per case, one at a time:

- the busy node's newest page (20 receipts with verdict, model and requester);
- the same page with ``totalCount``;
- a page from the middle of its list (after a cursor half-way down);
- its page filtered to INVALID receipts, and to one day;
- a small node's newest page;
- the whole walk: every receipt of the busy node in pages of 500 (once).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from harness import synthetic
from harness.report import percentile, progress, table

from graphsvc.api.context import Context
from graphsvc.api.schema import build_schema
from graphsvc.domain import EntityKind
from graphsvc.services import Services, running_services
from graphsvc.settings import Settings
from graphsvc.store.embedded import EmbeddedArcadeDB
from graphsvc.store.graph_store import GraphStore
from graphsvc.store.ingest_state import write_plan

AS_OF = 1_800_000_000_000
PAGE = """query P($id: ID!, $first: Int, $after: String, $filter: ReceiptFilter) {
  entity(id: $id) { receipts(first: $first, after: $after, filter: $filter) {
    pageInfo { hasNextPage endCursor }
    items { id ts verdict model { id } requester { id } } } } }"""
COUNTED = PAGE.replace("pageInfo {", "totalCount pageInfo {")


class Reader:
    def __init__(self, services: Services) -> None:
        self.services = services
        self.schema = build_schema(services.settings)

    def page(self, query: str, **variables: Any) -> tuple[float, dict[str, Any]]:
        started = time.perf_counter()
        result = asyncio.run(
            self.schema.execute(
                query, variable_values=variables, context_value=Context(self.services)
            )
        )
        elapsed = (time.perf_counter() - started) * 1e3
        if result.errors or not result.data:
            raise SystemExit(f"read failed: {result.errors}")
        found: dict[str, Any] = result.data["entity"]["receipts"]
        return elapsed, found


def build(store: GraphStore, args: argparse.Namespace) -> tuple[str, str]:
    """Write the network; the busy node's id and a small node's."""
    rng = np.random.default_rng(args.rng_seed)
    started, written, nodes = time.perf_counter(), 0, []
    for plan in synthetic.receipt_plans(rng, args.receipts, args.busy_share, AS_OF):
        write_plan(store, plan, now_ms=AS_OF, half_life_ms=30 * 86_400_000.0)
        nodes += [row["id"] for row in plan.entities.get(EntityKind.NODE, [])]
        written += len(plan.output_receipts)
        if written and written % 100_000 == 0:
            progress(f"{written:,} receipts written, {time.perf_counter() - started:.0f} s")
    progress(f"{written:,} receipts in {time.perf_counter() - started:.0f} s")
    return nodes[0], nodes[1]  # node 0 signs the busy share


def measure(reader: Reader, busy: str, small: str, runs: int) -> None:
    _, whole = reader.page(COUNTED, id=busy, first=1)
    _, down = reader.page(PAGE, id=busy, first=500)
    day = {"from": "2027-01-14T00:00:00Z", "to": "2027-01-14T23:59:59Z"}
    newest = {"id": busy, "first": 20}
    cases = {
        "newest page (20)": (PAGE, newest),
        "newest page (20) + totalCount": (COUNTED, newest),
        "page after a cursor 500 down": (
            PAGE,
            {**newest, "after": down["pageInfo"]["endCursor"]},
        ),
        "filter: INVALID": (PAGE, {**newest, "filter": {"verdicts": ["INVALID"]}}),
        "filter: one day": (PAGE, {**newest, "filter": day}),
        "small node, newest page (20)": (PAGE, {"id": small, "first": 20}),
    }
    rows = []
    for name, (query, variables) in cases.items():
        reader.page(query, **variables)  # warm
        times = sorted(reader.page(query, **variables)[0] for _ in range(runs))
        rows.append([name, f"{percentile(times, 0.5):.1f}", f"{percentile(times, 0.99):.1f}"])
        progress(f"{name}: p50 {rows[-1][1]} ms")
    started, pages, seen, after = time.perf_counter(), 0, 0, None
    while True:
        _, page = reader.page(PAGE, id=busy, first=500, after=after)
        pages, seen = pages + 1, seen + len(page["items"])
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    walk = time.perf_counter() - started
    print(f"The busy node signed {whole['totalCount']:,} receipts; runs per case: {runs}\n")
    table(["case", "p50 ms", "p99 ms"], rows)
    print(
        f"\nWhole walk: {seen:,} receipts in {pages} pages of 500 in {walk:.1f} s "
        f"({walk / pages * 1e3:.0f} ms a page)."
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--receipts", type=int, default=1_000_000)
    parser.add_argument("--busy-share", type=float, default=0.1)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--heap", default="4g")
    parser.add_argument("--rng-seed", type=int, default=11)
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory(prefix="bench-lists-") as folder,
        EmbeddedArcadeDB(Path(folder) / "store", heap=args.heap) as db,
        GraphStore(db.endpoint) as store,
        running_services(
            Settings(score_interval=0, seeds=list(synthetic.VOTERS)), store=store
        ) as services,
    ):
        busy, small = build(store, args)
        print(f"{args.receipts:,} receipts in the store")
        measure(Reader(services), busy, small, args.runs)


if __name__ == "__main__":
    main()
