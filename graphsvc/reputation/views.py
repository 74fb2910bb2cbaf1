"""One snapshot's scores indexed for reads, and the reads the API pages and diffs:
leaderboard pages under a filter, and the score changes between two snapshots."""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import overload

import numpy as np

from graphsvc.domain import EntityKind
from graphsvc.domain.score_snapshots import ScoreRow, SnapshotInfo
from graphsvc.scoring.evidence import KIND_CODES, BoolArray, IntArray
from graphsvc.scoring.risk import credible_interval
from graphsvc.scoring.table import ScoreTable


class Order(StrEnum):
    BEST_FIRST = "best_first"
    WORST_FIRST = "worst_first"
    LOWEST_RISK = "lowest_risk"  # by risk, then rank (docs/reference.md#risk)
    HIGHEST_RISK = "highest_risk"


@dataclass(frozen=True)
class ScoreFilter:
    """Only entities meeting all of the bounds that are set."""

    min_score: float | None = None
    max_fault_rate: float | None = None
    min_fault_rate: float | None = None
    min_confidence: float | None = None
    max_risk: float | None = None

    def mask(self, table: ScoreTable, positions: IntArray) -> BoolArray:
        """Which of the table's entities at ``positions`` are within every bound set."""
        keep = np.ones(len(positions), dtype=np.bool_)
        figures = table.figures
        for bound, column, at_least in (
            (self.min_score, "score", True),
            (self.max_fault_rate, "fault_rate", False),
            (self.min_fault_rate, "fault_rate", True),
            (self.min_confidence, "confidence", True),
        ):
            if bound is not None:
                values = figures[column][positions]
                keep &= values >= bound if at_least else values <= bound
        if self.max_risk is not None:
            keep &= table.figures["risk"][positions] <= self.max_risk
        return keep


@dataclass(frozen=True)
class LeaderboardPage:
    """A slice of an ordered list: its rows, where it ended, and the list's length."""

    rows: list[ScoreRow]
    end: int | None  # position of the last row in the whole list; None for an empty page
    total: int

    @property
    def has_next(self) -> bool:
        return self.end is not None and self.end + 1 < self.total


@dataclass(frozen=True)
class ScoreChange:
    """An entity's score in the newer snapshot, and in the older one (None: unscored)."""

    before: float | None
    row: ScoreRow


class RowsById(Mapping[str, ScoreRow]):
    """A table's rows by entity id, each built when read."""

    def __init__(self, table: ScoreTable) -> None:
        self._table = table

    def __getitem__(self, entity: str) -> ScoreRow:
        i = self._table.index_of(entity)
        if i is None:
            raise KeyError(entity)
        return self._table.row(i)

    def __iter__(self) -> Iterator[str]:
        return iter(self._table.entity_ids)

    def __len__(self) -> int:
        return len(self._table)


class RankedRows(Sequence[ScoreRow]):
    """Rows of the given table positions, in that order, each built when read."""

    def __init__(self, table: ScoreTable, positions: IntArray) -> None:
        self._table = table
        self.positions = positions

    @overload
    def __getitem__(self, index: int) -> ScoreRow: ...
    @overload
    def __getitem__(self, index: slice) -> list[ScoreRow]: ...
    def __getitem__(self, index: int | slice) -> ScoreRow | list[ScoreRow]:
        if isinstance(index, slice):
            return [self._table.row(i) for i in self.positions[index].tolist()]
        return self._table.row(int(self.positions[index]))

    def __len__(self) -> int:
        return len(self.positions)


@dataclass
class SnapshotView:
    """One snapshot's scores, indexed for the API."""

    info: SnapshotInfo
    table: ScoreTable

    @classmethod
    def of(cls, info: SnapshotInfo, table: ScoreTable) -> SnapshotView:
        """A view of ``table``, its rank orders computed now: before it is served, so no
        first read pays for them."""
        table.ranked(EntityKind.NODE)
        return cls(info, table)

    @property
    def by_entity(self) -> RowsById:
        return RowsById(self.table)

    @property
    def ranked(self) -> dict[EntityKind, RankedRows]:
        return {kind: RankedRows(self.table, self.table.ranked(kind)) for kind in EntityKind}

    def leaderboard(
        self,
        kind: EntityKind,
        *,
        after: int | None = None,
        size: int,
        order: Order = Order.BEST_FIRST,
        where: ScoreFilter | None = None,
    ) -> LeaderboardPage:
        """``size`` entities of ``kind`` of the ordered, filtered list: those after
        position ``after`` (the end of the previous page), or from its start."""
        start = 0 if after is None else after + 1
        if order in (Order.LOWEST_RISK, Order.HIGHEST_RISK):
            members = self.table.risk_ranked(kind)
        else:
            members = self.table.ranked(kind)
        if order in (Order.WORST_FIRST, Order.HIGHEST_RISK):
            members = members[::-1]
        if where is not None:
            members = members[where.mask(self.table, members)]
        rows = RankedRows(self.table, members)[start : start + size]
        return LeaderboardPage(
            rows=rows, end=start + len(rows) - 1 if rows else None, total=len(members)
        )

    def mass_by_kind(self) -> dict[EntityKind, float]:
        return self.table.mass_by_kind()


def risk_interval(row: ScoreRow) -> tuple[float, float]:
    """The 90 % credible interval of ``row``'s risk; the prior's strength is fitted per
    kind (docs/reference.md#risk)."""
    return credible_interval(
        row.risk_fault_events, row.risk_events, row.risk_prior, row.risk_prior_strength
    )


def score_changes(
    previous: SnapshotView | None,
    current: SnapshotView,
    *,
    entities: Collection[str] | None = None,
    kind: EntityKind | None = None,
    min_delta: float = 0.0,
) -> list[ScoreChange]:
    """Entities of ``current`` (only ``entities`` / ``kind`` if given) whose score moved
    by more than ``min_delta`` since ``previous``, or that it did not score; by id."""
    table = current.table
    if entities is not None:
        found = (table.index_of(e) for e in sorted(set(entities)))
        candidates = np.array([i for i in found if i is not None], dtype=np.int64)
    else:
        candidates = np.arange(len(table))
    if kind is not None:
        candidates = candidates[table.kinds[candidates] == KIND_CODES[kind]]
    scores = table.figures["score"]
    before = np.full(len(candidates), np.nan)
    if previous is not None:
        old = previous.table
        # Ids are tuples: tuple() copies nothing, and equal elements compare by identity.
        same_ids = tuple(old.entity_ids) == tuple(table.entity_ids)
        if same_ids:
            before = old.figures["score"][candidates].astype(np.float64)
        else:
            ids = table.entity_ids
            for slot, i in enumerate(candidates.tolist()):
                j = old.index_of(ids[i])
                if j is not None:
                    before[slot] = old.figures["score"][j]
    unscored = np.isnan(before)
    moved = unscored | (np.abs(scores[candidates] - np.where(unscored, 0.0, before)) > min_delta)
    return [
        ScoreChange(None if np.isnan(b) else b, table.row(i))
        for i, b in zip(candidates[moved].tolist(), before[moved].tolist(), strict=True)
    ]
