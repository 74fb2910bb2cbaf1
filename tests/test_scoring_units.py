"""Unit tests: parameters, builder, phi, dangling mass, empty evidence, bad input, verdicts."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import numpy as np
import pytest

from graphsvc.domain import EntityKind, Verdict
from graphsvc.scoring.engine import ConvergenceError, compute_scores
from graphsvc.scoring.evidence import (
    AHEAD_TOLERANCE_MS,
    KIND_CODES,
    Channel,
    Evidence,
    FaultCause,
)
from graphsvc.scoring.evidence_builder import EvidenceBuilder, canonicalize
from graphsvc.scoring.explain import breakdown, internals_of
from graphsvc.scoring.params import ScoringParams
from graphsvc.scoring.scores import rank_within_kind
from graphsvc.scoring.verdicts import DisputeStatus, dispute_statuses, vote_faults
from tests.explained import breakdowns
from tests.scoring_factories import DAY_MS, T0, product

PARAMS = ScoringParams()


def _pair(fault: float = 0.0, positive: float = 3.0) -> Evidence:
    b = EvidenceBuilder()
    b.entity("r", EntityKind.REQUESTER)
    b.entity("n", EntityKind.NODE)
    b.entity("w", EntityKind.WITNESS)
    b.edge("r", "n", Channel.COSIGN, T0, positive)
    b.edge("w", "n", Channel.ATTEST, T0, 1.0)
    b.seed("w")
    if fault:
        b.fault("n", "w", FaultCause.ATTESTED_INVALID, T0, fault)
    return b.build()


# --- parameters -------------------------------------------------------------------------


def test_params_defaults_and_round_trip() -> None:
    p = ScoringParams()
    # Exact: the parameters as given.
    assert (p.half_life_days, p.alpha, p.sigma, p.beta, p.lam) == (30.0, 0.85, 0.5, 1.0, 10.0)
    assert (p.proof_weight("tee"), p.proof_weight("zk"), p.proof_weight("none")) == (
        1,
        1,
        0.5,
    )  # exact
    assert p.half_life_ms == 30 * DAY_MS
    assert ScoringParams.from_dict(json.loads(json.dumps(p.to_dict()))) == p
    assert ScoringParams.from_dict({"lam": 3}).lam == 3.0  # exact: as given


@pytest.mark.parametrize(
    "field, value",
    [
        ("alpha", 1.0),
        ("alpha", 0.0),
        ("sigma", 1.5),
        ("beta", 0.0),
        ("lam", -1.0),
        ("half_life_days", 0.0),
        ("tol", 0.0),
        ("max_iter", 0),
        ("usage_exponent", -0.5),
        ("confidence_scale", 0.0),
        ("alpha", float("nan")),
        ("lam", True),
        ("max_iter", 1.5),
    ],
)
def test_params_reject_bad_values(field: str, value: object) -> None:
    with pytest.raises(ValueError, match=field):
        ScoringParams(**{field: value})  # type: ignore[arg-type]


def test_params_reject_unknown_keys_and_proofs() -> None:
    with pytest.raises(ValueError, match="unknown scoring parameter"):
        ScoringParams.from_dict({"gamma": 1.0})
    with pytest.raises(ValueError, match="proof type"):
        PARAMS.proof_weight("sgx")


# --- builder ----------------------------------------------------------------------------


def test_builder_sorts_ids_and_resolves_structural_links() -> None:
    b = EvidenceBuilder()
    b.entity("prov", EntityKind.PROVIDER)
    b.entity("a-model", EntityKind.MODEL)
    b.structural("a-model", "prov")
    b.seed("prov")
    ev = b.build(aggregated_half_life_ms=PARAMS.half_life_ms)
    assert ev.entity_ids == ("a-model", "prov")
    assert ev.entity_kinds.tolist() == [
        KIND_CODES[EntityKind.MODEL],
        KIND_CODES[EntityKind.PROVIDER],
    ]
    assert sorted(zip(ev.struct_src.tolist(), ev.struct_dst.tolist(), strict=True)) == [
        (0, 1),
        (1, 0),
    ]
    assert ev.seeds.tolist() == [1]
    assert ev.edge_src.dtype == np.int64 and ev.edge_amount.dtype == np.float64


def test_builder_rejects_unknown_ids_conflicting_kinds_and_bad_amounts() -> None:
    b = EvidenceBuilder()
    b.entity("x", EntityKind.NODE)
    with pytest.raises(ValueError, match="declared as node and as witness"):
        b.entity("x", EntityKind.WITNESS)
    with pytest.raises(ValueError, match="amount"):
        b.edge("x", "x", Channel.COSIGN, T0, -1.0)
    b.edge("x", "ghost", Channel.COSIGN, T0, 1.0)
    with pytest.raises(ValueError, match="edge target names unknown entity 'ghost'"):
        b.build()


def test_canonicalize_makes_row_order_irrelevant() -> None:
    ev = product(seed=2).builder.build()
    perm = np.random.default_rng(0).permutation(len(ev.edge_src))
    shuffled = replace(
        ev,
        edge_src=ev.edge_src[perm],
        edge_dst=ev.edge_dst[perm],
        edge_channel=ev.edge_channel[perm],
        edge_ref_ms=ev.edge_ref_ms[perm],
        edge_amount=ev.edge_amount[perm],
    )
    a = compute_scores(ev, PARAMS, T0)
    b = compute_scores(canonicalize(shuffled), PARAMS, T0)
    assert a.mass.tobytes() == b.mass.tobytes()  # exact: determinism is the property
    assert a.evidence_digest == b.evidence_digest


# --- phi, dangling mass, confidence, ranks ----------------------------------------------


def test_phi_formula() -> None:
    s = compute_scores(_pair(fault=2.0, positive=3.0), PARAMS, T0)
    n = s.index_of("n")
    # 3 co-signed + 1 attested by the seed (credibility 1), and 2 accused: an accusation
    # weighs its witness's standing, below 1 (its own reliability) and above 0.
    standing = internals_of(s).standing[s.index_of("w")]
    assert 0.5 < standing < 1.0
    e, f = 4.0, 2.0 * standing
    assert s.positive_evidence[n] == pytest.approx(e)
    assert s.phi[n] == pytest.approx((e + 1.0) / (e + 1.0 + 10.0 * f))
    assert s.fault_rate[n] == pytest.approx(f / (e + f))
    assert s.confidence[n] == pytest.approx((e + f) / (e + f + 10.0))
    assert s.mass[n] == pytest.approx(s.phi[n] * s.raw_mass[n])
    assert s.phi[s.index_of("r")] == pytest.approx(1.0) and s.fault_rate[
        s.index_of("r")
    ] == pytest.approx(0.0)


def test_faulty_endorser_passes_on_only_phi_of_its_mass() -> None:
    # r endorses n; a fault on r turns 1 - phi_r of r's outflow into dangling mass.
    b = EvidenceBuilder()
    for name, kind in (("r", "requester"), ("n", "node"), ("w", "witness")):
        b.entity(name, kind)
    b.edge("r", "n", Channel.RATING, T0, 1.0)
    b.seed("r")
    clean = compute_scores(b.build(), PARAMS, T0)
    b.fault("r", "w", FaultCause.REJECTED_DISPUTE, T0, 0.5)
    faulty = compute_scores(b.build(), PARAMS, T0)
    phi_r = faulty.phi[faulty.index_of("r")]
    assert phi_r == pytest.approx(1.0 / (1.0 + 5.0))
    internals = faulty.internals
    assert internals is not None
    assert internals.dangling[faulty.index_of("r")] == pytest.approx(1 - phi_r)
    assert faulty.raw_mass[faulty.index_of("n")] < clean.raw_mass[clean.index_of("n")]
    for s in (clean, faulty):
        assert s.raw_mass.sum() == pytest.approx(1.0, abs=1e-12)
        # Fixed point: x = alpha*M x + teleport*p, with n's whole mass dangling.
        r, n = s.index_of("r"), s.index_of("n")
        c = s.internals.teleport if s.internals else 0.0
        assert s.raw_mass[n] == pytest.approx(0.85 * s.phi[r] * s.raw_mass[r], rel=1e-10)
        assert s.raw_mass[r] == pytest.approx(c * 1.0, rel=1e-10)


def test_ranks_percentiles_and_scores_within_kind() -> None:
    s = compute_scores(product(seed=4).builder.build(), PARAMS, T0)
    for kind in EntityKind:
        order = s.ranked(kind)
        masses = s.mass[order]
        assert np.all(np.diff(masses) <= 0)
        # Rank = 1 + those strictly above: tied entities share it (1, 1, 3).
        above = [int(np.sum(masses > m)) for m in masses]
        assert s.rank[order].tolist() == [1 + a for a in above]
        assert s.score[order[0]] == pytest.approx(100.0) or masses[0] == 0
        if len(order) > 1:
            assert s.percentile[order[0]] == pytest.approx(100.0)  # nobody is above the best
        if len(order) > 1 and masses[-1] < masses[-2]:
            assert s.percentile[order[-1]] == pytest.approx(0.0)
        if len(order) > 1 and masses[0] == masses[-1]:
            # nobody is strictly above anyone
            assert s.percentile[order] == pytest.approx(100.0)
        # Tied entities share the percentile of the best of them (exact: one value).
        for mass in set(masses.tolist()):
            tied = np.asarray(order)[masses == mass]
            assert len(set(s.percentile[tied].tolist())) == 1


def test_tied_entities_share_a_rank_and_the_next_skips() -> None:
    # Standard competition ranking within each kind (docs/decisions/0082-tied-ranks.md).
    node, witness = KIND_CODES[EntityKind.NODE], KIND_CODES[EntityKind.WITNESS]
    mass = np.array([0.3, 0.1, 0.3, 0.0, 0.1, 0.5, 0.2, 0.2])
    kinds = np.array([node] * 6 + [witness] * 2)
    _, rank, percentile = rank_within_kind(mass, kinds)
    assert rank.tolist() == [2, 4, 2, 6, 4, 1, 1, 1]
    assert percentile.tolist() == pytest.approx([80, 40, 80, 0, 40, 100, 100, 100])


def test_empty_and_edgeless_evidence() -> None:
    empty = compute_scores(EvidenceBuilder().build(), PARAMS, T0)
    assert len(empty.mass) == 0 and empty.evidence_digest.startswith("sha256:")

    b = EvidenceBuilder()
    b.entity("a", EntityKind.REQUESTER)
    b.entity("b", EntityKind.NODE)
    s = compute_scores(b.build(), PARAMS, T0)  # no seeds, no witnesses, no usage: uniform
    assert s.personalization == pytest.approx([0.5, 0.5])
    assert s.raw_mass == pytest.approx([0.5, 0.5])
    b.entity("w", EntityKind.WITNESS)
    s = compute_scores(b.build(), PARAMS, T0)  # witnesses but no seeds: nobody is trusted
    assert s.personalization.tolist() == [0.0, 0.0, 0.0]  # exact: nobody is trusted at all
    assert s.raw_mass.tolist() == [0.0, 0.0, 0.0]  # exact: no mass enters at all
    b.seed("w")
    s = compute_scores(b.build(), PARAMS, T0)  # the seed takes the whole teleport
    assert s.personalization == pytest.approx([0.0, 0.0, 1.0])


# --- bad input --------------------------------------------------------------------------


def test_rejects_future_evidence_and_other_half_life() -> None:
    ev = _pair(fault=1.0)
    with pytest.raises(ValueError, match=r"edge_ref_ms\[\d+\] = \d+ is after as_of_ms"):
        compute_scores(ev, PARAMS, T0 - AHEAD_TOLERANCE_MS - 1)
    aggregated = replace(ev, aggregated_half_life_ms=7 * DAY_MS)
    with pytest.raises(ValueError, match="aggregated with half-life"):
        compute_scores(aggregated, PARAMS, T0)
    compute_scores(aggregated, ScoringParams(half_life_days=7.0), T0)


@pytest.mark.parametrize(
    "change, message",
    [
        ({"edge_src": np.array([0, 9])}, "edge_src holds entity index 9"),
        ({"edge_amount": np.array([1.0, np.nan])}, "edge_amount must be finite"),
        ({"edge_amount": np.array([1.0, -2.0])}, "edge_amount must be finite and >= 0"),
        ({"edge_channel": np.array([0, 7])}, "edge_channel holds code 7"),
        ({"edge_dst": np.array([1])}, "edge arrays have different lengths"),
        ({"entity_kinds": np.array([0, 1, 9])}, "entity_kinds holds code 9"),
        ({"seeds": np.array([-1])}, "seeds holds entity index -1"),
    ],
)
def test_rejects_malformed_arrays(change: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        compute_scores(replace(_pair(), **change), PARAMS, T0)


def test_reports_non_convergence() -> None:
    with pytest.raises(ConvergenceError, match="max_iter=2"):
        compute_scores(product(seed=1).builder.build(), ScoringParams(max_iter=2), T0)


# --- explain ----------------------------------------------------------------------------


def test_breakdown_shares_add_up_and_faults_are_listed() -> None:
    net = product(seed=8)
    net.builder.fault(net.nodes[2], net.witnesses[1], FaultCause.ATTESTED_INVALID, T0, 2.0)
    s = compute_scores(net.builder.build(), PARAMS, T0)
    for entity in (net.nodes[2], net.models[0], net.providers[0], net.witnesses[0]):
        full = breakdown(s, entity, top=1000)
        total = sum(c["share"] for c in full["incoming"])
        assert total == pytest.approx(1.0, abs=1e-9) or s.raw_mass[s.index_of(entity)] == 0
        json.dumps(full)
    top = breakdown(s, net.nodes[2], top=3)
    assert len(top["incoming"]) <= 3
    assert top["incoming"] == sorted(top["incoming"], key=lambda c: -c["mass"])
    assert top["faults"][0]["source"] == net.witnesses[1]
    assert top["faults"][0]["cause"] == "attested_invalid"
    # The accusation of 2 weighs its witness's standing (a seed, slightly below 1).
    standing = internals_of(s).standing[s.index_of(net.witnesses[1])]
    assert 0.99 < standing < 1.0
    assert top["faultWeight"] == pytest.approx(2.0 * standing)
    provider = breakdown(s, net.providers[0])
    assert {c["channel"] for c in provider["incoming"]} == {"structural"}
    assert breakdowns(s) == [breakdown(s, i) for i in range(len(s.entity_ids))]


# --- verdicts ---------------------------------------------------------------------------


def test_minority_witness_and_dispute_rules() -> None:
    V, INV = Verdict.VALID, Verdict.INVALID
    attestations = [
        ("r1", "w1", V, 10),
        ("r1", "w2", V, 11),
        ("r1", "w3", INV, 12),  # w3 minority
        ("r2", "w1", V, 20),
        ("r2", "w2", INV, 21),  # tie: nobody
        ("r3", "w1", V, 30),  # single vote: nobody
        ("r4", "w1", INV, 40),
        ("r4", "w2", INV, 41),
        ("r4", "w3", "valid", 42),  # w3 again
        ("r5", "w1", V, 50),
        ("r5", "w1", INV, 55),  # re-attested: latest (invalid) counts
    ]
    disputes = [
        ("r3", "q1", 31),
        ("r4", "q2", 43),
        ("r9", "q3", 5),
        ("r1", "q4", 13),
        ("r5", "q5", 60),
    ]
    trusted = frozenset({"w1", "w2", "w3"})
    faults = vote_faults(attestations, disputes, PARAMS, trusted)
    rows = [(f.party_id, f.cause, f.ref_ms, f.amount, f.receipt_id) for f in faults]
    assert rows == [  # exact: each amount is a parameter as given
        ("w3", FaultCause.WITNESS_MINORITY, 12, 1.0, "r1"),
        ("q1", FaultCause.REJECTED_DISPUTE, 31, 0.5, "r3"),
        ("w3", FaultCause.WITNESS_MINORITY, 42, 1.0, "r4"),
    ]
    assert all(f.source_id == f.party_id for f in faults)
    statuses = {
        claim.requester_id: status
        for claim, status in dispute_statuses(attestations, disputes, trusted)
    }
    assert statuses == {
        "q1": DisputeStatus.REJECTED,
        "q2": DisputeStatus.UPHELD,
        "q3": DisputeStatus.PENDING,
        "q4": DisputeStatus.CONTESTED,
        "q5": DisputeStatus.UPHELD,
    }
    # Cut at a time before the invalid vote on r1: r1's dispute would be rejected... if made.
    early = vote_faults(attestations, disputes, PARAMS, trusted, as_of_ms=11)
    assert early == []


def test_evidence_stamped_a_little_ahead_counts_as_of_the_scoring_time() -> None:
    ev = _pair(fault=1.0)
    at = T0 - AHEAD_TOLERANCE_MS  # every row stamped up to the tolerance ahead of it
    as_if_now = replace(
        ev,
        edge_ref_ms=np.minimum(ev.edge_ref_ms, at),
        fault_ref_ms=np.minimum(ev.fault_ref_ms, at),
    )
    ahead, now = compute_scores(ev, PARAMS, at), compute_scores(as_if_now, PARAMS, at)
    # Bit-identical by construction (the same arrays are scored): the property tested.
    assert ahead.score.tolist() == now.score.tolist()
    assert ahead.evidence_digest == now.evidence_digest
