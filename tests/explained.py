"""Every entity's breakdown at once: the test oracle for explaining entities together
(``graphsvc/scoring/explain.py``), which must match explaining each alone bit for bit."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from graphsvc.scoring.explain import _FIGURES, explanations, kind_names
from graphsvc.scoring.scores import Scores


def breakdowns(scores: Scores, top: int = 5, max_faults: int = 20) -> list[dict[str, Any]]:
    """``breakdown(scores, i, top, max_faults)`` for every entity ``i``, in index order,
    in time linear in the evidence (plus sorting each entity's own rows)."""
    explained = explanations(scores, top, max_faults)
    ids, kinds = scores.entity_ids, kind_names(scores.kinds)
    return [explained.breakdown(i, h, ids, kinds) for i, h in enumerate(headers(scores))]


def headers(scores: Scores) -> Iterator[dict[str, object]]:
    """``scores.entity(id)`` for every entity in index order, read column-wise."""
    names = ("id", "kind", *_FIGURES)
    kinds = kind_names(scores.kinds)
    columns = [getattr(scores, attr).tolist() for attr in _FIGURES.values()]
    for row in zip(scores.entity_ids, kinds, *columns, strict=True):
        yield dict(zip(names, row, strict=True))
