"""Published score rows from the engine's arrays, each with its explanation."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from graphsvc.domain.snapshots import ScoreRow
from graphsvc.scoring.evidence import KINDS_BY_CODE
from graphsvc.scoring.explain import breakdowns
from graphsvc.scoring.scores import Scores

BREAKDOWN_TOP = 5

# A ScoreRow is (entity, kind, its figures, each named like the Scores array it comes
# from, breakdown, as_of_ms, then the risk figures, named like their Scores arrays too).
_NAMES = tuple(field.name for field in fields(ScoreRow))
_FIGURES = _NAMES[2 : _NAMES.index("breakdown")]
_RISK = _NAMES[_NAMES.index("as_of_ms") + 1 :]


def score_rows(scores: Scores, *, with_breakdown: bool = True) -> list[ScoreRow]:
    """A row per entity, in index order, every entity's breakdown explained in one pass
    over the evidence (:func:`breakdowns`), or left empty."""
    n = len(scores.entity_ids)
    explained: list[dict[str, Any]] = (
        breakdowns(scores, top=BREAKDOWN_TOP) if with_breakdown else [{} for _ in range(n)]
    )
    kinds = [KINDS_BY_CODE[code] for code in scores.kinds.tolist()]
    # Whole columns at once, in ScoreRow's field order: at a million rows, a numpy scalar
    # per figure or keyword arguments per row cost seconds.
    figures = [getattr(scores, name).tolist() for name in _FIGURES]
    risk = [getattr(scores, name).tolist() for name in _RISK]
    fields_in_order = zip(
        scores.entity_ids, kinds, *figures, explained, [scores.as_of_ms] * n, *risk, strict=True
    )
    return [ScoreRow(*row) for row in fields_in_order]
