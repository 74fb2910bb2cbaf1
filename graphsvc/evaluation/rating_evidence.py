"""A trust network's ratings as the model's evidence (``graphsvc replay``), each rating one
event with a graded outcome (:func:`rating_fault_share`), and the model's risk from it.

- a positive rating is a RATING edge rater -> ratee of 1;
- a negative rating is a NEGATIVE_RATING fault on the ratee, reported by the rater, of
  1; a zero rating (a neutral vote) is half of each;
- every participant is one kind (REQUESTER): scores are compared within a kind;
- every rater so far is a seed: one equal say each (docs/decisions/0084-transferable-risk.md).
"""

from __future__ import annotations

import numpy as np

from graphsvc.domain import EntityKind
from graphsvc.evaluation.ratings import Ratings, ratings_before
from graphsvc.scoring.engine import compute_scores
from graphsvc.scoring.evidence import (
    KIND_CODES,
    Channel,
    Evidence,
    FaultCause,
    FloatArray,
    IntArray,
    distinct,
)
from graphsvc.scoring.params import ScoringParams

PROBABILITY_FLOOR = 1e-6  # log loss of a probability of exactly 0 or 1 is infinite


def rating_fault_share(rating: IntArray) -> FloatArray:
    """Each rating as a graded outcome: the share of one event that is a fault. A
    negative rating is a fault, a positive one is not, and a zero rating (a neutral
    vote, the middle of a shifted star scale) is half of each: it neither vouches for
    its ratee nor accuses it, and it is still one report."""
    share: FloatArray = np.where(rating < 0, 1.0, np.where(rating == 0, 0.5, 0.0))
    return share


def evidence_before(ratings: Ratings, t_s: int) -> Evidence:
    """Evidence of every rating strictly before ``t_s``, with the replay's seeds. A
    rating of fault share ``y`` is a RATING edge of ``1 - y`` and a NEGATIVE_RATING
    fault of ``y`` at the same instant, signed by its rater: one event in all."""
    past = ratings_before(ratings, t_s)
    src, dst = ratings.src[past], ratings.dst[past]
    ref_ms = ratings.time_s[past] * 1000
    fault = rating_fault_share(ratings.rating[past])
    pos, neg = fault < 1.0, fault > 0.0
    n = len(ratings.ids)
    return Evidence(
        entity_ids=ratings.ids,
        entity_kinds=np.full(n, KIND_CODES[EntityKind.REQUESTER], dtype=np.int64),
        edge_src=src[pos],
        edge_dst=dst[pos],
        edge_channel=np.full(int(pos.sum()), Channel.RATING, dtype=np.int64),
        edge_ref_ms=ref_ms[pos],
        edge_amount=1.0 - fault[pos],
        fault_party=dst[neg],
        fault_source=src[neg],
        fault_cause=np.full(int(neg.sum()), FaultCause.NEGATIVE_RATING, dtype=np.int64),
        fault_ref_ms=ref_ms[neg],
        fault_amount=fault[neg],
        seeds=distinct(src, n),
    )


def model_risk(ratings: Ratings, t_s: int, params: ScoringParams) -> FloatArray:
    """The model's published ``risk`` of every participant at ``t_s``."""
    evidence = evidence_before(ratings, t_s)
    return compute_scores(evidence, params, t_s * 1000).risk


def log_losses(p: FloatArray, labels: np.ndarray) -> FloatArray:
    """Each prediction's log loss (natural log) for its boolean outcome."""
    q = np.clip(p, PROBABILITY_FLOOR, 1.0 - PROBABILITY_FLOOR)
    losses: FloatArray = -np.where(labels, np.log(q), np.log1p(-q))
    return losses


def log_loss(p: FloatArray, labels: np.ndarray) -> float:
    """The mean log loss of ``p`` for the boolean ``labels``."""
    return float(np.mean(log_losses(p, labels)))
