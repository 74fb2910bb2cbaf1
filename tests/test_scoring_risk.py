"""Risk (docs/design.md §3.8): a Beta-Binomial posterior per entity from its decayed,
credibility-weighted events, with its kind's recent fault rate as the prior."""

from __future__ import annotations

import numpy as np
import pytest

from graphsvc.domain import EntityKind
from graphsvc.scoring.builder import EvidenceBuilder
from graphsvc.scoring.engine import compute_scores
from graphsvc.scoring.evidence import Channel, FaultCause
from graphsvc.scoring.explain import breakdown
from graphsvc.scoring.params import ScoringParams
from graphsvc.scoring.risk import credible_interval
from graphsvc.scoring.scores import Scores
from tests.scoring_factories import DAY_MS, T0, product
from tests.test_scoring_sybil import _add_ring

PARAMS = ScoringParams()


def _risk(scores: Scores, entity: str) -> tuple[float, float, float, float, float]:
    """risk, its interval, the events behind it and its prior."""
    i = scores.index_of(entity)
    risk, events, prior = (
        float(a[i]) for a in (scores.risk, scores.risk_events, scores.risk_prior)
    )
    k = float(scores.risk_fault_events[i])
    low, high = credible_interval(k, events, prior, PARAMS.risk_prior_strength)
    return risk, low, high, events, prior


def _network() -> EvidenceBuilder:
    """Two witnesses attest four nodes and one model; node-bad is faulted."""
    b = EvidenceBuilder()
    for w in ("w1", "w2"):
        b.entity(w, EntityKind.WITNESS)
    for node in ("node-busy", "node-quiet", "node-bad", "node-new"):
        b.entity(node, EntityKind.NODE)
    b.entity("prov", EntityKind.PROVIDER)
    b.entity("model", EntityKind.MODEL)
    b.structural("model", "prov")
    for i in range(20):
        b.edge("w1", "node-busy", Channel.ATTEST, T0 - i * DAY_MS, 1.0)
        b.edge("w1", "model", Channel.ATTEST, T0 - i * DAY_MS, 1.0)
    b.edge("w2", "node-quiet", Channel.ATTEST, T0 - DAY_MS, 1.0)
    b.edge("w2", "node-bad", Channel.ATTEST, T0 - DAY_MS, 1.0)
    for i in range(3):
        b.fault("node-bad", "w1", FaultCause.ATTESTED_INVALID, T0 - i * DAY_MS, 1.0)
    b.fault("model", "w2", FaultCause.ATTESTED_INVALID, T0 - DAY_MS, 1.0)
    return b


def test_a_party_without_events_is_at_its_kinds_prior_neither_safest_nor_riskiest() -> None:
    scores = compute_scores(_network().build(), PARAMS, T0)
    new, _, _, events, prior = _risk(scores, "node-new")
    assert events == 0.0 and new == pytest.approx(prior)
    busy, quiet, bad = (_risk(scores, n)[0] for n in ("node-busy", "node-quiet", "node-bad"))
    assert busy < quiet < new < bad  # more clean evidence, less risk; faults, more
    # The prior is the nodes' decayed fault share, events counted once (Jeffreys-smoothed).
    i = [scores.index_of(n) for n in ("node-busy", "node-quiet", "node-bad", "node-new")]
    nodes_faults = float(scores.risk_fault_events[i].sum())
    assert prior == pytest.approx((nodes_faults + 0.5) / (float(scores.risk_events[i].sum()) + 1))


def test_the_interval_holds_the_mean_and_narrows_with_evidence() -> None:
    scores = compute_scores(_network().build(), PARAMS, T0)
    widths = {}
    for node in ("node-busy", "node-quiet", "node-new"):
        risk, low, high, _, _ = _risk(scores, node)
        assert 0.0 <= low <= risk <= high <= 1.0
        widths[node] = high - low
    assert widths["node-busy"] < widths["node-quiet"] < widths["node-new"]


def test_a_providers_events_are_its_models() -> None:
    scores = compute_scores(_network().build(), PARAMS, T0)
    m, p = scores.index_of("model"), scores.index_of("prov")
    assert scores.risk_events[p] == scores.risk_events[m] > 0
    assert scores.risk_fault_events[p] == scores.risk_fault_events[m] > 0


def test_risk_is_explained_in_the_breakdown() -> None:
    scores = compute_scores(_network().build(), PARAMS, T0)
    explained = breakdown(scores, "node-bad")
    assert explained["risk"] == _risk(scores, "node-bad")[0]
    assert explained["riskFaultEvents"] > 0 and 0 < explained["riskPrior"] < 1
    assert explained["riskEvents"] == _risk(scores, "node-bad")[3]


def test_attestations_of_a_witness_without_standing_count_for_nothing() -> None:
    b = _network()
    b.entity("w-fake", EntityKind.WITNESS)
    for i in range(50):
        b.edge("w-fake", "node-new", Channel.ATTEST, T0 - i * DAY_MS, 1.0)
    b.fault("node-quiet", "w-fake", FaultCause.ATTESTED_INVALID, T0, 1.0)
    for seed in ("w1", "w2"):
        b.seed(seed)  # named seeds: the fake witness has no mass
    scores = compute_scores(b.build(), PARAMS, T0)
    new, _, _, events, prior = _risk(scores, "node-new")
    assert events == 0.0 and new == pytest.approx(prior)
    assert scores.risk_fault_events[scores.index_of("node-quiet")] == 0.0


def test_an_outvoted_witness_and_a_baseless_disputer_are_risky() -> None:
    b = _network()
    b.entity("w-liar", EntityKind.WITNESS)
    b.entity("req", EntityKind.REQUESTER)
    b.entity("req-fussy", EntityKind.REQUESTER)
    for i in range(10):
        b.edge("w-liar", "node-quiet", Channel.ATTEST, T0 - i * DAY_MS, 1.0)
        b.fault("w-liar", "w-liar", FaultCause.WITNESS_MINORITY, T0 - i * DAY_MS, 1.0)
        b.edge("req", "node-busy", Channel.COSIGN, T0 - i * DAY_MS, 1.0)
        b.edge("req-fussy", "node-busy", Channel.COSIGN, T0 - i * DAY_MS, 1.0)
        b.fault("req-fussy", "req-fussy", FaultCause.REJECTED_DISPUTE, T0 - i * DAY_MS, 0.5)
    scores = compute_scores(b.build(), PARAMS, T0)
    liar, honest = _risk(scores, "w-liar"), _risk(scores, "w1")
    assert liar[0] > liar[4] > honest[0]
    assert scores.risk_fault_events[scores.index_of("req-fussy")] == pytest.approx(
        sum(2.0 ** (-i / 30) for i in range(10))
    )  # each dispute one event, whatever its fault weight
    assert _risk(scores, "req-fussy")[0] > _risk(scores, "req")[0]


@pytest.mark.parametrize("receipts", [10, 100_000])
def test_a_sybil_ring_stays_at_the_prior(receipts: int) -> None:
    net = product(seed=receipts)
    ring = _add_ring(net, 100, receipts)
    scores = compute_scores(net.builder.build(), PARAMS, T0)
    idx = np.array([scores.index_of(m) for m in ring])
    assert (scores.risk_events[idx] == 0.0).all()
    assert np.array_equal(scores.risk[idx], scores.risk_prior[idx])


def test_a_ring_with_a_real_tie_still_buys_its_nodes_and_model_nothing() -> None:
    net = product(seed=7)
    ring = _add_ring(net, 50, 10_000, tie_volume=0.01 * len(net.receipts))
    scores = compute_scores(net.builder.build(), PARAMS, T0)
    fakes = [m for m in ring if not m.startswith(f"sybil-{EntityKind.REQUESTER}")]
    idx = np.array([scores.index_of(m) for m in fakes])
    assert (scores.risk_events[idx] == 0.0).all()
    assert np.array_equal(scores.risk[idx], scores.risk_prior[idx])


def test_risk_parameters_are_validated() -> None:
    with pytest.raises(ValueError, match="risk_prior_strength"):
        ScoringParams(risk_prior_strength=0.0)


def test_risk_parameters_enter_the_digest_only_away_from_their_defaults() -> None:
    from graphsvc.scoring.digest import evidence_digest

    evidence = _network().build()
    default = evidence_digest(evidence, PARAMS, T0)
    # A snapshot stored before risk existed recorded no risk parameters: same digest.
    before_risk = {k: v for k, v in PARAMS.to_dict().items() if not k.startswith("risk")}
    assert evidence_digest(evidence, ScoringParams.from_dict(before_risk), T0) == default
    assert evidence_digest(evidence, ScoringParams(risk_prior_strength=2.0), T0) != default
