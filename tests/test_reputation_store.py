"""Reputation through the embedded store: snapshots, reproduction, isolation, oracle."""

from __future__ import annotations

import csv
from pathlib import Path

import networkx as nx
import pytest

from graphsvc.domain import FaultParty, Verdict
from graphsvc.ingest.ingestor import Ingestor
from graphsvc.ingest.resolution import EvidenceRules
from graphsvc.records import builder
from graphsvc.reputation.maker import ScoringError, SnapshotMaker
from graphsvc.reputation.reader import SnapshotReader
from graphsvc.scoring.engine import compute_scores
from graphsvc.scoring.export import write_evidence_export
from graphsvc.settings import Settings
from graphsvc.store.endpoint import BoltEndpoint
from graphsvc.store.graph_store import GraphStore
from graphsvc.store.snapshots import score_history
from tests.network import T0, sha256_hex, signed_network

DAY = 86_400_000
NOW = T0 + 60 * DAY


class Clock:
    def __init__(self, ms: int) -> None:
        self.ms = ms

    def __call__(self) -> int:
        return self.ms


def services(store: GraphStore, clock: Clock) -> tuple[Ingestor, SnapshotMaker, SnapshotReader]:
    settings = Settings()
    reader = SnapshotReader(store, seeds=settings.seeds, clock=clock, refresh_seconds=0)
    return (
        Ingestor(store, EvidenceRules.of(settings.scoring), clock=clock),
        SnapshotMaker(store, settings.scoring, reader, seeds=settings.seeds, clock=clock),
        reader,
    )


def test_snapshot_is_stored_served_and_reproduced_bit_for_bit(store: GraphStore) -> None:
    clock = Clock(NOW)
    ingestor, scorer, reader = services(store, clock)
    net = signed_network(1)
    ingestor.submit(net.records)
    snapshot = scorer.recompute()
    assert snapshot.as_of_ms == NOW and snapshot.records == len(net.records)

    view = reader.view()
    assert view is not None and view.info.id == snapshot.id
    scores, _ = scorer.compute(NOW)
    for i, entity in enumerate(scores.entity_ids):
        # Exact: the stored snapshot keeps the computed figures bit for bit.
        assert view.by_entity[entity].mass == float(scores.mass[i])
    best_node = view.ranked[net.nodes[0].kind][0]
    assert best_node.rank == 1 and best_node.score == pytest.approx(100.0)
    assert best_node.breakdown["incoming"], "a scored node explains where its mass comes from"

    # New evidence arrives later; the old snapshot is still reproduced from what it used.
    clock.ms = NOW + 5 * DAY
    model = sorted(net.models)[0]
    late = builder.receipt(
        net.nodes[1],
        model,
        sha256_hex("late-in"),
        sha256_hex("late-out"),
        NOW + DAY,
        requester=net.requesters[0],
    )
    assert [str(r.status) for r in ingestor.submit([late])] == ["accepted"]
    report = scorer.reproduce(NOW)
    assert report.identical and report.differing_entities == []
    assert not report.store_evidence_unchanged
    with pytest.raises(ScoringError, match="cannot be wound back"):
        scorer.compute(NOW)
    assert scorer.recompute().as_of_ms == NOW + 5 * DAY
    assert reader.view(NOW + DAY).info.id == snapshot.id  # type: ignore[union-attr]
    history = score_history(store, best_node.entity, 0, 2**62, limit=10)
    assert [h.as_of_ms for h in history] == [NOW, NOW + 5 * DAY]


def scored(store: GraphStore, records: list) -> dict[str, float]:
    ingestor, scorer, _ = services(store, Clock(NOW))
    ingestor.submit(records)
    scores, _ = scorer.compute(NOW)
    return {e: float(s) for e, s in zip(scores.entity_ids, scores.score, strict=True)}


def test_node_faults_stay_with_the_node_model_faults_reach_the_provider(
    store: GraphStore, embedded_endpoint: BoltEndpoint, _embedded_driver: object
) -> None:
    net = signed_network(3, receipts=150)
    bad_node = net.nodes[0]
    bad_model = sorted(net.models)[0]
    provider = net.models[bad_model].id
    witness = net.witnesses[0]
    base = scored(store, net.records)

    _wipe(store)
    node_faults = [
        builder.attestation(
            witness, builder.record_id(r), Verdict.INVALID, r["ts"] + 7, fault=FaultParty.NODE
        )
        for r, _, node in net.receipts[1::3]
        if node == bad_node
    ]
    with_node_faults = scored(store, [*net.records, *node_faults])
    assert with_node_faults[bad_node.id] < 0.8 * base[bad_node.id]
    for model, owner in net.models.items():
        assert with_node_faults[model] == pytest.approx(base[model], rel=5e-3)
        assert with_node_faults[owner.id] == pytest.approx(base[owner.id], rel=5e-3)

    _wipe(store)
    model_faults = [
        builder.attestation(
            witness, builder.record_id(r), Verdict.INVALID, r["ts"] + 7, fault=FaultParty.MODEL
        )
        for r, model, _ in net.receipts[1::3]
        if model == bad_model
    ]
    with_model_faults = scored(store, [*net.records, *model_faults])
    model_loss = 1 - with_model_faults[bad_model] / base[bad_model]
    provider_loss = 1 - with_model_faults[provider] / base[provider]
    assert model_loss > 0.2 and 0 < provider_loss < model_loss
    for node in net.nodes:
        assert with_model_faults[node.id] == pytest.approx(base[node.id], rel=5e-3)


def _wipe(store: GraphStore) -> None:
    store.write_one("MATCH (n) DETACH DELETE n")


def test_exported_evidence_reproduces_mass_with_networkx(store: GraphStore, tmp_path: Path) -> None:
    ingestor, scorer, _ = services(store, Clock(NOW))
    ingestor.submit(signed_network(4).records)
    scores, _ = scorer.compute(NOW)
    write_evidence_export(tmp_path, scores)
    graph = nx.DiGraph()
    with (tmp_path / "personalization.csv").open() as f:
        p = {row["entity"]: float(row["weight"]) for row in csv.DictReader(f)}
    graph.add_nodes_from(p)
    with (tmp_path / "edges.csv").open() as f:
        for row in csv.DictReader(f):
            graph.add_edge(row["source"], row["target"], weight=float(row["weight"]))
    alpha = scores.params.alpha
    oracle = nx.pagerank(
        graph,
        alpha=alpha,
        personalization=p,
        dangling=p,
        weight="weight",
        tol=1e-14,
        max_iter=10_000,
    )
    with (tmp_path / "scores.csv").open() as f:
        mass = {row["entity"]: float(row["mass"]) for row in csv.DictReader(f)}
    assert max(abs(oracle[e] - mass[e]) for e in mass) < 1e-9


def test_decay_halves_stored_evidence_every_half_life(store: GraphStore) -> None:
    ingestor, scorer, _ = services(store, Clock(NOW))
    ingestor.submit(signed_network(5).records)
    evidence, newest = scorer.evidence()
    half_life = scorer.params.half_life_ms
    first = compute_scores(evidence, scorer.params, newest)
    later = compute_scores(evidence, scorer.params, newest + half_life)
    received = first.positive_evidence > 0
    assert received.sum() == 8  # the 4 models and 4 nodes
    ratio = later.positive_evidence[received] / first.positive_evidence[received]
    assert ratio == pytest.approx(0.5, rel=1e-12)


def test_a_replica_keeps_answering_while_it_loads_a_newer_snapshot(store: GraphStore) -> None:
    clock = Clock(NOW)
    ingestor, writer, _ = services(store, clock)
    _, _, replica = services(store, clock)
    net = signed_network(1)
    ingestor.submit(net.records)
    first = writer.recompute()
    assert replica.view().info.id == first.id  # type: ignore[union-attr]  # nothing yet: waits

    clock.ms = NOW + DAY
    second = writer.recompute()
    assert second.id != first.id
    # The replica answers at once from what it has, loading the newer one aside ...
    assert replica.view().info.id == first.id  # type: ignore[union-attr]
    replica.settle(timeout=60)
    # ... and serves it once loaded.
    assert replica.view().info.id == second.id  # type: ignore[union-attr]
