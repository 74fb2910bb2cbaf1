"""An acknowledged record survives the database process dying right after the answer."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from graphsvc.ingest.ingestor import Ingestor
from graphsvc.ingest.resolution import EvidenceRules
from graphsvc.records import record_id
from graphsvc.settings import Settings
from graphsvc.store.embedded import EmbeddedArcadeDB
from graphsvc.store.graph_store import GraphStore
from tests.network import T0, Network

# Slow: kills the server after an acknowledgement. scripts/test --fast leaves it out.
pytestmark = pytest.mark.slow


def test_acknowledged_records_survive_a_killed_server(tmp_path: Path) -> None:
    net = Network()
    receipts = [net.receipt(i) for i in range(200)]
    data = tmp_path / "data"
    server = EmbeddedArcadeDB(data, heap="256m")
    endpoint = server.start()
    try:
        with GraphStore(endpoint) as store:
            store.apply_schema()
            ingestor = Ingestor(
                store, EvidenceRules.of(Settings().scoring), clock=lambda: T0 + 10**9
            )
            results = ingestor.submit([*net.basics(), *receipts])
            assert all(str(r.status) == "accepted" for r in results)
        # No clean shutdown: the JVM gets no chance to flush anything after the answer.
        pid = server.pid
        assert pid is not None
        os.kill(pid, signal.SIGKILL)
    finally:
        server.stop()

    with EmbeddedArcadeDB(data, heap="256m") as restarted, GraphStore(restarted.endpoint) as store:
        ids = {r["id"] for r in store.read("MATCH (r:Receipt) RETURN r.id AS id")}
        assert ids == {record_id(r) for r in receipts}
        ingestor = Ingestor(store, EvidenceRules.of(Settings().scoring), clock=lambda: T0 + 10**9)
        again = ingestor.submit(receipts[:5])
        assert {str(r.status) for r in again} == {"duplicate"}
        # The evidence log continues where the acknowledged records left it: the next
        # record takes the next leaf, with no gap and no reuse.
        count = len(net.basics()) + len(receipts)
        after = net.receipt(999)
        assert [str(r.status) for r in ingestor.submit([after])] == ["accepted"]
        leaves = store.read("MATCH (n) WHERE n.leaf IS NOT NULL RETURN n.leaf AS leaf")
        assert sorted(r["leaf"] for r in leaves) == list(range(count + 1))
        newest = store.read(
            "MATCH (r:Receipt {id: $id}) RETURN r.leaf AS leaf", id=record_id(after)
        )
        assert newest == [{"leaf": count}]
