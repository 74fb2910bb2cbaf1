"""Replay a signed, time-stamped trust network and measure how well risk predicts.

Input: ``scoring/ratings.py``. Mapping onto the evidence model, each rating one event:

- a positive rating is a RATING edge rater -> ratee of 1;
- a negative rating is a NEGATIVE_RATING fault on the ratee, reported by the rater, of
  1; a zero rating carries no evidence;
- every participant is one kind (REQUESTER): scores are compared within a kind.

Personalization: a trust network has no witnesses and no paid, attested usage, so the
model's ``p_usage`` has no counterpart; ``p`` is uniform over the *raters active in the
last half-life* (participants who gave a positive rating within ``H`` before the
checkpoint; all raters so far if none). Every active participant gets one equal say,
whatever its volume, and the trust core follows the community as it changes.

Evaluation: from the end of the first quarter of the time span, at every 30-day
checkpoint ``T``, score everyone from ratings before ``T`` only, then predict for each
rating in ``[T, T + 30 days)`` whether it is negative from the ratee's figures at ``T``:
the model by its published ``risk``, the baselines of ``scoring/baselines.py`` by theirs.
Per method: ROC-AUC (Mann-Whitney, average ranks for ties) pooled over all checkpoints,
on ratees seen before their checkpoint, and within checkpoints (each rating compared
only with ratings of its own window: summed Mann-Whitney counts over summed pairs); for
probabilities, the Brier score and log loss. Each again over the first and the second
half of the checkpoints, so that parameters chosen on the first can be checked on the
second.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from graphsvc.domain import EntityKind
from graphsvc.scoring import baselines
from graphsvc.scoring.engine import compute_scores
from graphsvc.scoring.evidence import KIND_CODES, Channel, Evidence, FaultCause, FloatArray
from graphsvc.scoring.params import MS_PER_DAY, ScoringParams
from graphsvc.scoring.ratings import Ratings, RatingsFormatError, load_ratings

__all__ = [
    "MethodFigures",
    "Ratings",
    "RatingsFormatError",
    "ReplayResult",
    "load_ratings",
    "replay",
    "replay_ratings",
    "roc_auc",
]

# Methods whose values are probabilities (so their calibration is reported).
PROBABILITIES = ("model", "beta_forgetting", "decayed_beta")
PROBABILITY_FLOOR = 1e-6  # log loss of a probability of exactly 0 or 1 is infinite


@dataclass(frozen=True)
class MethodFigures:
    """One method's figures over a set of checkpoints (None: not a probability)."""

    auc: float
    seen_auc: float
    within_auc: float
    brier: float | None
    log_loss: float | None

    def as_dict(self) -> dict[str, float | None]:
        return {
            "auc": _json_float(self.auc),
            "seen_auc": _json_float(self.seen_auc),
            "within_auc": _json_float(self.within_auc),
            "brier": self.brier,
            "log_loss": self.log_loss,
        }


@dataclass(frozen=True)
class ReplayResult:
    model: float
    mean_past_rating: float
    pagerank_plain: float
    ratings_evaluated: int
    checkpoints: int
    seen_model: float = float("nan")
    seen_mean_past_rating: float = float("nan")
    seen_pagerank_plain: float = float("nan")
    ratings_seen: int = 0
    # Every method (the model and each baseline) over all, the first and the second
    # half of the checkpoints.
    methods: dict[str, MethodFigures] = field(default_factory=dict)
    first_half: dict[str, MethodFigures] = field(default_factory=dict)
    second_half: dict[str, MethodFigures] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """The JSON the CLI prints with ``--json``: the original four keys, then the rest."""
        return {
            "model": _json_float(self.model),
            "mean_past_rating": _json_float(self.mean_past_rating),
            "pagerank_plain": _json_float(self.pagerank_plain),
            "ratings_evaluated": self.ratings_evaluated,
            "checkpoints": self.checkpoints,
            "ratings_seen": self.ratings_seen,
            "methods": {name: m.as_dict() for name, m in self.methods.items()},
            "first_half": {name: m.as_dict() for name, m in self.first_half.items()},
            "second_half": {name: m.as_dict() for name, m in self.second_half.items()},
        }


def _json_float(value: float) -> float | None:
    return None if np.isnan(value) else value


def evidence_before(ratings: Ratings, t_s: int, half_life_ms: int) -> Evidence:
    """Evidence of every rating strictly before ``t_s``, with the replay's seeds."""
    past = ratings.time_s < t_s
    src, dst = ratings.src[past], ratings.dst[past]
    rating, ref_ms = ratings.rating[past], ratings.time_s[past] * 1000
    pos, neg = rating > 0, rating < 0
    n = len(ratings.ids)
    t_ms = t_s * 1000
    active = np.unique(src[pos & (ref_ms >= t_ms - half_life_ms)])
    if len(active) == 0:
        active = np.unique(src[pos]) if pos.any() else np.unique(src)
    return Evidence(
        entity_ids=ratings.ids,
        entity_kinds=np.full(n, KIND_CODES[EntityKind.REQUESTER], dtype=np.int64),
        edge_src=src[pos],
        edge_dst=dst[pos],
        edge_channel=np.full(int(pos.sum()), Channel.RATING, dtype=np.int64),
        edge_ref_ms=ref_ms[pos],
        edge_amount=np.ones(int(pos.sum())),
        fault_party=dst[neg],
        fault_source=src[neg],
        fault_cause=np.full(int(neg.sum()), FaultCause.NEGATIVE_RATING, dtype=np.int64),
        fault_ref_ms=ref_ms[neg],
        fault_amount=np.ones(int(neg.sum())),
        seeds=active.astype(np.int64),
    )


def model_risk(ratings: Ratings, t_s: int, params: ScoringParams) -> FloatArray:
    """The model's published ``risk`` of every participant at ``t_s``."""
    evidence = evidence_before(ratings, t_s, params.half_life_ms)
    return compute_scores(evidence, params, t_s * 1000).risk


def roc_auc(scores: FloatArray, positive: np.ndarray) -> float:
    """ROC-AUC of ``scores`` for the boolean labels: Mann-Whitney U with average tie ranks."""
    u, pairs = _mann_whitney(scores, positive)
    if pairs == 0:
        raise ValueError("ROC-AUC needs at least one positive and one negative label")
    return u / pairs


def _mann_whitney(scores: FloatArray, positive: np.ndarray) -> tuple[float, int]:
    """``(U, n_pos*n_neg)``; U counts ties as halves."""
    pos = np.asarray(positive, dtype=bool)
    n_pos = int(pos.sum())
    n_neg = len(pos) - n_pos
    if n_pos == 0 or n_neg == 0:
        return 0.0, 0
    order = np.argsort(scores, kind="stable")
    sorted_scores = scores[order]
    ranks = np.empty(len(scores), dtype=np.float64)
    # Average rank (1-based) of each run of equal scores.
    starts = np.flatnonzero(np.r_[True, sorted_scores[1:] != sorted_scores[:-1]])
    ends = np.r_[starts[1:], len(scores)]
    avg = (starts + ends + 1) / 2.0
    ranks[order] = np.repeat(avg, ends - starts)
    u = ranks[pos].sum() - n_pos * (n_pos + 1) / 2.0
    return float(u), n_pos * n_neg


def replay(
    csv_path: str | Path,
    params: ScoringParams | None = None,
    warmup_fraction: float = 0.25,
    step_days: float = 30.0,
    on_step: StepReport | None = None,
) -> ReplayResult:
    """Run the monthly-checkpoint evaluation described in the module doc."""
    return replay_ratings(
        load_ratings(csv_path), params, warmup_fraction, step_days, on_step=on_step
    )


# Told (steps done, steps in all) after each monthly step, for a progress report.
StepReport = Callable[[int, int], None]


Predictor = Callable[[Ratings, int], FloatArray]


def predictors(params: ScoringParams) -> dict[str, Predictor]:
    """The model and every baseline, by the name the JSON uses."""
    return {
        "model": lambda r, t: model_risk(r, t, params),
        "mean_past_rating": baselines.mean_past_rating,
        "pagerank_plain": lambda r, t: baselines.pagerank_plain(r, t, params.alpha),
        "beta_forgetting": lambda r, t: baselines.beta_forgetting(r, t, params.half_life_days),
        "decayed_beta": baselines.decayed_beta,
        "fairness_goodness": baselines.fairness_goodness,
        "eigentrust": baselines.eigentrust,
    }


@dataclass
class _Outcomes:
    """Per evaluated rating: each method's value, the label, seen, checkpoint number."""

    values: dict[str, list[FloatArray]]
    labels: list[np.ndarray] = field(default_factory=list)
    seen: list[np.ndarray] = field(default_factory=list)
    checkpoint: list[np.ndarray] = field(default_factory=list)


def replay_ratings(
    ratings: Ratings,
    params: ScoringParams | None = None,
    warmup_fraction: float = 0.25,
    step_days: float = 30.0,
    variants: Mapping[str, Predictor] | None = None,
    on_step: StepReport | None = None,
) -> ReplayResult:
    """The evaluation of the module doc; ``variants`` are more probability predictors
    scored in the same loop (``bench/replay.py`` compares priors with them)."""
    params = params or ScoringParams()
    methods = {**predictors(params), **(variants or {})}
    probabilities = (*PROBABILITIES, *(variants or {}))
    step_s = round(step_days * MS_PER_DAY / 1000)
    first, last = int(ratings.time_s[0]), int(ratings.time_s[-1])
    t = first + int((last - first) * warmup_fraction)
    out = _Outcomes(values={name: [] for name in methods})
    checkpoints = 0
    steps = len(range(t, last + 1, step_s))
    for step in range(1, steps + 1):
        window = (ratings.time_s >= t) & (ratings.time_s < t + step_s)
        if window.any():
            ratees = ratings.dst[window]
            for name, predict in methods.items():
                out.values[name].append(predict(ratings, t)[ratees])
            out.labels.append(ratings.rating[window] < 0)
            before = ratings.time_s < t
            seen = np.zeros(len(ratings.ids), dtype=bool)
            seen[ratings.src[before]] = True
            seen[ratings.dst[before]] = True
            out.seen.append(seen[ratees])
            out.checkpoint.append(np.full(len(ratees), checkpoints))
            checkpoints += 1
        t += step_s
        if on_step is not None:
            on_step(step, steps)
    if not out.labels:
        raise ValueError("the ratings span too short a time for any checkpoint")
    y = np.concatenate(out.labels)
    seen_all = np.concatenate(out.seen)
    cp = np.concatenate(out.checkpoint)
    values = {name: np.concatenate(parts) for name, parts in out.values.items()}
    everything = np.ones(len(y), dtype=bool)
    halves = (cp < checkpoints // 2, cp >= checkpoints // 2)

    def figures_of(selected: np.ndarray) -> dict[str, MethodFigures]:
        return {
            name: _figures(v, y, seen_all, cp, selected, name in probabilities)
            for name, v in values.items()
        }

    figures = figures_of(everything)
    return ReplayResult(
        model=figures["model"].auc,
        mean_past_rating=figures["mean_past_rating"].auc,
        pagerank_plain=figures["pagerank_plain"].auc,
        ratings_evaluated=len(y),
        checkpoints=checkpoints,
        seen_model=figures["model"].seen_auc,
        seen_mean_past_rating=figures["mean_past_rating"].seen_auc,
        seen_pagerank_plain=figures["pagerank_plain"].seen_auc,
        ratings_seen=int(seen_all.sum()),
        methods=figures,
        first_half=figures_of(halves[0]),
        second_half=figures_of(halves[1]),
    )


def _auc_or_nan(scores: FloatArray, labels: np.ndarray) -> float:
    u, pairs = _mann_whitney(scores, labels)
    return u / pairs if pairs else float("nan")


def _figures(
    values: FloatArray,
    y: np.ndarray,
    seen: np.ndarray,
    checkpoint: np.ndarray,
    selected: np.ndarray,
    probability: bool,
) -> MethodFigures:
    v, labels = values[selected], y[selected]
    u_total, pairs_total = 0.0, 0
    for c in np.unique(checkpoint[selected]).tolist():
        inside = checkpoint[selected] == c
        u, pairs = _mann_whitney(v[inside], labels[inside])
        u_total += u
        pairs_total += pairs
    brier = log_loss = None
    if probability and len(v):
        p = np.clip(v, PROBABILITY_FLOOR, 1.0 - PROBABILITY_FLOOR)
        brier = float(np.mean((p - labels) ** 2))
        log_loss = float(-np.mean(np.where(labels, np.log(p), np.log1p(-p))))
    return MethodFigures(
        auc=_auc_or_nan(v, labels),
        seen_auc=_auc_or_nan(v[seen[selected]], labels[seen[selected]]),
        within_auc=u_total / pairs_total if pairs_total else float("nan"),
        brier=brier,
        log_loss=log_loss,
    )
