"""Why an entity has its score: top contributors of incoming mass and the faults applied.

At the fixed point an entity's raw mass is exactly the sum of what flows into it:
``x_v = sum_u alpha*M[v, u]*x_u + teleport*p_v``. Each term is attributed to its source
entity and channel (cosign, attest, rating, structural) or to ``teleport``; ``share`` is
the term divided by ``x_v`` (shares of all terms add up to 1).

Explaining every entity (:func:`explanations`, as a score table does) costs one pass
over the evidence, not one per entity: the rows are grouped by (entity, source, channel)
once by sorting, each group is summed with a sequential ``bincount`` and ordered for
publication by one more sort, and each entity then only reads its own slice. A group's
terms are added in ascending row order whichever entities are explained together, so
each gets the same breakdown as ``breakdown(scores, i)`` alone, to the last bit.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from graphsvc.scoring.engine import decayed_weights
from graphsvc.scoring.evidence import (
    KINDS_BY_CODE,
    BoolArray,
    Channel,
    Evidence,
    FaultCause,
    FloatArray,
    IntArray,
    weighted_counts,
)
from graphsvc.scoring.scores import Propagation, Scores

STRUCTURAL = len(Channel)  # pseudo channel code for structural links


def channel_name(code: int) -> str:
    return "structural" if code == STRUCTURAL else Channel(code).name.lower()


# Lists are ordered by weight, then source id, then channel (or cause) *name*: grouping
# codes are the names' ranks, so that ordering by code orders ties like the names.
CHANNELS = sorted([channel_name(c) for c in range(STRUCTURAL + 1)] + ["teleport"])
_CHANNEL_RANK = np.array([CHANNELS.index(channel_name(c)) for c in range(STRUCTURAL + 1)])
_TELEPORT = CHANNELS.index("teleport")
CAUSES = sorted(FaultCause(c).name.lower() for c in range(len(FaultCause)))
_CAUSE_RANK = np.array([CAUSES.index(FaultCause(c).name.lower()) for c in range(len(FaultCause))])
_KIND_NAMES = {code: str(kind) for code, kind in KINDS_BY_CODE.items()}

# ``Scores.entity`` figures by their published name, for reading them column-wise.
_FIGURES = {
    "score": "score",
    "rank": "rank",
    "percentile": "percentile",
    "raw": "raw_mass",
    "mass": "mass",
    "faultRate": "fault_rate",
    "confidence": "confidence",
    "positiveEvidence": "positive_evidence",
    "faultWeight": "fault_weight",
    "phi": "phi",
    "risk": "risk",
    "riskEvents": "risk_events",
    "riskFaultEvents": "risk_fault_events",
    "riskPrior": "risk_prior",
    "riskPriorStrength": "risk_prior_strength",
}


def internals_of(scores: Scores) -> Propagation:
    if scores.internals is None:
        raise ValueError("these scores carry no internals (computed elsewhere or stripped)")
    return scores.internals


def breakdown(
    scores: Scores, entity: int | str, top: int = 5, max_faults: int = 20
) -> dict[str, Any]:
    """JSON-safe explanation of one entity (by index or id), deterministic ordering."""
    v = scores.index_of(entity) if isinstance(entity, str) else int(entity)
    if not 0 <= v < len(scores.entity_ids):
        raise IndexError(f"entity index {v} out of range")
    explained = explanations(scores, top, max_faults, only=v)
    header = scores.entity(scores.entity_ids[v])
    return explained.breakdown(0, header, scores.entity_ids, KindNames(scores.kinds))


def header_of(entity: str, kind: str, figures: Mapping[str, object]) -> dict[str, object]:
    """``Scores.entity`` of one entity from its figures by ``Scores`` attribute name."""
    return {"id": entity, "kind": kind, **{name: figures[attr] for name, attr in _FIGURES.items()}}


def kind_names(kinds: IntArray) -> list[str]:
    """Every entity's kind by name, read in one pass."""
    return [_KIND_NAMES[code] for code in kinds.tolist()]


class KindNames:
    """An entity's kind by name, read from the codes when asked (one entity's breakdown
    should not read every entity's kind)."""

    def __init__(self, kinds: IntArray) -> None:
        self._kinds = kinds

    def __getitem__(self, index: int) -> str:
        return _KIND_NAMES[int(self._kinds[index])]


@dataclass(frozen=True, eq=False)
class Explanations:
    """Every explained entity's breakdown as columns: a dict is only built for the entity
    asked about (:meth:`breakdown`), so explaining a million entities costs array work.

    Explained entities are numbered ``k = 0, 1, ...``; entity ``k``'s listed incoming
    terms are ``incoming_*[incoming_bounds[k]:incoming_bounds[k + 1]]`` and its listed
    faults ``fault_*[fault_bounds[k]:fault_bounds[k + 1]]``. Sources are entity indices
    (``-1``: teleport); channels and causes index ``CHANNELS`` and ``CAUSES``.
    """

    as_of_ms: int
    incoming_bounds: IntArray
    incoming_source: IntArray
    incoming_channel: IntArray
    incoming_mass: FloatArray
    incoming_share: FloatArray
    incoming_other_share: FloatArray
    incoming_sources: IntArray
    fault_bounds: IntArray
    fault_source: IntArray
    fault_cause: IntArray
    fault_weight: FloatArray
    fault_count: IntArray
    fault_sources: IntArray
    fault_events: IntArray

    def __len__(self) -> int:
        return len(self.incoming_bounds) - 1

    def breakdown(
        self,
        k: int,
        header: Mapping[str, object],
        ids: Sequence[str],
        kinds: Sequence[str] | KindNames,
    ) -> dict[str, Any]:
        """The breakdown of explained entity ``k``, whose ``Scores.entity`` is
        ``header``; ``ids`` and ``kinds`` name the sources."""
        lo, hi = int(self.incoming_bounds[k]), int(self.incoming_bounds[k + 1])
        incoming = [
            {
                "source": ids[s] if s >= 0 else None,
                "kind": kinds[s] if s >= 0 else None,
                "channel": CHANNELS[c],
                "mass": m,
                "share": sh,
            }
            for s, c, m, sh in zip(
                self.incoming_source[lo:hi].tolist(),
                self.incoming_channel[lo:hi].tolist(),
                self.incoming_mass[lo:hi].tolist(),
                self.incoming_share[lo:hi].tolist(),
                strict=True,
            )
        ]
        lo, hi = int(self.fault_bounds[k]), int(self.fault_bounds[k + 1])
        faults = [
            {
                "source": ids[s],
                "kind": kinds[s],
                "cause": CAUSES[c],
                "weight": w,
                "events": n,
            }
            for s, c, w, n in zip(
                self.fault_source[lo:hi].tolist(),
                self.fault_cause[lo:hi].tolist(),
                self.fault_weight[lo:hi].tolist(),
                self.fault_count[lo:hi].tolist(),
                strict=True,
            )
        ]
        return {
            **header,
            "asOf": self.as_of_ms,
            "incoming": incoming,
            "incomingOtherShare": float(self.incoming_other_share[k]),
            "incomingSources": int(self.incoming_sources[k]),
            "faults": faults,
            "faultSources": int(self.fault_sources[k]),
            "faultEvents": int(self.fault_events[k]),
        }

    def columns(self) -> list[tuple[str, str, np.ndarray]]:
        """Every column as ``(name, dtype, values)``, for storing them exactly."""
        return [
            (
                f.name,
                "<f8" if getattr(self, f.name).dtype.kind == "f" else "<i8",
                getattr(self, f.name),
            )
            for f in fields(self)
            if f.name != "as_of_ms"
        ]

    @classmethod
    def of_columns(cls, as_of_ms: int, stored: Mapping[str, np.ndarray]) -> Explanations:
        return cls(
            as_of_ms=as_of_ms,
            **{f.name: stored[f.name] for f in fields(cls) if f.name != "as_of_ms"},
        )


def explanations(
    scores: Scores, top: int = 5, max_faults: int = 20, only: int | None = None
) -> Explanations:
    """Every entity's breakdown as columns (or ``only`` one's, as ``k = 0``), in one pass
    over the rows that point at them."""
    if top < 0 or max_faults < 0:
        raise ValueError("top and max_faults must be >= 0")
    count = len(scores.entity_ids) if only is None else 1
    ev = internals_of(scores).evidence
    # The rows to explain from: all of them, or those pointing at ``only``.
    edges: IntArray | slice = slice(None)
    structs: IntArray | slice = slice(None)
    fault_rows: IntArray | slice = slice(None)
    if only is not None:
        edges = np.flatnonzero(ev.edge_dst == only)
        structs = np.flatnonzero(ev.struct_dst == only)
        fault_rows = np.flatnonzero(ev.fault_party == only)
    incoming = _incoming(scores, ev, edges, structs, count, only, top)
    faults = _faults(scores, ev, fault_rows, count, only, max_faults)
    return Explanations(scores.as_of_ms, *incoming, *faults)


def _local(entity: IntArray, only: int | None) -> IntArray:
    """``k`` of rows' entities (with ``only``, the rows all point at it)."""
    return entity if only is None else np.zeros_like(entity)


def _explained(values: FloatArray, only: int | None) -> FloatArray:
    """A per-entity array restricted to the explained entities."""
    return values if only is None else values[[only]]


def _incoming(
    scores: Scores,
    ev: Evidence,
    edges: IntArray | slice,
    structs: IntArray | slice,
    count: int,
    only: int | None,
    top: int,
) -> tuple[IntArray, IntArray, IntArray, FloatArray, FloatArray, FloatArray, IntArray]:
    internals = internals_of(scores)
    params = scores.params
    x = scores.raw_mass
    flow = decayed_weights(
        ev.edge_amount[edges], ev.edge_ref_ms[edges], scores.as_of_ms, params.half_life_ms
    )
    struct_src = ev.struct_src[structs]
    srcs = np.concatenate((ev.edge_src[edges], struct_src))
    flow = np.concatenate((flow, np.full(len(struct_src), params.structural_weight)))
    # Per source entity, evaluated as (alpha*x)*scale like per row: the same bits.
    flow *= (params.alpha * x * internals.transition_scale)[srcs]
    codes = np.concatenate(
        (
            _CHANNEL_RANK[ev.edge_channel[edges]],
            np.full(len(struct_src), _CHANNEL_RANK[STRUCTURAL], dtype=np.int64),
        )
    )
    dsts = _local(np.concatenate((ev.edge_dst[edges], ev.struct_dst[structs])), only)
    flows = _Sums.of(dsts, srcs, codes, len(CHANNELS), flow)
    del srcs, flow, dsts, codes
    flowing = flows.total > 0

    # The teleport term goes before the flows: its source (none) lists first on ties.
    teleport = internals.teleport * _explained(scores.personalization, only)
    teleported = np.flatnonzero(teleport > 0)
    entry = np.concatenate((teleported, flows.entity[flowing]))
    mass = np.concatenate((teleport[teleported], flows.total[flowing]))
    source = np.concatenate((np.full(len(teleported), -1), flows.source[flowing]))
    code = np.concatenate((np.full(len(teleported), _TELEPORT), flows.code[flowing]))
    del flows, flowing
    x_v = _explained(x, only)[entry]
    share = np.zeros(len(mass), dtype=np.float64)
    np.divide(mass, x_v, out=share, where=x_v > 0)
    del x_v

    listed = _Listing.of(entry, mass, count, top)
    hidden = ~listed.shown
    other = weighted_counts(listed.entity[hidden], share[listed.order[hidden]], count)
    pick = listed.order[listed.shown]
    return (
        listed.bounds,
        source[pick],
        code[pick],
        mass[pick],
        share[pick],
        other,
        listed.counts,
    )


def _faults(
    scores: Scores, ev: Evidence, rows: IntArray | slice, count: int, only: int | None, limit: int
) -> tuple[IntArray, IntArray, IntArray, FloatArray, IntArray, IntArray, IntArray]:
    parties = _local(ev.fault_party[rows], only)
    weight = decayed_weights(
        ev.fault_amount[rows],
        ev.fault_ref_ms[rows],
        scores.as_of_ms,
        scores.params.half_life_ms,
    )
    # As the engine weighs them: an accusation by its witness's standing.
    weight *= internals_of(scores).fault_factor[rows]
    events = np.bincount(parties, minlength=count)
    causes = _CAUSE_RANK[ev.fault_cause[rows]]
    faults = _Sums.of(parties, ev.fault_source[rows], causes, len(CAUSES), weight)
    listed = _Listing.of(faults.entity, faults.total, count, limit)
    pick = listed.order[listed.shown]
    return (
        listed.bounds,
        faults.source[pick],
        faults.code[pick],
        faults.total[pick],
        faults.rows[pick],
        listed.counts,
        events,
    )


@dataclass(frozen=True)
class _Sums:
    """Rows summed per ``(entity, source, code)``, ordered by entity, source, code."""

    entity: IntArray
    source: IntArray
    code: IntArray
    total: FloatArray
    rows: IntArray  # how many rows each sum adds

    @classmethod
    def of(
        cls, entity: IntArray, source: IntArray, code: IntArray, codes: int, weight: FloatArray
    ) -> _Sums:
        """Each sum adds its rows in ascending row order (a stable sort keeps it), one
        after the other (``bincount``): bit for bit what summing them alone gives."""
        pairs = (int(source.max(initial=0)) + 1) * codes
        # The entities that have rows, numbered densely: (entity, pair) packs into fewer bits.
        present = np.zeros(int(entity.max(initial=-1)) + 1, dtype=np.bool_)
        present[entity] = True
        dense = np.cumsum(present) - 1
        numbered = int(dense[-1]) + 1 if len(dense) else 0
        if numbered * pairs >= 2**63:
            raise ValueError(f"too many entities to explain at once ({len(present)})")
        key = dense[entity] * pairs
        key += source * codes
        key += code
        key, order = _stable_sort(key, numbered * pairs)
        first = np.ones(len(key), dtype=np.bool_)
        np.not_equal(key[1:], key[:-1], out=first[1:])
        total = weighted_counts(np.cumsum(first) - 1, weight[order], int(first.sum()))
        del order
        starts = np.flatnonzero(first)
        rows = np.diff(np.append(starts, len(key)))
        key = key[starts]
        pair = key % pairs
        entities = np.flatnonzero(present)[key // pairs]
        return cls(entities, pair // codes, pair % codes, total, rows)


@dataclass(frozen=True)
class _Listing:
    """Entries ordered by entity, then value descending (ties keep their order); the
    first ``limit`` of each entity are shown, entity ``k``'s at ``[bounds[k], bounds[k+1])``
    among the shown ones."""

    order: IntArray
    entity: IntArray  # of each entry, in that order
    shown: BoolArray  # in that order
    counts: IntArray  # entries per entity
    bounds: IntArray

    @classmethod
    def of(cls, entity: IntArray, value: FloatArray, entities: int, limit: int) -> _Listing:
        key = np.empty(len(entity), dtype=np.complex128)  # sorts by (real, imag)
        key.real = entity
        key.imag = value
        np.negative(key.imag, out=key.imag)
        order = np.argsort(key, kind="stable")
        del key
        counts = np.bincount(entity, minlength=entities)
        first = np.concatenate(([0], np.cumsum(counts)[:-1]))
        ranked = np.repeat(np.arange(entities), counts)
        shown = np.arange(len(order)) - first[ranked] < limit
        bounds = np.concatenate(([0], np.cumsum(np.minimum(counts, limit))))
        return cls(order, ranked, shown, counts, bounds)


def _stable_sort(key: IntArray, bound: int) -> tuple[IntArray, IntArray]:
    """``(key[order], order)`` with ``order = np.argsort(key, kind="stable")``, for
    ``0 <= key < bound``.

    With each row's index packed below its key the keys are distinct, so numpy's plain
    sort (vectorised: several times faster than a stable argsort) gives the same order.
    """
    rows = len(key)
    if bound * rows >= 2**63:
        order: IntArray = np.argsort(key, kind="stable")
        return key[order], order
    packed = key * rows
    packed += np.arange(rows, dtype=np.int64)
    packed.sort()
    return np.floor_divide(packed, rows), np.remainder(packed, rows)
