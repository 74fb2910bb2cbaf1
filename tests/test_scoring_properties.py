"""Properties 2, 3, 5 and 6 of docs/reference.md#reputation: isolation, decay, determinism,
accountability."""

from __future__ import annotations

import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from graphsvc.domain import EntityKind, Verdict
from graphsvc.scoring.engine import compute_scores
from graphsvc.scoring.evidence import Channel, FaultCause
from graphsvc.scoring.evidence_builder import EvidenceBuilder
from graphsvc.scoring.params import ScoringParams
from graphsvc.scoring.scores import Scores
from graphsvc.scoring.verdicts import vote_faults
from tests.scoring_factories import DAY_MS, T0, product

PARAMS = ScoringParams()


def _score(scores: Scores, entity: str) -> float:
    return float(scores.score[scores.index_of(entity)])


def _rel(a: float, b: float) -> float:
    return abs(a - b) / max(abs(a), abs(b), 1e-300)


# --- 2. Isolation -----------------------------------------------------------------------


@settings(derandomize=True, max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), amount=st.floats(0.5, 50.0), target=st.integers(0, 7))
def test_node_faults_leave_models_and_providers_unchanged(
    seed: int, amount: float, target: int
) -> None:
    net = product(seed)
    before = compute_scores(net.builder.build(), PARAMS, T0)
    node = net.nodes[target]
    net.builder.fault(node, net.witnesses[0], FaultCause.ATTESTED_INVALID, T0 - DAY_MS, amount)
    after = compute_scores(net.builder.build(), PARAMS, T0)

    assert after.mass[after.index_of(node)] < before.mass[before.index_of(node)]
    for other in net.models + net.providers:
        assert _rel(_score(before, other), _score(after, other)) < 0.005


@settings(derandomize=True, max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), amount=st.floats(0.5, 50.0), target=st.integers(0, 5))
def test_model_faults_lower_model_and_provider_not_nodes(
    seed: int, amount: float, target: int
) -> None:
    net = product(seed)
    before = compute_scores(net.builder.build(), PARAMS, T0)
    model = net.models[target]
    provider = net.provider_of[model]
    net.builder.fault(model, net.witnesses[0], FaultCause.ATTESTED_INVALID, T0 - DAY_MS, amount)
    after = compute_scores(net.builder.build(), PARAMS, T0)

    for entity in (model, provider):
        assert after.mass[after.index_of(entity)] < before.mass[before.index_of(entity)]
    assert _score(after, model) < _score(before, model) or _score(before, model) == 0
    for node in net.nodes:
        # The model's lost share teleports back, so nodes may gain a little; never lose.
        assert _score(after, node) >= _score(before, node) * (1 - 0.005)


# --- 3. Decay ---------------------------------------------------------------------------


@settings(derandomize=True, max_examples=50, deadline=None)
@given(
    half_life_days=st.floats(0.01, 400.0),
    age_ms=st.integers(0, 10**11),
    amount=st.floats(0.01, 1000.0),
    halvings=st.integers(1, 6),
)
def test_evidence_weight_halves_every_half_life(
    half_life_days: float, age_ms: int, amount: float, halvings: int
) -> None:
    params = ScoringParams(half_life_days=half_life_days)
    b = EvidenceBuilder()
    b.entity("r", EntityKind.REQUESTER)
    b.entity("n", EntityKind.NODE)
    b.edge("r", "n", Channel.COSIGN, T0 - age_ms, amount)
    b.fault("n", "r", FaultCause.ATTESTED_INVALID, T0 - age_ms, amount)
    ev = b.build()
    first = compute_scores(ev, params, T0)
    i = first.index_of("n")
    for k in range(1, halvings + 1):
        later = compute_scores(ev, params, T0 + k * params.half_life_ms)
        for name in ("positive_evidence", "fault_weight"):
            expected = float(getattr(first, name)[i]) / 2**k
            got = float(getattr(later, name)[i])
            assert _rel(got, expected) < 1e-12 or (expected < 1e-290 and got < 1e-290)


# --- 5. Determinism ---------------------------------------------------------------------

ARRAYS = [
    "kinds",
    "raw_mass",
    "mass",
    "score",
    "rank",
    "percentile",
    "fault_rate",
    "confidence",
    "positive_evidence",
    "fault_weight",
    "phi",
    "personalization",
    "risk",
    "risk_fault_events",
    "risk_prior",
    "risk_events",
]


def _events(seed: int) -> list[tuple[str, tuple[object, ...]]]:
    rng = random.Random(seed)
    events: list[tuple[str, tuple[object, ...]]] = []
    kinds = list(EntityKind)
    names = [f"id{i:02d}" for i in range(25)]
    events += [("entity", (name, kinds[i % 5])) for i, name in enumerate(names)]
    for _ in range(150):
        events.append(
            (
                "edge",
                (
                    rng.choice(names),
                    rng.choice(names),
                    rng.choice(list(Channel)),
                    T0 - rng.randrange(90 * DAY_MS),
                    rng.choice([0.5, 1.0, 0.1, 3.3]),
                ),
            )
        )
    for _ in range(20):
        src, dst = rng.choice(names), rng.choice(names)
        cause, ref = rng.choice(list(FaultCause)), T0 - rng.randrange(9 * DAY_MS)
        events.append(("fault", (src, dst, cause, ref, rng.random())))
    events += [("structural", (names[1], names[0])), ("seed", (names[3],))]
    return events


def _build(events: list[tuple[str, tuple[object, ...]]]) -> EvidenceBuilder:
    b = EvidenceBuilder()
    for method, args in events:
        getattr(b, method)(*args)
    return b


def _assert_identical(a: Scores, b: Scores) -> None:
    for name in ARRAYS:
        x, y = getattr(a, name), getattr(b, name)
        assert x.dtype == y.dtype and np.array_equal(x, y), name
        assert x.tobytes() == y.tobytes(), name  # bit-identical, -0.0 and NaN included
    assert a.entity_ids == b.entity_ids
    assert a.evidence_digest == b.evidence_digest
    assert a.iterations == b.iterations


@settings(derandomize=True, max_examples=20, deadline=None)
@given(seed=st.integers(0, 10**6), shuffle_seed=st.integers(0, 10**6))
def test_same_input_gives_bit_identical_scores_whatever_the_event_order(
    seed: int, shuffle_seed: int
) -> None:
    events = _events(seed)
    shuffled = list(events)
    random.Random(shuffle_seed).shuffle(shuffled)
    entities = [e for e in shuffled if e[0] == "entity"]  # declare before use
    shuffled = entities + [e for e in shuffled if e[0] != "entity"]
    a = compute_scores(_build(events).build(), PARAMS, T0)
    b = compute_scores(_build(shuffled).build(), PARAMS, T0)
    again = compute_scores(_build(events).build(), PARAMS, T0)
    _assert_identical(a, b)
    _assert_identical(a, again)


def test_digest_changes_with_any_input() -> None:
    ev = _build(_events(1)).build()
    base = compute_scores(ev, PARAMS, T0).evidence_digest
    assert compute_scores(ev, PARAMS, T0 + 1).evidence_digest != base
    assert compute_scores(ev, ScoringParams(lam=9.0), T0).evidence_digest != base
    b = _build(_events(1))
    b.edge("id00", "id01", Channel.COSIGN, T0, 1.0)
    assert compute_scores(b.build(), PARAMS, T0).evidence_digest != base


# --- 6. Witness accountability ----------------------------------------------------------


def test_witness_in_the_minority_loses_score_and_rank() -> None:
    net = product(seed=21, witnesses=4, receipts=300)
    honest, dissenter = net.witnesses[:3], net.witnesses[3]
    attestations = []
    for receipt_id, _req, model, node, ts in net.receipts[:120]:
        for w in [*honest[:2], dissenter]:
            verdict = Verdict.INVALID if w == dissenter else Verdict.VALID
            attestations.append((receipt_id, w, verdict, ts + 5_000))
            if verdict == Verdict.VALID:
                net.builder.edge(w, node, Channel.ATTEST, ts + 5_000, 1.0)
                net.builder.edge(w, model, Channel.ATTEST, ts + 5_000, 1.0)
    before = compute_scores(net.builder.build(), PARAMS, T0)
    faults = vote_faults(attestations, [], PARAMS, frozenset(net.witnesses))
    assert {f.party_id for f in faults} == {dissenter}
    net.builder.faults(f.as_row() for f in faults)
    after = compute_scores(net.builder.build(), PARAMS, T0)

    assert _score(after, dissenter) < _score(before, dissenter)
    assert after.rank[after.index_of(dissenter)] == len(net.witnesses)  # last of its kind
    for w in honest:
        assert _score(after, w) > 2 * _score(after, dissenter)
    assert after.fault_rate[after.index_of(dissenter)] == pytest.approx(1.0)
