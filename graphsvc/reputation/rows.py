"""Published score rows from the engine's arrays, each with its explanation."""

from __future__ import annotations

from graphsvc.domain.snapshots import ScoreRow
from graphsvc.scoring.explain import breakdown
from graphsvc.scoring.scores import Scores

BREAKDOWN_TOP = 5


def score_rows(scores: Scores, *, with_breakdown: bool = True) -> list[ScoreRow]:
    rows = []
    for i, entity_id in enumerate(scores.entity_ids):
        rows.append(
            ScoreRow(
                entity=entity_id,
                kind=scores.kind_of(i),
                score=float(scores.score[i]),
                rank=int(scores.rank[i]),
                percentile=float(scores.percentile[i]),
                mass=float(scores.mass[i]),
                raw_mass=float(scores.raw_mass[i]),
                fault_rate=float(scores.fault_rate[i]),
                confidence=float(scores.confidence[i]),
                positive_evidence=float(scores.positive_evidence[i]),
                fault_weight=float(scores.fault_weight[i]),
                phi=float(scores.phi[i]),
                breakdown=breakdown(scores, i, top=BREAKDOWN_TOP) if with_breakdown else {},
                as_of_ms=scores.as_of_ms,
            )
        )
    return rows
