"""Risk (docs/reference.md#risk): a Beta-Binomial posterior per entity from its decayed
events, each report weighed by its signer's credibility and reliability, with a prior
fitted to how its kind's parties fared."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from graphsvc.domain import EntityKind
from graphsvc.evaluation.replay import evidence_before
from graphsvc.scoring import risk, risk_prior
from graphsvc.scoring.engine import compute_scores
from graphsvc.scoring.evidence import KIND_CODES, Channel, FaultCause
from graphsvc.scoring.evidence_builder import EvidenceBuilder
from graphsvc.scoring.explain import breakdown
from graphsvc.scoring.params import ScoringParams
from graphsvc.scoring.risk import credibility, credible_interval
from graphsvc.scoring.risk_prior import DirectEvents, fit_prior, records_before
from graphsvc.scoring.scores import Scores
from graphsvc.scoring.table import (
    ScoreTable,
    table_from_bytes,
    table_to_bytes,
)
from tests.scoring_factories import DAY_MS, T0, product
from tests.test_replay import synthetic_trust_network
from tests.test_scoring_sybil import _add_ring

PARAMS = ScoringParams()


def _risk(scores: Scores, entity: str) -> tuple[float, float, float, float, float]:
    """risk, its interval, the events behind it and its prior."""
    i = scores.index_of(entity)
    risk, events, prior = (
        float(a[i]) for a in (scores.risk, scores.risk_events, scores.risk_prior)
    )
    k = float(scores.risk_fault_events[i])
    low, high = credible_interval(k, events, prior, float(scores.risk_prior_strength[i]))
    return risk, low, high, events, prior


def _network() -> EvidenceBuilder:
    """Two witnesses (the seeds) attest four nodes and one model; node-bad is faulted."""
    b = EvidenceBuilder()
    for w in ("w1", "w2"):
        b.entity(w, EntityKind.WITNESS)
        b.seed(w)
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
    assert events == 0.0 and new == pytest.approx(prior)  # exact: no event at all
    busy, quiet, bad = (_risk(scores, n)[0] for n in ("node-busy", "node-quiet", "node-bad"))
    assert busy < quiet < new < bad  # more clean evidence, less risk; faults, more
    i = scores.index_of("node-busy")
    k, n = float(scores.risk_fault_events[i]), float(scores.risk_events[i])
    s = float(scores.risk_prior_strength[i])
    assert busy == pytest.approx((k + s * prior) / (n + s))


def test_kinds_with_derived_events_keep_their_decayed_fault_share() -> None:
    """Providers (their models' events), witnesses (their votes) and requesters (their
    attested usage) are not fitted: their prior is the kind's share, events counted
    once (Jeffreys-smoothed), with the configured strength."""
    scores = compute_scores(_network().build(), PARAMS, T0)
    for kind in (EntityKind.PROVIDER, EntityKind.WITNESS):
        members = scores.kinds == KIND_CODES[kind]
        share = (float(scores.risk_fault_events[members].sum()) + 0.5) / (
            float(scores.risk_events[members].sum()) + 1
        )
        assert scores.risk_prior[members] == pytest.approx(share)
        # Exact: the strength as given.
        assert (scores.risk_prior_strength[members] == PARAMS.risk_prior_strength).all()


def _naive_records(events: DirectEvents, half_life_ms: int) -> list[tuple[float, float]]:
    """Per event, in the fit's order, the party's decayed (faults, events) strictly
    before it: the definition, one event at a time."""
    order = np.lexsort((events.ref_ms, events.party))
    out = []
    for e in order.tolist():
        earlier = (events.party == events.party[e]) & (events.ref_ms < events.ref_ms[e])
        decay = np.exp2(-(events.ref_ms[e] - events.ref_ms[earlier]) / half_life_ms)
        w = events.weight[earlier] * decay
        out.append((float(np.sum(w * events.fault[earlier])), float(np.sum(w))))
    return out


def _random_events(rng: np.random.Generator, count: int, parties: int) -> DirectEvents:
    """Parties with their own fault rates (most good, some bad), so that a record
    tells something about the next event."""
    party = rng.integers(0, parties, count)
    rate = rng.beta(0.4, 1.6, parties)
    return DirectEvents(
        party=party,
        ref_ms=T0 - rng.integers(0, 200, count) * DAY_MS // 2,  # repeated instants too
        weight=rng.choice([0.25, 1.0, 2.0], count),
        fault=rng.random(count) < rate[party],
    )


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_each_past_event_is_predicted_from_its_partys_record_before_it(seed: int) -> None:
    events = _random_events(np.random.default_rng(seed), 300, 25)
    half_life = 30 * DAY_MS
    k, n, fault, weight = records_before(events, T0, half_life)
    expected = _naive_records(events, half_life)
    assert np.allclose(k, [e[0] for e in expected], rtol=1e-9, atol=1e-12)
    assert np.allclose(n, [e[1] for e in expected], rtol=1e-9, atol=1e-12)
    order = np.lexsort((events.ref_ms, events.party))
    assert np.array_equal(fault, events.fault[order])
    recency = np.exp2(-(T0 - events.ref_ms[order]) / half_life)
    assert np.allclose(weight, events.weight[order] * recency)


def _predictive_log_likelihood(events: DirectEvents, mu: float, s: float) -> float:
    k, n, y, a = records_before(events, T0, 30 * DAY_MS)
    p = (k + s * mu) / (n + s)
    jeffreys = 0.5 * (np.log(mu) + np.log1p(-mu))
    return float(np.sum(a * (y * np.log(p) + (1 - y) * np.log1p(-p))) + jeffreys)


@pytest.mark.parametrize("seed", [4, 5])
def test_the_fitted_prior_predicted_the_kinds_past_best(seed: int) -> None:
    events = _random_events(np.random.default_rng(seed), 400, 40)
    mu, s = fit_prior(events, T0, 30 * DAY_MS, 1.0)
    assert 0.05 < mu < 0.6 and 0.1 < s < 20  # an interior optimum, not a guard rail
    best = _predictive_log_likelihood(events, mu, s)
    for d_mu, d_s in ((0.02, 1.0), (-0.02, 1.0), (0.0, 1.3), (0.0, 0.7)):
        assert best >= _predictive_log_likelihood(events, mu + d_mu, s * d_s)


def test_newcomers_who_fault_more_than_established_parties_raise_the_prior() -> None:
    """Events on parties with little record were faults more often than the kind's
    events overall: the fitted prior, a newcomer's risk, is above the kind's share."""
    b = EvidenceBuilder()
    b.entity("w", EntityKind.WITNESS)
    b.seed("w")
    for i in range(10):
        b.entity(f"old-{i}", EntityKind.NODE)
        for day in range(30):
            b.edge("w", f"old-{i}", Channel.ATTEST, T0 - day * DAY_MS - 1, 1.0)
    for i in range(20):
        b.entity(f"young-{i}", EntityKind.NODE)
        first = T0 - (i + 1) * DAY_MS
        if i % 2:
            b.fault(f"young-{i}", "w", FaultCause.ATTESTED_INVALID, first, 1.0)
        else:
            b.edge("w", f"young-{i}", Channel.ATTEST, first, 1.0)
    b.entity("fresh", EntityKind.NODE)
    scores = compute_scores(b.build(), PARAMS, T0)
    nodes = scores.kinds == KIND_CODES[EntityKind.NODE]
    share = float(scores.risk_fault_events[nodes].sum()) / float(scores.risk_events[nodes].sum())
    fresh = scores.index_of("fresh")
    assert scores.risk[fresh] == pytest.approx(scores.risk_prior[fresh], rel=1e-12)  # s*p0/s
    assert scores.risk_prior[fresh] > 2 * share
    # An established clean record is still far safer than a newcomer.
    assert scores.risk[scores.index_of("old-0")] < scores.risk[fresh] / 4


def test_without_records_to_learn_from_the_strength_stays_at_its_default() -> None:
    """Every party has a single event: nothing tells how fast a record should count."""
    events = DirectEvents(
        party=np.arange(6),
        ref_ms=T0 - np.arange(6) * DAY_MS,
        weight=np.ones(6),
        fault=np.array([True, False, False, True, False, False]),
    )
    mu, s = fit_prior(events, T0, 30 * DAY_MS, 1.0)
    assert s == pytest.approx(1.0) and 0.2 < mu < 0.5
    # Exact: with no events at all the fit returns its defaults as given.
    assert fit_prior(DirectEvents(*(a[:0] for a in vars(events).values())), T0, DAY_MS, 2.0) == (
        0.5,
        2.0,
    )


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
    assert scores.risk_events[p] == pytest.approx(scores.risk_events[m])
    assert scores.risk_events[m] > 0
    assert scores.risk_fault_events[p] == pytest.approx(scores.risk_fault_events[m])
    assert scores.risk_fault_events[m] > 0


def test_risk_is_explained_in_the_breakdown() -> None:
    scores = compute_scores(_network().build(), PARAMS, T0)
    explained = breakdown(scores, "node-bad")
    # Exact: the breakdown shows the computed figures themselves.
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
    assert events == 0.0 and new == pytest.approx(prior)  # exact: no event at all
    assert scores.risk_fault_events[scores.index_of("node-quiet")] == 0.0  # exact: none


def test_an_outvoted_witness_and_a_baseless_disputer_are_risky() -> None:
    b = _network()
    b.entity("w-liar", EntityKind.WITNESS)
    b.seed("w-liar")
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


def _witnessed_pair(liar_lies: int) -> EvidenceBuilder:
    """Two equal witnesses, each attesting one node the same way; ``w-liar`` was
    outvoted on ``liar_lies`` receipts."""
    b = EvidenceBuilder()
    for name, kind in (("w-honest", EntityKind.WITNESS), ("w-liar", EntityKind.WITNESS)):
        b.entity(name, kind)
        b.seed(name)
    for node in ("node-a", "node-b"):
        b.entity(node, EntityKind.NODE)
    for i in range(10):
        b.edge("w-honest", "node-a", Channel.ATTEST, T0 - i * DAY_MS, 1.0)
        b.edge("w-liar", "node-b", Channel.ATTEST, T0 - i * DAY_MS, 1.0)
    b.fault("node-a", "w-honest", FaultCause.ATTESTED_INVALID, T0, 1.0)
    b.fault("node-b", "w-liar", FaultCause.ATTESTED_INVALID, T0, 1.0)
    for i in range(liar_lies):
        b.fault("w-liar", "w-liar", FaultCause.WITNESS_MINORITY, T0 - i * DAY_MS, 1.0)
    return b


def test_a_report_weighs_its_signers_reliability() -> None:
    """The same attestations and accusation count less from a witness that is often
    outvoted: by its credibility times ``1 - risk`` of the witness."""
    scores = compute_scores(_witnessed_pair(liar_lies=10).build(), PARAMS, T0)
    a, b, liar = (scores.index_of(e) for e in ("node-a", "node-b", "w-liar"))
    cred = credibility(scores.raw_mass, scores.kinds)
    assert cred[liar] == pytest.approx(1.0) == cred[scores.index_of("w-honest")]  # equal standing
    reliability = 1.0 - float(scores.risk[liar])
    assert 0.0 < reliability < 0.6
    clean = sum(2.0 ** (-i / 30) for i in range(10))
    assert scores.risk_events[b] == pytest.approx((clean + 1.0) * reliability)
    assert scores.risk_fault_events[b] == pytest.approx(reliability)
    honest = 1.0 - float(scores.risk[scores.index_of("w-honest")])
    assert scores.risk_events[a] == pytest.approx((clean + 1.0) * honest)
    assert scores.risk_events[b] < scores.risk_events[a]
    # Less evidence either way: node-b's risk sits nearer the prior than node-a's.
    prior = float(scores.risk_prior[b])
    assert abs(scores.risk[b] - prior) < abs(scores.risk[a] - prior)


def test_reliability_never_adds_weight() -> None:
    """Reliability only discounts: without outvoted votes both nodes have the events of
    the witnesses' credibility alone, up to the honest witnesses' tiny risk."""
    scores = compute_scores(_witnessed_pair(liar_lies=0).build(), PARAMS, T0)
    clean = sum(2.0 ** (-i / 30) for i in range(10))
    for node in ("node-a", "node-b"):
        events = float(scores.risk_events[scores.index_of(node)])
        assert clean * 0.9 < events <= clean + 1.0


@pytest.mark.parametrize("seed", [1, 2])
def test_on_a_trust_network_the_reliabilities_are_a_fixed_point(seed: int) -> None:
    """Raters are rated: each rating weighs its rater's credibility times ``1 - risk``
    of that rater, and the published risks are the ones those weights give, prior
    fitted with the same weights (to the rounds' tolerance)."""
    ratings = synthetic_trust_network(seed=seed)
    t_s = int(np.quantile(ratings.time_s, 0.8))
    params = ScoringParams()
    scores = compute_scores(evidence_before(ratings, t_s), params, t_s * 1000)
    past = (ratings.time_s < t_s) & (ratings.rating != 0)
    src, dst = ratings.src[past], ratings.dst[past]
    ref_ms, fault = ratings.time_s[past] * 1000, ratings.rating[past] < 0
    reliability = 1.0 - scores.risk[src]
    assert reliability.min() < 0.9  # some raters are discounted: the test can fail
    weight = credibility(scores.raw_mass, scores.kinds)[src] * reliability
    decayed = weight * np.exp2(-(t_s * 1000 - ref_ms) / params.half_life_ms)
    n = len(ratings.ids)
    k = np.bincount(dst, weights=decayed * fault, minlength=n)
    events = np.bincount(dst, weights=decayed, minlength=n)
    mu, s = fit_prior(
        DirectEvents(dst, ref_ms, weight, fault), t_s * 1000, params.half_life_ms, 1.0
    )
    assert scores.risk_prior[0] == pytest.approx(mu, abs=1e-5)
    assert np.allclose(scores.risk_events, events, rtol=1e-5, atol=1e-8)
    assert np.allclose(scores.risk, (k + s * mu) / (events + s), atol=1e-5)


def test_rounds_that_do_not_settle_are_logged(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    ratings = synthetic_trust_network(seed=1)
    t_s = int(np.quantile(ratings.time_s, 0.8))
    monkeypatch.setattr(risk, "MAX_RELIABILITY_ROUNDS", 2)
    with caplog.at_level(logging.WARNING, logger=risk.__name__):
        compute_scores(evidence_before(ratings, t_s), PARAMS, t_s * 1000)
    assert "still moved" in caplog.text and "after 2 rounds" in caplog.text


@pytest.mark.parametrize("receipts", [10, 100_000])
def test_a_sybil_ring_stays_at_the_prior(receipts: int) -> None:
    net = product(seed=receipts)
    ring = _add_ring(net, 100, receipts)
    scores = compute_scores(net.builder.build(), PARAMS, T0)
    idx = np.array([scores.index_of(m) for m in ring])
    assert (scores.risk_events[idx] == 0.0).all()  # exact: no event at all
    assert scores.risk[idx] == pytest.approx(scores.risk_prior[idx], rel=1e-12)  # s*p0/s


def test_a_ring_with_a_real_tie_still_buys_its_nodes_and_model_nothing() -> None:
    net = product(seed=7)
    ring = _add_ring(net, 50, 10_000, tie_volume=0.01 * len(net.receipts))
    scores = compute_scores(net.builder.build(), PARAMS, T0)
    fakes = [m for m in ring if not m.startswith(f"sybil-{EntityKind.REQUESTER}")]
    idx = np.array([scores.index_of(m) for m in fakes])
    assert (scores.risk_events[idx] == 0.0).all()  # exact: no event at all
    assert scores.risk[idx] == pytest.approx(scores.risk_prior[idx], rel=1e-12)  # s*p0/s


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


def test_a_stored_table_derives_risk_with_its_kinds_fitted_strengths() -> None:
    scores = compute_scores(_network().build(), PARAMS, T0)
    assert len(set(scores.risk_prior_strength.tolist())) > 1  # fitted kinds differ
    table = ScoreTable.of(scores, explain=False)
    back = table_from_bytes(table_to_bytes(table, PARAMS))
    # Exact: a stored table gives back the computed figures bit for bit.
    assert np.array_equal(back.figures["risk"], scores.risk)
    assert np.array_equal(back.figures["risk_prior_strength"], scores.risk_prior_strength)


def test_a_large_kind_is_fitted_on_a_fixed_sample_of_its_parties(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    events = _random_events(np.random.default_rng(6), 400, 40)
    monkeypatch.setattr(risk_prior, "MAX_FIT_EVENTS", 100)
    k, _, fault, _ = records_before(events, T0, 30 * DAY_MS)
    sampled = events.party % 4 == 0  # every 4th party: 400 events / 100
    assert len(k) == int(sampled.sum()) and fault.sum() == events.fault[sampled].sum()
    mu, s = fit_prior(events, T0, 30 * DAY_MS, 1.0)
    assert 0.0 < mu < 1.0 and s > 0
