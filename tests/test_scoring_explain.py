"""Explaining every entity at once: the same breakdowns as one by one, in one pass."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings

from graphsvc.domain import EntityKind
from graphsvc.scoring.engine import compute_scores, decayed_weights
from graphsvc.scoring.evidence import Channel, Evidence, FaultCause
from graphsvc.scoring.evidence_builder import EvidenceBuilder
from graphsvc.scoring.explain import _stable_sort, breakdown, internals_of
from graphsvc.scoring.params import ScoringParams
from graphsvc.scoring.scores import Scores
from graphsvc.scoring.table import (
    BREAKDOWN_TOP,
    ScoreTable,
    table_from_bytes,
    table_to_bytes,
)
from tests.explained import breakdowns
from tests.scoring_factories import DAY_MS, T0, product, random_evidence

PARAMS = ScoringParams()
LIMITS = [(5, 20), (0, 0), (1, 1), (3, 2), (1000, 1000)]


def by_definition(s: Scores, v: int, top: int, max_faults: int) -> dict[str, Any]:
    """One entity's breakdown from the definitions in plain Python, adding each
    (source, channel)'s terms row by row in ascending row order."""
    internals = internals_of(s)
    ev, p = internals.evidence, s.params
    x, scale = s.raw_mass.tolist(), internals.transition_scale.tolist()
    decayed = decayed_weights(ev.edge_amount, ev.edge_ref_ms, s.as_of_ms, p.half_life_ms)
    terms = [
        (u, Channel(c).name.lower(), w)
        for u, d, c, w in zip(ev.edge_src.tolist(), ev.edge_dst.tolist(),
                              ev.edge_channel.tolist(), decayed.tolist(), strict=True)
        if d == v
    ]  # fmt: skip
    terms += [
        (u, "structural", p.structural_weight)
        for u, d in zip(ev.struct_src.tolist(), ev.struct_dst.tolist(), strict=True)
        if d == v
    ]
    flows: dict[tuple[int, str], float] = {}
    for u, channel, w in terms:
        flows[u, channel] = flows.get((u, channel), 0.0) + w * (p.alpha * x[u] * scale[u])
    x_v = x[v]
    contributions = [(s.entity_ids[u], str(s.kind_of(u)), c, m) for (u, c), m in flows.items()]
    teleport = internals.teleport * s.personalization.tolist()[v]
    contributions.append((None, None, "teleport", teleport))
    incoming = [
        {"source": u, "kind": k, "channel": c, "mass": m, "share": m / x_v if x_v > 0 else 0.0}
        for u, k, c, m in contributions
        if m > 0
    ]
    incoming.sort(key=lambda c: (-c["mass"], c["source"] or "", c["channel"]))

    fault_weights = decayed_weights(ev.fault_amount, ev.fault_ref_ms, s.as_of_ms, p.half_life_ms)
    # An accusation weighs its witness's standing (docs/decisions/0070-standing.md).
    accused = ev.fault_cause == FaultCause.ATTESTED_INVALID
    fault_weights *= np.where(accused, internals_of(s).standing[ev.fault_source], 1.0)
    weights: dict[tuple[str, str], float] = {}
    events: dict[tuple[str, str], int] = {}
    for party, source, cause, w in zip(
        ev.fault_party.tolist(),
        ev.fault_source.tolist(),
        ev.fault_cause.tolist(),
        fault_weights.tolist(),
        strict=True,
    ):
        if party == v:
            key = (s.entity_ids[source], FaultCause(cause).name.lower())
            weights[key] = weights.get(key, 0.0) + w
            events[key] = events.get(key, 0) + 1
    faults = [
        {"source": u, "kind": str(s.kind_of(s.index_of(u))), "cause": cause, "weight": w,
         "events": events[u, cause]}
        for (u, cause), w in weights.items()
    ]  # fmt: skip
    faults.sort(key=lambda f: (-f["weight"], f["source"], f["cause"]))
    return {
        **s.entity(s.entity_ids[v]),
        "asOf": s.as_of_ms,
        "incoming": incoming[:top],
        "incomingOtherShare": float(sum(c["share"] for c in incoming[top:])),
        "incomingSources": len(incoming),
        "faults": faults[:max_faults],
        "faultSources": len(faults),
        "faultEvents": sum(events.values()),
    }


def assert_explained_alike(s: Scores) -> None:
    n = len(s.entity_ids)
    for top, max_faults in LIMITS:
        everyone = breakdowns(s, top, max_faults)
        assert len(everyone) == n
        for i in range(n):
            alone = breakdown(s, i, top, max_faults)
            # Exact by design (scoring/explain.py): sums add their rows in ascending row
            # order, so an entity explains alike alone, with all others, and by definition.
            assert everyone[i] == alone
            assert list(everyone[i]) == list(alone)  # and the same key order
            assert alone == by_definition(s, i, top, max_faults)


def _network(seed: int) -> Evidence:
    """A product network with faults (repeated, several causes), extra structural links,
    ties broken by name (attest before cosign, negative_rating before witness_minority),
    requesters with only teleport mass and an entity with nothing at all."""
    net = product(seed=seed)
    b = net.builder
    for i in range(12):
        party = (net.nodes + net.models)[i % 7]
        b.fault(party, net.witnesses[i % 3], FaultCause(i % 4), T0 - i * DAY_MS, 1.0 + i % 3)
    b.fault(net.nodes[0], net.witnesses[3], FaultCause.WITNESS_MINORITY, T0, 2.0)
    b.fault(net.nodes[0], net.witnesses[3], FaultCause.NEGATIVE_RATING, T0, 2.0)
    b.structural(net.models[0], net.providers[1])
    b.entity("requester-tie", EntityKind.REQUESTER)
    b.seed("requester-tie")
    b.edge("requester-tie", net.nodes[1], Channel.COSIGN, T0 - DAY_MS, 1.0)
    b.edge("requester-tie", net.nodes[1], Channel.ATTEST, T0 - DAY_MS, 1.0)
    b.edge(net.requesters[0], net.requesters[1], Channel.RATING, T0 - 3 * DAY_MS, 2.0)
    b.entity("provider-nothing", EntityKind.PROVIDER)
    b.seed(net.witnesses[0])
    return b.build()


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_every_breakdown_at_once_equals_each_alone(seed: int) -> None:
    s = compute_scores(_network(seed), PARAMS, T0)
    nothing = breakdown(s, "provider-nothing")
    # Exact: nothing flows into it, not one bit.
    assert (nothing["raw"], nothing["incoming"], nothing["incomingSources"]) == (0.0, [], 0)
    requester = breakdown(s, "requester-000", top=1000)  # nobody points at it
    assert [c["channel"] for c in requester["incoming"]] in ([], ["teleport"])
    tie = breakdown(s, "node-001", top=1000)["incoming"]
    assert [c["channel"] for c in tie if c["source"] == "requester-tie"] == ["attest", "cosign"]
    faults = breakdown(s, "node-000")["faults"]
    assert [f["cause"] for f in faults[:2]] == ["negative_rating", "witness_minority"]
    assert_explained_alike(s)


@settings(derandomize=True, max_examples=40, deadline=None)
@given(random_evidence(faults=True))
def test_every_breakdown_at_once_equals_each_alone_on_any_graph(evidence: Evidence) -> None:
    assert_explained_alike(compute_scores(evidence, PARAMS, T0))


def test_score_rows_carry_every_breakdown() -> None:
    s = compute_scores(_network(5), PARAMS, T0)
    table = ScoreTable.of(s)
    rows = [table.row(i) for i in range(len(table))]
    assert [r.entity for r in rows] == list(s.entity_ids)
    for i, row in enumerate(rows):
        assert row.breakdown == breakdown(s, i, top=BREAKDOWN_TOP)
        assert row.kind == s.kind_of(i)
        assert type(row.rank) is int and row.rank == s.rank[i]
        # Exact: a row carries the computed figures themselves.
        assert (row.score, row.mass, row.raw_mass, row.phi) == (
            s.score[i],
            s.mass[i],
            s.raw_mass[i],
            s.phi[i],
        )
        assert (row.percentile, row.fault_rate, row.confidence) == (
            s.percentile[i],
            s.fault_rate[i],
            s.confidence[i],
        )
        assert (row.positive_evidence, row.fault_weight) == (
            s.positive_evidence[i],
            s.fault_weight[i],
        )
    unexplained = ScoreTable.of(s, explain=False)
    assert all(unexplained.row(i).breakdown == {} for i in range(len(unexplained)))


def test_a_table_read_back_from_its_bytes_is_the_same_table() -> None:
    """What a replica loads answers every row, breakdown included, to the last bit."""
    s = compute_scores(_network(5), PARAMS, T0)
    table = ScoreTable.of(s)
    again = table_from_bytes(table_to_bytes(table, PARAMS))
    assert again.entity_ids == table.entity_ids and not again.differing(table)
    # Exact: a stored table gives back every figure bit for bit.
    assert [again.row(i) for i in range(len(again))] == [table.row(i) for i in range(len(table))]
    assert (
        table_from_bytes(table_to_bytes(ScoreTable.of(s, explain=False), PARAMS)).explained is None
    )


def test_differing_names_every_entity_whose_figures_changed_by_a_bit() -> None:
    s = compute_scores(_network(5), PARAMS, T0)
    table = ScoreTable.of(s, explain=False)
    changed = dict(table.figures)
    changed["phi"] = table.figures["phi"].copy()
    changed["phi"][3] = np.nextafter(changed["phi"][3], 2.0)
    changed["rank"] = table.figures["rank"].copy()
    changed["rank"][7] += 1
    other = replace(table, figures=changed)
    assert other.differing(table) == [s.entity_ids[3], s.entity_ids[7]]
    fewer = table.take(list(s.entity_ids[1:]))
    assert fewer.differing(table) == [s.entity_ids[0]]


def test_no_entities_no_breakdowns() -> None:
    empty = compute_scores(EvidenceBuilder().build(), PARAMS, T0)
    assert breakdowns(empty) == [] and len(ScoreTable.of(empty)) == 0


def test_bad_limits_are_refused() -> None:
    s = compute_scores(_network(6), PARAMS, T0)
    with pytest.raises(ValueError, match="top and max_faults"):
        breakdowns(s, top=-1)
    with pytest.raises(IndexError):
        breakdown(s, len(s.entity_ids))


# --- linear time, without timing anything -----------------------------------------------


class Reads(np.ndarray):  # type: ignore[type-arg]
    """An array that counts every indexing and every ufunc that reads it."""

    count = 0

    def __getitem__(self, index: Any) -> Any:
        Reads.count += 1
        return np.asarray(self)[index]

    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        Reads.count += 1
        plain = [np.asarray(a) if isinstance(a, Reads) else a for a in inputs]
        return getattr(ufunc, method)(*plain, **kwargs)


def _counted(s: Scores) -> Scores:
    """``s`` with every evidence array and every per-entity array it reads counted."""
    internals = internals_of(s)
    ev = internals.evidence
    arrays = {
        name: value.view(Reads) for name, value in vars(ev).items() if isinstance(value, np.ndarray)
    }
    counted = replace(
        internals,
        evidence=replace(ev, **arrays),
        transition_scale=internals.transition_scale.view(Reads),
    )
    return replace(
        s,
        internals=counted,
        raw_mass=s.raw_mass.view(Reads),
        personalization=s.personalization.view(Reads),
        kinds=s.kinds.view(Reads),
    )


def test_explaining_everyone_reads_the_arrays_as_often_whatever_their_number() -> None:
    """Each evidence and per-entity array is read a fixed number of times (a whole-array
    operation each) however many entities there are, so the work is linear; one by one,
    the reads grow with the number of entities."""
    reads = {}
    for requesters, receipts in ((10, 60), (300, 3000)):
        net = product(seed=9, requesters=requesters, receipts=receipts)
        net.builder.fault(net.nodes[0], net.witnesses[0], FaultCause.ATTESTED_INVALID, T0, 1.0)
        s = _counted(compute_scores(net.builder.build(), PARAMS, T0))
        Reads.count = 0
        everyone = breakdowns(s)
        reads[len(s.entity_ids)] = Reads.count
        Reads.count = 0
        assert [breakdown(s, i) for i in range(len(s.entity_ids))] == everyone
        assert Reads.count >= 10 * len(s.entity_ids)
    few, many = sorted(reads)
    assert many > 5 * few
    assert reads[few] == reads[many] < 30


@pytest.mark.parametrize("bound", [1, 7, 10**6, 2**62])
def test_stable_sort_is_numpy_stable_argsort(bound: int) -> None:
    key = np.random.default_rng(bound).integers(0, min(bound, 50), 1000)
    order = np.argsort(key, kind="stable")
    ordered, got = _stable_sort(key, bound)
    assert (got == order).all() and (ordered == key[order]).all()
    assert [len(a) for a in _stable_sort(key[:0], bound)] == [0, 0]
