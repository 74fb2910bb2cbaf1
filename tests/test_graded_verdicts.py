"""Graded verdicts through ingest and scoring (docs/decisions/0089-graded-verdicts.md): a
seeded judge's score moves the node's fault weight in proportion to its shortfall, and
any number of fresh keys scoring gets nothing."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from graphsvc.api.types import Attestation
from graphsvc.domain import EntityKind, FaultParty, Verdict
from graphsvc.ingest.ingestor import Ingestor
from graphsvc.ingest.resolution import EvidenceRules
from graphsvc.records import builder
from graphsvc.records.builder import Actor
from graphsvc.reputation.maker import SnapshotMaker
from graphsvc.reputation.reader import SnapshotReader
from graphsvc.scoring.scores import Scores
from graphsvc.settings import Settings
from graphsvc.store.graph_store import GraphStore
from graphsvc.store.trail import receipt_trails
from tests.network import T0, TEST_SEEDS, SignedNetwork, signed_network

DAY = 86_400_000
NOW = T0 + 40 * DAY


def _scores(store: GraphStore, records: list[dict[str, Any]]) -> Scores:
    settings = Settings()
    Ingestor(store, EvidenceRules.of(settings.scoring), clock=lambda: NOW).submit(records)
    reader = SnapshotReader(store, seeds=settings.seeds, clock=lambda: NOW, refresh_seconds=0)
    maker = SnapshotMaker(store, settings.scoring, reader, seeds=settings.seeds, clock=lambda: NOW)
    scores, _ = maker.compute(NOW)
    return scores


def _wipe(store: GraphStore) -> None:
    store.write_one("MATCH (n) DETACH DELETE n")


def _judged(net: SignedNetwork, judge: Actor, score: float | None) -> list[dict[str, Any]]:
    """``judge`` finds every third receipt of the first node invalid, graded ``score``."""
    return [
        builder.attestation(
            judge,
            builder.record_id(r),
            Verdict.INVALID,
            r["ts"] + 7,
            fault=FaultParty.NODE,
            score=score,
        )
        for r, _, node in net.receipts[2::3]
        if node == net.nodes[0]
    ]


def _at(scores: Scores, entity: str) -> int:
    return scores.entity_ids.index(entity)


def test_a_seeded_judges_score_moves_the_fault_weight_in_proportion(store: GraphStore) -> None:
    net = signed_network(7, receipts=150)
    judge = net.witnesses[0]
    assert judge.id in TEST_SEEDS
    node = net.nodes[0].id
    figures = {}
    for score in (None, 0.25):
        _wipe(store)
        scores = _scores(store, [*net.records, *_judged(net, judge, score)])
        i = _at(scores, node)
        figures[score] = (scores.fault_weight[i], scores.positive_evidence[i], scores.risk[i])
    (f0, e0, risk0), (f1, e1, risk1) = figures[None], figures[0.25]
    assert f0 > 0
    # Same witness, same times, same standing: a shortfall of 3/4 is 3/4 of the fault.
    assert f1 == pytest.approx(0.75 * f0, rel=1e-9)
    # ... and the quarter that was right is positive evidence on the node.
    assert e1 > e0
    assert risk1 < risk0


def test_fresh_keys_scoring_get_nothing(store: GraphStore) -> None:
    """Forty registered keys without standing score the first node's receipts 0 (an
    accusation) and the second node's 1 (praise): neither moves."""
    net = signed_network(8, receipts=150)
    base = _scores(store, net.records)
    fresh = [Actor.derived(f"sybil-judge-{i}", EntityKind.WITNESS) for i in range(40)]
    attack: list[dict[str, Any]] = [builder.register(a, T0 + 5) for a in fresh]
    for key in fresh:
        attack += _judged(net, key, 0.0)
        attack += [
            builder.attestation(key, builder.record_id(r), Verdict.VALID, r["ts"] + 9, score=1.0)
            for r, _, node in net.receipts
            if node == net.nodes[1]
        ]
    _wipe(store)
    attacked = _scores(store, [*net.records, *attack])
    for node in (net.nodes[0].id, net.nodes[1].id):
        i, j = _at(base, node), _at(attacked, node)
        assert attacked.fault_weight[j] == pytest.approx(base.fault_weight[i], abs=1e-12)
        assert attacked.positive_evidence[j] == pytest.approx(base.positive_evidence[i], rel=1e-9)
        assert attacked.risk[j] == pytest.approx(base.risk[i], rel=1e-6)
    assert not np.isnan(attacked.risk).any()


def test_a_graded_score_is_read_back_with_its_attestation(store: GraphStore) -> None:
    """What a judge said is shown as it said it: the receipt's trail and the GraphQL
    `Attestation.score` carry the graded score, and an ungraded verdict reads as 1 or 0."""
    net = signed_network(9, receipts=60)
    graded = _judged(net, net.witnesses[0], 0.25)[:1]
    receipt = graded[0]["receipt"]
    ungraded = builder.attestation(
        net.witnesses[1], receipt, Verdict.INVALID, NOW - DAY, fault=FaultParty.NODE
    )
    Ingestor(store, EvidenceRules.of(Settings().scoring), clock=lambda: NOW).submit(
        [*net.records, *graded, ungraded]
    )
    trail = receipt_trails(store, [receipt], frozenset(TEST_SEEDS))[receipt]
    scores = {a.witness: a.score for a in trail.attestations}
    assert scores[net.witnesses[0].id] == pytest.approx(0.25)
    assert scores[net.witnesses[1].id] == pytest.approx(0.0)
    shown = {Attestation.of(a).witness_id: Attestation.of(a).score for a in trail.attestations}
    assert shown == pytest.approx(scores)
