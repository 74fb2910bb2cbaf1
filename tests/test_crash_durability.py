"""Nothing acknowledged is lost (docs/decisions/0050-bounded-store-calls.md,
docs/decisions/0051-supervised-jvm.md): a writer streams receipts to `POST /records`
while the service, the service with its database, or the database alone is SIGKILLed at
seeded random points. Afterwards every acknowledged receipt is stored with its edges,
the ingest counter and the evidence log's leaves count exactly the records stored, and
re-sending everything gives `duplicate` for every acknowledged record.

The default run does two rounds; ``-m crash`` runs the long version (10 rounds):

    .venv/bin/python -m pytest -p no:cacheprovider -m crash tests/test_crash_durability.py
"""

from __future__ import annotations

import json
import os
import random
import signal
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2
import pytest

from graphsvc.ingest.ingestor import Ingestor
from graphsvc.ingest.resolution import EvidenceRules
from graphsvc.records import record_id
from graphsvc.settings import Settings
from graphsvc.store.embedded import EmbeddedArcadeDB
from graphsvc.store.graph_store import GraphStore
from tests.network import T0, Network
from tests.outage import eventually, holder_pid, process_gone, serve_process

# Slow: kills the service and its database as a writer streams. scripts/test --fast leaves it out.
pytestmark = pytest.mark.slow

BATCH = 100
COMPLETE_RECEIPTS = (
    "MATCH (r:Receipt)-[:FOR_OUTPUT]->(o:Output)-[:GENERATED_BY]->(:Model), "
    "(o)-[:EXECUTED_ON]->(:Node), (:Requester)-[:REQUESTED]->(o) RETURN r.id AS id"
)
ALL_RECEIPTS = "MATCH (r:Receipt) RETURN r.id AS id"
LEAVES = "MATCH (n) WHERE n.leaf IS NOT NULL RETURN n.leaf AS leaf"
COUNTER = "MATCH (m:Meta {id: 'ingest'}) RETURN m.records AS records, m.leaves AS leaves"


@dataclass
class Writer:
    """Streams batches of new receipts; remembers what was sent and acknowledged."""

    url: str
    net: Network
    next_n: int
    sent: list[dict[str, Any]] = field(default_factory=list)
    acknowledged: set[str] = field(default_factory=set)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        while not self.stop.is_set():
            batch = [self.net.receipt(self.next_n + i) for i in range(BATCH)]
            self.next_n += BATCH
            self.sent.extend(batch)
            body = "".join(json.dumps(r) + "\n" for r in batch)
            try:
                response = httpx2.post(f"{self.url}/records", content=body, timeout=30)
            except httpx2.HTTPError:
                continue  # killed under the request: nothing of it was acknowledged
            for line in response.text.splitlines():
                answer = json.loads(line)
                if answer.get("status") in ("ACCEPTED", "DUPLICATE"):
                    self.acknowledged.add(answer["id"])
                else:
                    assert "status" not in answer or response.status_code != 200, answer


def _round(data: Path, tmp: Path, kind: str, writer: Writer, rng: random.Random) -> None:
    """One round: serve, stream, kill (``service``, ``both`` or ``database``)."""
    # The default call timeout: a fresh JVM's first writes are slow on a busy machine.
    env = {"GRAPHSVC_STORE_CALL_TIMEOUT": "10"}
    with serve_process(data, tmp / f"serve-{writer.next_n}.log", **env) as (proc, url):
        if writer.next_n == 0:  # the first round registers the parties first
            basics = "".join(json.dumps(r) + "\n" for r in writer.net.basics())
            eventually(
                lambda: (
                    httpx2.post(f"{url}/records", content=basics, timeout=30).status_code == 200
                    or None
                ),
                60,
                "the parties registered",
            )
        writer.url = url
        writer.stop.clear()
        thread = threading.Thread(target=writer.run)
        thread.start()
        try:
            threading.Event().wait(rng.uniform(2.0, 8.0))  # a random point in the stream
            jvm = holder_pid(data)
            assert jvm is not None
            if kind in ("both", "database"):
                os.kill(jvm, signal.SIGKILL)
            if kind in ("both", "service"):
                proc.kill()
                proc.wait()
                eventually(lambda: process_gone(jvm) or None, 60, "the JVM gone")
            else:  # the supervisor restarts the database under the running service
                acknowledged = len(writer.acknowledged)
                eventually(
                    lambda: len(writer.acknowledged) > acknowledged or None,
                    120,
                    "writes acknowledged again after the restart",
                )
        finally:
            writer.stop.set()
            thread.join(timeout=60)


def _verify(data: Path, writer: Writer) -> dict[str, int]:
    with EmbeddedArcadeDB(data, heap="256m") as server, GraphStore(server.endpoint) as store:
        stored = {row["id"] for row in store.read(ALL_RECEIPTS)}
        complete = {row["id"] for row in store.read(COMPLETE_RECEIPTS)}
        missing = writer.acknowledged - stored
        assert not missing, f"{len(missing)} acknowledged receipts lost"
        assert complete == stored, "a receipt without its edges"
        leaves = sorted(row["leaf"] for row in store.read(LEAVES))
        assert leaves == list(range(len(leaves))), "a gap or a reused leaf"
        counter = store.read(COUNTER)[0]
        assert counter == {"records": len(leaves), "leaves": len(leaves)}, counter
        ingestor = Ingestor(store, EvidenceRules.of(Settings().scoring), clock=lambda: T0 + 10**9)
        again = ingestor.submit(writer.sent)
        for raw, result in zip(writer.sent, again, strict=True):
            if record_id(raw) in writer.acknowledged:
                assert str(result.status) == "duplicate", result
            else:
                assert str(result.status) in ("accepted", "duplicate"), result
        return {"sent": len(writer.sent), "acknowledged": len(writer.acknowledged)}


def _crash_rounds(tmp_path: Path, kinds: list[str], seed: int) -> dict[str, int]:
    rng = random.Random(seed)
    data = tmp_path / "data"
    writer = Writer(url="", net=Network(), next_n=0)
    for kind in kinds:
        _round(data, tmp_path, kind, writer, rng)
    figures = _verify(data, writer)
    print(f"\ncrash rounds {kinds}: {figures}")
    return figures


def test_acknowledged_records_survive_killed_services_and_databases(tmp_path: Path) -> None:
    figures = _crash_rounds(tmp_path, ["both", "database"], seed=13)
    assert figures["acknowledged"] > 0


@pytest.mark.crash
@pytest.mark.timeout(3600)
def test_ten_crash_rounds(tmp_path: Path) -> None:
    kinds = ["service", "both", "database", "service", "both"] * 2
    figures = _crash_rounds(tmp_path, kinds, seed=1313)
    assert figures["acknowledged"] > 0
