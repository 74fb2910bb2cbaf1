"""The evidence a process keeps between recomputes, against the embedded store: each
recompute reads only the batches since the last, a restart loads the saved file and
catches up, and the check against a full re-read passes
(docs/reference.md#snapshots-and-reproduction)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from graphsvc.cli import main
from graphsvc.domain import FaultParty, Verdict
from graphsvc.records import record_id
from graphsvc.reputation import kept_evidence
from graphsvc.reputation.kept_evidence import KEPT_FILE
from graphsvc.services import Services, running_services
from graphsvc.settings import Settings
from graphsvc.store.endpoint import BoltEndpoint
from graphsvc.store.evidence_loader import read_all
from graphsvc.store.graph_store import GraphStore
from tests.network import T0, Network

NOW = T0 + 86_400_000


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, int]]:
    """The (after, to) batch ranges the kept evidence reads."""
    seen: list[tuple[int, int]] = []
    original = kept_evidence.read_changes

    def spy(store: GraphStore, after: int, to: int, **kwargs: Any) -> Any:
        seen.append((after, to))
        return original(store, after, to, **kwargs)

    monkeypatch.setattr(kept_evidence, "read_changes", spy)
    return seen


@pytest.fixture
def store(clean_graph: BoltEndpoint) -> Iterator[GraphStore]:
    with GraphStore(clean_graph) as graph:
        yield graph


def serving(store: GraphStore, kept_file: Path | None = None) -> Any:
    return running_services(Settings(), store=store, clock=lambda: NOW, kept_file=kept_file)


def grow(services: Services, net: Network, first: int) -> None:
    """Receipts, an outvoted accusation and a dispute: every kind of change."""
    receipts = [net.receipt(first + i) for i in range(3)]
    services.ingestor.submit(receipts)
    a, b, _ = (record_id(r) for r in receipts)
    services.ingestor.submit(
        [
            net.attest(a, Verdict.INVALID, fault=FaultParty.NODE),
            net.attest(b, Verdict.VALID),
            net.attest(b, Verdict.INVALID, witness=net.witness2, fault=FaultParty.MODEL),
            net.dispute(a),
        ]
    )


def scored_once(store: GraphStore, kept_file: Path) -> Network:
    """A network ingested and scored once by a process that kept its evidence in
    ``kept_file`` (three batches)."""
    net = Network()
    with serving(store, kept_file) as services:
        services.ingestor.submit(net.basics())
        grow(services, net, 0)
        services.scorer.recompute()
    return net


def test_each_recompute_reads_only_the_batches_since_the_last(
    store: GraphStore, reads: list[tuple[int, int]]
) -> None:
    net = Network()
    with serving(store) as services:
        services.ingestor.submit(net.basics())
        services.scorer.recompute()
        grow(services, net, 0)
        services.scorer.recompute()
        services.scorer.recompute()  # nothing new: nothing read
        check = services.scorer.check_evidence()
    assert reads == [(-1, 1), (1, 3)]
    assert check.matches and check.differing == ()
    assert check.batch == 3 and check.edges > 0 and check.faults == 2


def test_a_restart_loads_the_saved_evidence_and_catches_up(
    store: GraphStore, reads: list[tuple[int, int]], tmp_path: Path
) -> None:
    kept = tmp_path / KEPT_FILE
    net = scored_once(store, kept)
    saved = kept.read_bytes()

    with serving(store, kept) as services:  # another process, the same store and file
        grow(services, net, 10)
        snapshot = services.scorer.recompute()
        assert services.scorer.check_evidence().matches
    assert reads[-1] == (3, 5)  # only the two batches it missed
    assert kept.read_bytes() != saved
    assert [p.name for p in tmp_path.iterdir()] == [KEPT_FILE]  # replaced, nothing left over
    fresh, _ = read_all(store).evidence(Settings().scoring, seeds=Settings().seeds)
    from graphsvc.scoring.engine import compute_scores

    assert compute_scores(fresh, Settings().scoring, snapshot.as_of_ms).evidence_digest == (
        snapshot.evidence_digest
    )


def test_the_file_is_saved_at_first_then_at_most_every_few_minutes_and_on_close(
    store: GraphStore, tmp_path: Path
) -> None:
    kept = tmp_path / KEPT_FILE
    net = Network()
    with serving(store, kept) as services:
        services.ingestor.submit(net.basics())
        services.scorer.recompute()
        first = kept.read_bytes()
        grow(services, net, 0)
        services.scorer.recompute()
        assert kept.read_bytes() == first  # too soon to write again
    closed = kept.read_bytes()
    assert closed != first  # written when the services closed
    with serving(store, kept) as services:  # it is current: the next start reads nothing
        assert services.scorer.check_evidence().matches


def test_a_damaged_file_is_ignored_and_the_store_read_afresh(
    store: GraphStore, reads: list[tuple[int, int]], tmp_path: Path
) -> None:
    kept = tmp_path / KEPT_FILE
    net = scored_once(store, kept)
    data = bytearray(kept.read_bytes())
    data[len(data) // 2] ^= 0xFF  # one flipped byte inside the compressed arrays
    kept.write_bytes(bytes(data))
    with serving(store, kept) as services:
        grow(services, net, 10)
        services.scorer.recompute()
        assert services.scorer.check_evidence().matches
    assert reads[-1] == (-1, 5)  # everything read again


def test_files_of_another_store_are_not_used(
    store: GraphStore,
    reads: list[tuple[int, int]],
    tmp_path: Path,
    _embedded_driver: Any,
) -> None:
    kept = tmp_path / KEPT_FILE
    net = scored_once(store, kept)
    _embedded_driver.execute_query("MATCH (n) DETACH DELETE n")
    with serving(store, kept) as services:
        services.ingestor.submit(net.basics())
        services.scorer.recompute()
        assert services.scorer.check_evidence().matches
    assert reads[-1] == (-1, 1)  # read afresh: the file was of the wiped store


def test_check_evidence_command(
    embedded_endpoint: BoltEndpoint,
    store: GraphStore,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    net = Network()
    with serving(store) as services:
        services.ingestor.submit(net.basics())
        grow(services, net, 0)
    monkeypatch.setenv("GRAPHSVC_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("GRAPHSVC_NEO4J_URI", embedded_endpoint.uri)
    monkeypatch.setenv("GRAPHSVC_NEO4J_USER", embedded_endpoint.user)
    monkeypatch.setenv("GRAPHSVC_NEO4J_PASSWORD", embedded_endpoint.password)
    assert main(["check-evidence"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("kept evidence matches the store at batch 3:") and "2 faults" in out
