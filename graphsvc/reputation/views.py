"""One snapshot's scores indexed for reads, and the reads the API pages and diffs:
leaderboard pages under a filter, and the score changes between two snapshots."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from enum import StrEnum

from graphsvc.domain import EntityKind
from graphsvc.domain.snapshots import ScoreRow, SnapshotInfo, risk_of


class Order(StrEnum):
    BEST_FIRST = "best_first"
    WORST_FIRST = "worst_first"
    LOWEST_RISK = "lowest_risk"  # by risk, then rank (docs/design.md §3.8)
    HIGHEST_RISK = "highest_risk"


@dataclass(frozen=True)
class ScoreFilter:
    """Only entities meeting all of the bounds that are set."""

    min_score: float | None = None
    max_fault_rate: float | None = None
    min_fault_rate: float | None = None
    min_confidence: float | None = None
    max_risk: float | None = None

    def admits(self, row: ScoreRow) -> bool:
        return (
            (self.min_score is None or row.score >= self.min_score)
            and (self.max_risk is None or risk_of(row) <= self.max_risk)
            and (self.max_fault_rate is None or row.fault_rate <= self.max_fault_rate)
            and (self.min_fault_rate is None or row.fault_rate >= self.min_fault_rate)
            and (self.min_confidence is None or row.confidence >= self.min_confidence)
        )


@dataclass(frozen=True)
class Page:
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


@dataclass
class SnapshotView:
    """One snapshot's scores, indexed for the API."""

    info: SnapshotInfo
    by_entity: dict[str, ScoreRow]
    ranked: dict[EntityKind, list[ScoreRow]] = field(default_factory=dict)
    # Lowest risk first, per kind: built on the first read that asks for it.
    by_risk: dict[EntityKind, list[ScoreRow]] = field(default_factory=dict)

    @classmethod
    def of(cls, info: SnapshotInfo, rows: list[ScoreRow]) -> SnapshotView:
        ranked: dict[EntityKind, list[ScoreRow]] = {kind: [] for kind in EntityKind}
        for row in rows:
            ranked[row.kind].append(row)
        for members in ranked.values():
            members.sort(key=lambda r: (r.rank, r.entity))
        return cls(info, {r.entity: r for r in rows}, ranked)

    def leaderboard(
        self,
        kind: EntityKind,
        *,
        start: int,
        size: int,
        order: Order = Order.BEST_FIRST,
        where: ScoreFilter | None = None,
    ) -> Page:
        """``size`` entities of ``kind`` from position ``start`` of the ordered,
        filtered list."""
        members = self.ranked[kind]
        if order in (Order.LOWEST_RISK, Order.HIGHEST_RISK):
            members = self.risk_order(kind)
        if order in (Order.WORST_FIRST, Order.HIGHEST_RISK):
            members = members[::-1]
        if where is not None:
            members = [row for row in members if where.admits(row)]
        rows = members[start : start + size]
        return Page(rows=rows, end=start + len(rows) - 1 if rows else None, total=len(members))

    def risk_order(self, kind: EntityKind) -> list[ScoreRow]:
        """Entities of ``kind`` by risk, lowest first; equal risks by rank."""
        if kind not in self.by_risk:
            self.by_risk[kind] = sorted(self.ranked[kind], key=lambda r: (risk_of(r), r.rank))
        return self.by_risk[kind]

    def mass_by_kind(self) -> dict[EntityKind, float]:
        return {kind: sum(r.mass for r in members) for kind, members in self.ranked.items()}


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
    changed = []
    for entity, row in sorted(current.by_entity.items()):
        if entities is not None and entity not in entities:
            continue
        if kind is not None and row.kind is not kind:
            continue
        old = previous.by_entity.get(entity) if previous else None
        before = old.score if old else None
        if before is None or abs(row.score - before) > min_delta:
            changed.append(ScoreChange(before, row))
    return changed
