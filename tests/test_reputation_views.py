"""Reads of one snapshot without a store: leaderboard pages under an order and a filter,
and the score changes between two snapshots (graphsvc/reputation/views.py)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from graphsvc.domain import EntityKind
from graphsvc.domain.score_snapshots import ScoreRow, SnapshotInfo
from graphsvc.reputation.views import Order, ScoreFilter, SnapshotView, score_changes
from graphsvc.scoring.evidence import KIND_CODES
from graphsvc.scoring.table import FIGURES, ScoreTable, figure_dtype
from tests.scoring_factories import RISKIEST


def row(entity: str, rank: int, score: float, kind: EntityKind = EntityKind.NODE) -> ScoreRow:
    return ScoreRow(
        entity=entity,
        kind=kind,
        score=score,
        rank=rank,
        percentile=0.0,
        mass=score / 100,
        raw_mass=score / 100,
        fault_rate=rank / 10,
        confidence=0.5,
        positive_evidence=1.0,
        fault_weight=0.0,
        phi=1.0,
        breakdown={},
        as_of_ms=1_000,
        **RISKIEST,
    )


def table_of_rows(as_of_ms: int, rows: list[ScoreRow]) -> ScoreTable:
    """The figures of ``rows``, without explanations."""
    ordered = sorted(rows, key=lambda r: r.entity)
    return ScoreTable(
        as_of_ms=as_of_ms,
        entity_ids=tuple(r.entity for r in ordered),
        kinds=np.array([KIND_CODES[r.kind] for r in ordered], dtype=np.int64),
        figures={
            name: np.array([getattr(r, name) for r in ordered], dtype=figure_dtype(name))
            for name in FIGURES
        },
    )


def view(rows: list[ScoreRow], snapshot: str = "s1") -> SnapshotView:
    info = SnapshotInfo(snapshot, 1_000, 1_000, {}, "sha256:x", 10, len(rows), 5, 0.0)
    return SnapshotView.of(info, table_of_rows(1_000, rows))


NODES = [row(f"n{rank}", rank, 100.0 - 10 * rank) for rank in range(1, 6)]
SCORED = view([*NODES, row("w1", 1, 100.0, EntityKind.WITNESS)])


def ids(rows: list[ScoreRow]) -> list[str]:
    return [r.entity for r in rows]


def test_pages_follow_rank_and_say_whether_more_remain() -> None:
    first = SCORED.leaderboard(EntityKind.NODE, size=2)
    assert ids(first.rows) == ["n1", "n2"]
    assert (first.end, first.total, first.has_next) == (1, 5, True)
    last = SCORED.leaderboard(EntityKind.NODE, after=3, size=2)
    assert ids(last.rows) == ["n5"]
    assert (last.end, last.has_next) == (4, False)
    past = SCORED.leaderboard(EntityKind.NODE, after=8, size=2)
    assert (past.rows, past.end, past.has_next, past.total) == ([], None, False, 5)


def test_worst_first_reverses_and_a_filter_narrows_before_paging() -> None:
    worst = SCORED.leaderboard(EntityKind.NODE, size=2, order=Order.WORST_FIRST)
    assert ids(worst.rows) == ["n5", "n4"]
    # fault_rate is rank / 10 here: at least 0.3 leaves n3..n5.
    risky = SCORED.leaderboard(
        EntityKind.NODE, after=0, size=5, where=ScoreFilter(min_fault_rate=0.3)
    )
    assert ids(risky.rows) == ["n4", "n5"] and risky.total == 3
    assert SCORED.leaderboard(EntityKind.WITNESS, size=5).total == 1


def admits(where: ScoreFilter, row: ScoreRow) -> bool:
    alone = view([row]).table
    return bool(where.mask(alone, np.arange(1))[0])


def test_a_filter_admits_only_rows_within_every_bound() -> None:
    n2 = NODES[1]  # score 80, fault rate 0.2, confidence 0.5
    assert admits(ScoreFilter(), n2)
    assert admits(ScoreFilter(min_score=80, max_fault_rate=0.2, min_confidence=0.5), n2)
    assert not admits(ScoreFilter(min_score=80.5), n2)
    assert not admits(ScoreFilter(max_fault_rate=0.1), n2)
    assert not admits(ScoreFilter(min_fault_rate=0.3), n2)
    assert not admits(ScoreFilter(min_confidence=0.6), n2)
    assert not admits(ScoreFilter(max_risk=0.99), n2)  # certain to fail
    assert admits(ScoreFilter(max_risk=0.25), replace(n2, risk=0.25, risk_events=3.0))
    assert not admits(ScoreFilter(max_risk=0.2), replace(n2, risk=0.25, risk_events=3.0))


def test_mass_by_kind_sums_each_kind() -> None:
    mass = SCORED.mass_by_kind()
    assert mass[EntityKind.NODE] == pytest.approx(sum(r.mass for r in NODES))
    assert mass[EntityKind.WITNESS] == pytest.approx(1.0)
    assert mass[EntityKind.MODEL] == 0.0  # exact: no model has any mass to add


def test_score_changes_report_moves_over_the_threshold_and_new_entities() -> None:
    before = view(NODES[:3])
    moved = replace(NODES[0], score=NODES[0].score - 5)
    nudged = replace(NODES[1], score=NODES[1].score + 0.5)
    after = view([moved, nudged, NODES[2], NODES[3]], snapshot="s2")
    changes = score_changes(before, after, min_delta=1.0)
    # Exact: whole numbers, as set above.
    assert [(c.row.entity, c.before, c.row.score) for c in changes] == [
        ("n1", 90.0, 85.0),
        ("n4", None, 60.0),  # not scored before
    ]
    everything = score_changes(before, after)
    assert ids([c.row for c in everything]) == ["n1", "n2", "n4"]
    assert ids([c.row for c in score_changes(before, after, entities={"n4"})]) == ["n4"]
    assert score_changes(before, after, kind=EntityKind.WITNESS) == []


def test_without_a_previous_snapshot_every_entity_is_a_change() -> None:
    changes = score_changes(None, SCORED, kind=EntityKind.NODE)
    assert [c.before for c in changes] == [None] * 5


def test_risk_orders_and_filters_the_leaderboard() -> None:
    risks = {"n1": 0.3, "n2": 0.1, "n3": 0.2, "n4": 0.1, "n5": 1.0}
    scored = view([replace(r, risk=risks[r.entity], risk_events=1.0) for r in NODES])
    safest = scored.leaderboard(EntityKind.NODE, size=5, order=Order.LOWEST_RISK)
    assert ids(safest.rows) == ["n2", "n4", "n3", "n1", "n5"]  # equal risks by rank
    riskiest = scored.leaderboard(EntityKind.NODE, size=2, order=Order.HIGHEST_RISK)
    assert ids(riskiest.rows) == ["n5", "n1"]
    capped = scored.leaderboard(EntityKind.NODE, size=5, where=ScoreFilter(max_risk=0.2))
    assert ids(capped.rows) == ["n2", "n3", "n4"]
