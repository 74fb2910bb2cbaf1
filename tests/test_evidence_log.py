"""The evidence log over the embedded store: leaf indexes given in the write transaction
(no gap, no reuse, under concurrent writers and restarts), checkpoints, proofs, tiles."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import neo4j
import pytest

from graphsvc.evidence_log.log import EvidenceLog, LogError, leaf_data
from graphsvc.ingest.ingestor import Ingestor
from graphsvc.ingest.resolution import EvidenceRules
from graphsvc.records import record_id
from graphsvc.settings import Settings
from graphsvc.store import ingest_state, log_entries
from graphsvc.store.endpoint import BoltEndpoint
from graphsvc.store.graph_store import GraphStore, Statement
from graphsvc.tlog.checkpoint import Checkpoint
from graphsvc.tlog.merkle import leaf_hash, root_of
from graphsvc.tlog.note import NoteVerifier, open_note
from graphsvc.tlog.proofs import verify_consistency, verify_inclusion
from tests.network import T0, Network

NOW = T0 + 86_400_000
ORIGIN = "test.example/evidence"


def _ingestor(store: GraphStore) -> Ingestor:
    return Ingestor(store, EvidenceRules.of(Settings().scoring), clock=lambda: NOW)


def _leaves(store: GraphStore) -> list[tuple[int, str]]:
    rows = store.read(
        "MATCH (n) WHERE n.leaf IS NOT NULL "
        "RETURN n.leaf AS leaf, coalesce(n.record_id, n.id) AS id ORDER BY leaf"
    )
    return [(int(r["leaf"]), str(r["id"])) for r in rows]


def _records(net: Network, receipts: int) -> list[dict[str, Any]]:
    return [net.receipt(i) for i in range(receipts)]


def test_concurrent_writers_get_consecutive_leaves_once(
    clean_graph: BoltEndpoint, store: GraphStore, tmp_path: Path
) -> None:
    net = Network()
    _ingestor(store).submit(net.basics())
    receipts = _records(net, 90)
    # Three writers with their own connections (as three API replicas), overlapping.
    parts = [receipts[0:40], receipts[25:65], receipts[50:90]]
    accepted: list[str] = []
    errors: list[BaseException] = []

    def write(part: list[dict[str, Any]]) -> None:
        try:
            with GraphStore(clean_graph) as own:
                ingestor = _ingestor(own)
                for start in range(0, len(part), 10):
                    results = ingestor.submit(part[start : start + 10])
                    accepted.extend(r.id for r in results if str(r.status) == "accepted")
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=write, args=(part,)) for part in parts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    leaves = _leaves(store)
    assert [leaf for leaf, _ in leaves] == list(range(len(net.basics()) + 90))
    assert sorted(accepted) == sorted(record_id(r) for r in receipts)
    # The tree built from the batches' entries names the same records in the same order.
    log = EvidenceLog(store, tmp_path / "log", ORIGIN)
    assert log.integrate() == len(leaves)
    found = [i for batch in log_entries.batches_until(store, len(leaves)) for i in batch.ids]
    assert found == [rid for _, rid in leaves]


def test_a_failed_transaction_takes_no_leaf(
    store: GraphStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    net = Network()
    ingestor = _ingestor(store)
    ingestor.submit(net.basics())
    statements = ingest_state._statements

    def failing(*args: Any) -> list[Statement]:
        # The batch's statements all run, then the transaction fails before its commit.
        return [*statements(*args), Statement("UNWIND [0] AS x RETURN 1 / x AS boom", {})]

    monkeypatch.setattr(ingest_state, "_statements", failing)
    with pytest.raises(neo4j.exceptions.Neo4jError):
        ingestor.submit([net.receipt(1), net.receipt(2)])
    monkeypatch.undo()
    ingestor.submit([net.receipt(3)])
    leaves = _leaves(store)
    assert [leaf for leaf, _ in leaves] == list(range(len(net.basics()) + 1))
    assert leaves[-1][1] == record_id(net.receipt(3))


def test_duplicates_get_no_leaf_and_a_restart_continues_the_log(
    store: GraphStore, tmp_path: Path
) -> None:
    net = Network()
    ingestor = _ingestor(store)
    first = [*net.basics(), *_records(net, 3)]
    ingestor.submit(first)
    log = EvidenceLog(store, tmp_path / "log", ORIGIN)
    before = log.publish()
    assert before.checkpoint.size == len(first)
    log.close()
    ingestor.submit([first[-1], net.receipt(3)])  # one duplicate, one new
    again = EvidenceLog(store, tmp_path / "log", ORIGIN)  # the same files and key
    assert again.size == len(first)
    after = again.publish()
    assert after.checkpoint.size == len(first) + 1
    assert again.verifier_key() == log.verifier_key()
    verify_consistency(
        before.checkpoint.size,
        after.checkpoint.size,
        before.checkpoint.root,
        after.checkpoint.root,
        again.consistency(before.checkpoint.size, after.checkpoint.size),
    )
    # Lost files are rebuilt from the store: the same tree.
    rebuilt = EvidenceLog(store, tmp_path / "other", ORIGIN)
    assert rebuilt.root(rebuilt.integrate()) == after.checkpoint.root
    # The root is RFC 6962's over every record's canonical bytes, sig included.
    records = [*first, net.receipt(3)]
    assert after.checkpoint.root == root_of(leaf_hash(leaf_data_of(r)) for r in records)


def leaf_data_of(record: dict[str, Any]) -> bytes:
    import json

    return leaf_data(json.dumps(record))


def test_checkpoints_and_proofs_verify_with_the_published_key(
    store: GraphStore, tmp_path: Path
) -> None:
    net = Network()
    ingestor = _ingestor(store)
    receipts = _records(net, 5)
    ingestor.submit([*net.basics(), *receipts])
    log = EvidenceLog(store, tmp_path / "log", ORIGIN)
    signed = log.publish()
    key = NoteVerifier.parse(log.verifier_key())
    text, names = open_note(signed.note, [key])
    assert names == [ORIGIN]
    checkpoint = Checkpoint.parse(text)
    assert checkpoint == signed.checkpoint and checkpoint.origin == ORIGIN
    for record in [*net.basics(), *receipts]:
        proof = log.inclusion(record_id(record), checkpoint.size)
        verify_inclusion(
            proof.leaf_index,
            checkpoint.size,
            leaf_hash(leaf_data_of(record)),
            proof.path,
            checkpoint.root,
        )
    with pytest.raises(LogError, match="no logged record"):
        log.inclusion("sha256:" + "0" * 64)
    with pytest.raises(LogError, match="beyond"):
        log.inclusion(record_id(receipts[0]), checkpoint.size + 5)


def test_missing_batch_entries_stop_the_log_loudly(store: GraphStore, tmp_path: Path) -> None:
    net = Network()
    ingestor = _ingestor(store)
    ingestor.submit(net.basics())
    ingestor.submit([net.receipt(1)])
    ingestor.submit([net.receipt(2)])
    store.write_one("MATCH (l:LogEntries {first: $first}) DELETE l", first=len(net.basics()))
    log = EvidenceLog(store, tmp_path / "log", ORIGIN)
    with pytest.raises(LogError, match="graphsvc audit"):
        log.publish()
    assert log.size == len(net.basics())  # nothing past the hole was built


def test_entries_that_hold_no_leaf_stop_the_log_instead_of_looping(
    store: GraphStore, tmp_path: Path
) -> None:
    """Entries where leaves are due but with none in them (written behind the log's back,
    or by a writer that skipped the hashes): integrating fails loudly, it does not read
    the same entries forever while holding the recompute."""
    net = Network()
    ingestor = _ingestor(store)
    ingestor.submit(net.basics())
    ingestor.submit([net.receipt(1)])
    store.write_one(
        "MATCH (l:LogEntries {first: $first}) SET l.size = 0, l.hashes = '', l.ids = []",
        first=len(net.basics()),
    )
    log = EvidenceLog(store, tmp_path / "log", ORIGIN)
    with pytest.raises(LogError, match="hold no leaf hash"):
        log.publish()
    assert log.size == len(net.basics())
