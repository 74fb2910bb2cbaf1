"""Why an entity has its score: top contributors of incoming mass and the faults applied.

At the fixed point an entity's raw mass is exactly the sum of what flows into it:
``x_v = sum_u alpha*M[v, u]*x_u + teleport*p_v``. Each term is attributed to its source
entity and channel (cosign, attest, rating, structural) or to ``teleport``; ``share`` is
the term divided by ``x_v`` (shares of all terms add up to 1).

Explaining every entity (:func:`breakdowns`) costs one pass over the evidence, not one
per entity: the rows are grouped by (entity, source, channel) once by sorting, each
group is summed with a sequential ``bincount`` and ordered for publication by one more
sort, and each entity then only reads its own slice. A group's terms are added in
ascending row order whichever entities are explained together, so
``breakdowns(scores)[i] == breakdown(scores, i)`` to the last bit.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from graphsvc.scoring.engine import decayed_weights
from graphsvc.scoring.evidence import (
    KINDS_BY_CODE,
    Channel,
    FaultCause,
    FloatArray,
    IntArray,
    weighted_counts,
)
from graphsvc.scoring.personalization import BoolArray
from graphsvc.scoring.scores import Propagation, Scores

STRUCTURAL = len(Channel)  # pseudo channel code for structural links


def channel_name(code: int) -> str:
    return "structural" if code == STRUCTURAL else Channel(code).name.lower()


# Lists are ordered by weight, then source id, then channel (or cause) *name*: grouping
# codes are the names' ranks, so that ordering by code orders ties like the names.
_CHANNELS = sorted([channel_name(c) for c in range(STRUCTURAL + 1)] + ["teleport"])
_CHANNEL_RANK = np.array([_CHANNELS.index(channel_name(c)) for c in range(STRUCTURAL + 1)])
_TELEPORT = _CHANNELS.index("teleport")
_CAUSES = sorted(FaultCause(c).name.lower() for c in range(len(FaultCause)))
_CAUSE_RANK = np.array([_CAUSES.index(FaultCause(c).name.lower()) for c in range(len(FaultCause))])
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
    explained = _Explanations(scores, top, max_faults, only=v)
    return explained.explain(0, scores.entity(scores.entity_ids[v]))


def breakdowns(scores: Scores, top: int = 5, max_faults: int = 20) -> list[dict[str, Any]]:
    """``breakdown(scores, i, top, max_faults)`` for every entity ``i``, in index order,
    in time linear in the evidence (plus sorting each entity's own rows)."""
    explained = _Explanations(scores, top, max_faults)
    return [explained.explain(i, header) for i, header in enumerate(_headers(scores))]


def _headers(scores: Scores) -> Iterator[dict[str, object]]:
    """``scores.entity(id)`` for every entity in index order, read column-wise."""
    names = ("id", "kind", *_FIGURES)
    kinds = [_KIND_NAMES[code] for code in scores.kinds.tolist()]
    columns = [getattr(scores, attr).tolist() for attr in _FIGURES.values()]
    for row in zip(scores.entity_ids, kinds, *columns, strict=True):
        yield dict(zip(names, row, strict=True))


class _Explanations:
    """Breakdowns of every entity, or ``only`` one, from the rows that point at them.

    Explained entities are numbered ``k = 0, 1, ...`` (every entity: its index; ``only``:
    0). Per-entity figures are lists indexed by ``k``; listed contributions and faults
    are prebuilt dicts, entity ``k``'s at ``[bounds[k], bounds[k + 1])``.
    """

    def __init__(self, scores: Scores, top: int, max_faults: int, only: int | None = None) -> None:
        if top < 0 or max_faults < 0:
            raise ValueError("top and max_faults must be >= 0")
        self.scores, self.only = scores, only
        self.count = len(scores.entity_ids) if only is None else 1  # entities explained
        self.ev = ev = internals_of(scores).evidence
        # The rows to explain from: all of them, or those pointing at ``only``.
        self.edges: IntArray | slice = slice(None)
        self.structs: IntArray | slice = slice(None)
        self.faults: IntArray | slice = slice(None)
        if only is not None:
            self.edges = np.flatnonzero(ev.edge_dst == only)
            self.structs = np.flatnonzero(ev.struct_dst == only)
            self.faults = np.flatnonzero(ev.fault_party == only)
        self._list_incoming(top)
        self._list_faults(max_faults)

    def _local(self, entity: IntArray) -> IntArray:
        """``k`` of rows' entities (with ``only``, the rows all point at it)."""
        return entity if self.only is None else np.zeros_like(entity)

    def _explained(self, values: FloatArray) -> FloatArray:
        """A per-entity array restricted to the explained entities."""
        return values if self.only is None else values[[self.only]]

    def _list_incoming(self, top: int) -> None:
        scores, ev, edges, structs = self.scores, self.ev, self.edges, self.structs
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
        dsts = self._local(np.concatenate((ev.edge_dst[edges], ev.struct_dst[structs])))
        flows = _Sums.of(dsts, srcs, codes, len(_CHANNELS), flow)
        del srcs, flow, dsts, codes
        flowing = flows.total > 0

        # The teleport term goes before the flows: its source (none) lists first on ties.
        teleport = internals.teleport * self._explained(scores.personalization)
        teleported = np.flatnonzero(teleport > 0)
        entry = np.concatenate((teleported, flows.entity[flowing]))
        mass = np.concatenate((teleport[teleported], flows.total[flowing]))
        source = np.concatenate((np.full(len(teleported), -1), flows.source[flowing]))
        code = np.concatenate((np.full(len(teleported), _TELEPORT), flows.code[flowing]))
        del flows, flowing
        x_v = self._explained(x)[entry]
        share = np.zeros(len(mass), dtype=np.float64)
        np.divide(mass, x_v, out=share, where=x_v > 0)
        del x_v

        listed = _Listing.of(entry, mass, self.count, top)
        hidden = ~listed.shown
        other = weighted_counts(listed.entity[hidden], share[listed.order[hidden]], self.count)
        self.other_share = other.tolist()
        self.sources = listed.counts.tolist()
        self.bounds = listed.bounds
        pick = listed.order[listed.shown]
        source, code = source[pick], code[pick]
        ids, kinds = scores.entity_ids, scores.kinds[np.maximum(source, 0)].tolist()
        self.incoming: list[dict[str, Any]] = [
            {
                "source": ids[s] if s >= 0 else None,
                "kind": _KIND_NAMES[k] if s >= 0 else None,
                "channel": _CHANNELS[c],
                "mass": m,
                "share": sh,
            }
            for s, k, c, m, sh in zip(
                source.tolist(),
                kinds,
                code.tolist(),
                mass[pick].tolist(),
                share[pick].tolist(),
                strict=True,
            )
        ]

    def _list_faults(self, max_faults: int) -> None:
        scores, ev, rows = self.scores, self.ev, self.faults
        parties = self._local(ev.fault_party[rows])
        weight = decayed_weights(
            ev.fault_amount[rows],
            ev.fault_ref_ms[rows],
            scores.as_of_ms,
            scores.params.half_life_ms,
        )
        self.fault_events = np.bincount(parties, minlength=self.count).tolist()
        causes = _CAUSE_RANK[ev.fault_cause[rows]]
        faults = _Sums.of(parties, ev.fault_source[rows], causes, len(_CAUSES), weight)
        listed = _Listing.of(faults.entity, faults.total, self.count, max_faults)
        self.fault_sources = listed.counts.tolist()
        self.fault_bounds = listed.bounds
        pick = listed.order[listed.shown]
        source = faults.source[pick]
        ids = scores.entity_ids
        self.listed_faults: list[dict[str, Any]] = [
            {
                "source": ids[s],
                "kind": _KIND_NAMES[k],
                "cause": _CAUSES[c],
                "weight": wt,
                "events": count,
            }
            for s, k, c, wt, count in zip(
                source.tolist(),
                scores.kinds[source].tolist(),
                faults.code[pick].tolist(),
                faults.total[pick].tolist(),
                faults.rows[pick].tolist(),
                strict=True,
            )
        ]

    def explain(self, k: int, header: dict[str, object]) -> dict[str, Any]:
        """The breakdown of explained entity ``k``, whose ``Scores.entity`` is ``header``."""
        return {
            **header,
            "asOf": self.scores.as_of_ms,
            "incoming": self.incoming[self.bounds[k] : self.bounds[k + 1]],
            "incomingOtherShare": self.other_share[k],
            "incomingSources": self.sources[k],
            "faults": self.listed_faults[self.fault_bounds[k] : self.fault_bounds[k + 1]],
            "faultSources": self.fault_sources[k],
            "faultEvents": self.fault_events[k],
        }


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
    bounds: list[int]

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
        bounds = np.concatenate(([0], np.cumsum(np.minimum(counts, limit)))).tolist()
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
