"""One snapshot's published figures as columns, with every entity's explanation.

A recompute at a million entities cannot afford a Python object per entity: the table
keeps the engine's arrays as they are, and a :class:`ScoreRow` (with its breakdown) is
only built for an entity someone reads. Leaderboards, filters and sums are array work.
"""

from __future__ import annotations

import bisect
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from functools import cached_property
from typing import Any

import numpy as np

from graphsvc.domain import EntityKind
from graphsvc.domain.score_snapshots import ScoreRow
from graphsvc.scoring import columns
from graphsvc.scoring.evidence import KIND_CODES, KINDS_BY_CODE, IntArray
from graphsvc.scoring.explain import Explanations, explanations, header_of, kind_names
from graphsvc.scoring.params import ScoringParams
from graphsvc.scoring.risk import posterior_mean
from graphsvc.scoring.scores import Scores, confidence, fault_rate, phi_of, score_of

BREAKDOWN_TOP = 5
# Rows a table keeps once built (each a few kB with its breakdown).
ROWS_KEPT = 4_096
UNSET_PRIOR = 0.5  # the derivation's prior of a kind the table has no entity of

# ScoreRow's figures, in its field order: (entity, kind, *core, breakdown, as_of_ms,
# *RISK_FIGURES). Each is named like the Scores array it comes from; ``rank`` is an
# integer column. The risk figures came later (docs/reference.md#risk): a snapshot stored
# before them has NaN columns, and its rows None.
_NAMES = tuple(field.name for field in fields(ScoreRow))
RISK_FIGURES: tuple[str, ...] = _NAMES[_NAMES.index("as_of_ms") + 1 :]
FIGURES: tuple[str, ...] = (*_NAMES[2 : _NAMES.index("breakdown")], *RISK_FIGURES)


@dataclass(frozen=True, eq=False)
class ScoreTable:
    """Figures of every entity at ``as_of_ms``, entities in ascending id order."""

    as_of_ms: int
    entity_ids: Sequence[str]
    kinds: IntArray
    figures: Mapping[str, np.ndarray]
    explained: Explanations | None = None  # None: the rows carry empty breakdowns

    @classmethod
    def of(cls, scores: Scores, *, explain: bool = True) -> ScoreTable:
        """The published figures of ``scores``; every entity explained in one pass over
        the evidence when ``explain``."""
        return cls(
            as_of_ms=scores.as_of_ms,
            entity_ids=scores.entity_ids,
            kinds=scores.kinds,
            figures={name: getattr(scores, name) for name in FIGURES},
            explained=explanations(scores, top=BREAKDOWN_TOP) if explain else None,
        )

    def __len__(self) -> int:
        return len(self.entity_ids)

    def index_of(self, entity: str) -> int | None:
        i = bisect.bisect_left(self.entity_ids, entity)
        return i if i < len(self.entity_ids) and self.entity_ids[i] == entity else None

    def row(self, i: int) -> ScoreRow:
        """Entity ``i``'s row, its breakdown explained if the table has explanations.

        Rows are immutable and the same pages are read over and over (a leaderboard's
        top, a dashboard's entities), so built rows are kept: a few thousand per table,
        forgotten all at once when that many are held."""
        rows = self._rows
        found = rows.get(i)
        if found is None:
            if len(rows) >= ROWS_KEPT:
                rows.clear()
            found = rows[i] = self._build_row(i)
        return found

    @cached_property
    def _rows(self) -> dict[int, ScoreRow]:
        return {}

    def _build_row(self, i: int) -> ScoreRow:
        values = {name: column[i].item() for name, column in self.figures.items()}
        for name in RISK_FIGURES:
            if np.isnan(values[name]):
                values[name] = None
        kind = KINDS_BY_CODE[int(self.kinds[i])]
        entity = self.entity_ids[i]
        breakdown = (
            self.explained.breakdown(
                i, header_of(entity, str(kind), values), self.entity_ids, self._kind_names
            )
            if self.explained is not None
            else {}
        )
        return ScoreRow(entity, kind, **values, breakdown=breakdown, as_of_ms=self.as_of_ms)

    @cached_property
    def _kind_names(self) -> list[str]:
        return kind_names(self.kinds)

    def ranked(self, kind: EntityKind) -> IntArray:
        """Indices of the entities of ``kind``, best first (rank 1, 2, ...)."""
        return self._ranked[kind]

    @cached_property
    def _ranked(self) -> dict[EntityKind, IntArray]:
        ranks = self.figures["rank"]
        ranked = {}
        for kind in EntityKind:
            members = np.flatnonzero(self.kinds == KIND_CODES[kind])
            ranked[kind] = members[np.argsort(ranks[members], kind="stable")]
        return ranked

    def risk_ranked(self, kind: EntityKind) -> IntArray:
        """Indices of the entities of ``kind``, lowest risk first, equal risks by rank."""
        return self._risk_ranked[kind]

    @cached_property
    def _risk_ranked(self) -> dict[EntityKind, IntArray]:
        risk, ranks = self.figures["risk"], self.figures["rank"]
        ranked = {}
        for kind in EntityKind:
            members = np.flatnonzero(self.kinds == KIND_CODES[kind])
            ranked[kind] = members[np.lexsort((ranks[members], risk[members]))]
        return ranked

    def mass_by_kind(self) -> dict[EntityKind, float]:
        sums = np.bincount(self.kinds, weights=self.figures["mass"], minlength=len(KIND_CODES))
        return {kind: float(sums[KIND_CODES[kind]]) for kind in EntityKind}

    def differing(self, other: ScoreTable) -> list[str]:
        """Ids of the entities whose figures are not bit for bit those of ``other``, or
        that only one of the two tables scores; sorted."""
        if list(self.entity_ids) != list(other.entity_ids):
            mine, theirs = set(self.entity_ids), set(other.entity_ids)
            shared = sorted(mine & theirs)
            return sorted((mine ^ theirs) | set(self.take(shared).differing(other.take(shared))))
        same = np.ones(len(self), dtype=np.bool_)
        for name in FIGURES:
            # Compare bits: -0.0 differs from 0.0 and a NaN equals itself.
            same &= _bits(self.figures[name]) == _bits(other.figures[name])
        same &= self.kinds == other.kinds
        return [self.entity_ids[i] for i in np.flatnonzero(~same).tolist()]

    def take(self, ids: Sequence[str]) -> ScoreTable:
        """The figures of ``ids`` (ascending, all scored here), without explanations."""
        positions = np.array([self.index_of(entity) for entity in ids], dtype=np.int64)
        return ScoreTable(
            as_of_ms=self.as_of_ms,
            entity_ids=tuple(ids),
            kinds=self.kinds[positions],
            figures={name: column[positions] for name, column in self.figures.items()},
        )


# What a stored shard keeps of each entity; its other figures are derived from these with
# the engine's own functions, so they come back bit for bit
# (docs/decisions/0036-scores-as-columns.md).
STORED_FIGURES = (
    "raw_mass",
    "positive_evidence",
    "fault_weight",
    "rank",
    "percentile",
    "risk_events",
    "risk_fault_events",
)


def derivation(table: ScoreTable, params: ScoringParams) -> dict[str, Any]:
    """What deriving the other figures needs besides the stored ones: JSON-safe."""
    tops = [0.0] * len(KIND_CODES)
    priors = [UNSET_PRIOR] * len(KIND_CODES)
    strengths = [params.risk_prior_strength] * len(KIND_CODES)
    mass, prior = table.figures["mass"], table.figures["risk_prior"]
    strength = table.figures["risk_prior_strength"]
    for code in np.unique(table.kinds).tolist():
        members = table.kinds == code
        tops[code] = float(mass[members].max())
        priors[code] = float(prior[members][0])  # one prior per kind
        strengths[code] = float(strength[members][0])
    return {
        "beta": params.beta,
        "lam": params.lam,
        "confidence_scale": params.confidence_scale,
        "top": tops,
        "risk_prior": priors,
        "risk_prior_strengths": strengths,  # fitted per kind (§3.8)
    }


def derived_figures(
    stored: Mapping[str, np.ndarray], kinds: IntArray, how: Mapping[str, Any]
) -> dict[str, np.ndarray]:
    """Every figure from the :data:`STORED_FIGURES` and the :func:`derivation`."""
    e, f = stored["positive_evidence"], stored["fault_weight"]
    phi = phi_of(e, f, how["beta"], how["lam"])
    mass = phi * stored["raw_mass"]
    k, n = stored["risk_fault_events"], stored["risk_events"]
    prior = np.array(how["risk_prior"], dtype=np.float64)[kinds]
    strength = np.array(how["risk_prior_strengths"], dtype=np.float64)[kinds]
    risk = posterior_mean(k, n, prior, strength)
    return {
        **stored,
        "rank": stored["rank"].astype(np.int64),
        "phi": phi,
        "mass": mass,
        "score": score_of(mass, np.array(how["top"], dtype=np.float64)[kinds]),
        "fault_rate": fault_rate(e, f),
        "confidence": confidence(e, f, how["confidence_scale"]),
        "risk": risk,
        "risk_prior": prior,
        "risk_prior_strength": strength,
    }


def _bits(column: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(column).view(np.int64)


_TABLE_MAGIC = b"graphsvc-score-table-v2\n"
_EXPLAINED = "x_"  # prefix of the explanation columns in a table's bytes


def figure_dtype(name: str) -> str:
    return "<i8" if name == "rank" else "<f8"


def table_to_bytes(table: ScoreTable, params: ScoringParams, level: int = 1) -> bytes:
    """The whole table, explanations included, exactly (what a replica loads): like a
    shard, its :data:`STORED_FIGURES` and the :func:`derivation` of the others;
    ``params`` are the ones the table was computed with."""
    arrays: list[tuple[str, str, np.ndarray]] = [
        ("ids", "<u1", columns.pack_strings(table.entity_ids)),
        ("kinds", "<i1", table.kinds),
        *((name, figure_dtype(name), table.figures[name]) for name in STORED_FIGURES),
    ]
    if table.explained is not None:
        arrays += [(_EXPLAINED + name, dtype, v) for name, dtype, v in table.explained.columns()]
    header = {
        "as_of_ms": table.as_of_ms,
        "entities": len(table),
        "derivation": derivation(table, params),
    }
    return columns.pack(_TABLE_MAGIC, header, arrays, level=level)


def table_from_bytes(data: bytes) -> ScoreTable:
    header, arrays = columns.unpack(_TABLE_MAGIC, data, "score table")
    explained = {k[len(_EXPLAINED) :]: v for k, v in arrays.items() if k.startswith(_EXPLAINED)}
    as_of_ms = int(header["as_of_ms"])
    kinds = arrays["kinds"].astype(np.int64)
    stored = {name: arrays[name] for name in STORED_FIGURES}
    return ScoreTable(
        as_of_ms=as_of_ms,
        entity_ids=tuple(columns.unpack_strings(arrays["ids"], int(header["entities"]))),
        kinds=kinds,
        figures=derived_figures(stored, kinds, header["derivation"]),
        explained=Explanations.of_columns(as_of_ms, explained) if explained else None,
    )


class _KeyMemo:
    """The keys of the last id sequence asked about: successive recomputes mostly score
    the same entities, and hashing a million ids costs most of a second. One tuple, so a
    thread never pairs one call's ids with another's keys."""

    last: tuple[Sequence[str], np.ndarray] = ((), np.zeros(0, dtype=np.uint64))


def entity_keys(ids: Sequence[str]) -> np.ndarray:
    """A stable 64-bit key per id (BLAKE2b): how stored score shards name an entity
    without repeating its id in every snapshot."""
    known, keys = _KeyMemo.last
    if len(ids) != len(known) or tuple(ids) != tuple(known):
        keys = np.frombuffer(b"".join(map(_key_bytes, ids)), dtype="<u8")
        _KeyMemo.last = (ids, keys)
    return keys


def entity_key(entity: str) -> int:
    return int.from_bytes(_key_bytes(entity), "little")


def _key_bytes(entity: str) -> bytes:
    return hashlib.blake2b(entity.encode("utf-8"), digest_size=8).digest()
