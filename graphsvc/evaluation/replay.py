"""Replay a signed, time-stamped trust network and measure how well risk predicts.

Input: ``evaluation/ratings.py``. Mapping onto the evidence model, each rating one event,
a graded outcome (:func:`rating_fault_share`):

- a positive rating is a RATING edge rater -> ratee of 1;
- a negative rating is a NEGATIVE_RATING fault on the ratee, reported by the rater, of
  1; a zero rating (a neutral vote) is half of each;
- every participant is one kind (REQUESTER): scores are compared within a kind.

Personalization: a trust network has no witnesses and no paid, attested usage, so the
model's ``p_usage`` has no counterpart; ``p`` is uniform over *every rater so far*.
Every rater gets one equal say, whatever its volume; a rater who fell silent keeps its
say, so its past ratings count (decayed by their age) instead of dropping to nothing,
which on a product network, where most users rate once, lost most of the evidence.

Evaluation: from the end of the first quarter of the time span, at every 30-day
checkpoint ``T``, score everyone from ratings before ``T`` only, then predict for each
rating in ``[T, T + 30 days)`` whether it is negative from the ratee's figures at ``T``:
the model by its published ``risk``, the baselines of ``evaluation/baselines.py`` by
theirs; with ``self_calibrate``, also ``model_self_calibrated``, the model as the
network's own past tunes it (:class:`SelfCalibrated`: half-life chosen and
probabilities Platt-recalibrated on earlier checkpoints only; three scorings a
checkpoint, so it is not in the default run).
Per method: ROC-AUC (Mann-Whitney, average ranks for ties) pooled over all checkpoints,
on ratees seen before their checkpoint, and within checkpoints (each rating compared
only with ratings of its own window: summed Mann-Whitney counts over summed pairs); for
probabilities, the Brier score and log loss. Each again over the first and the second
half of the checkpoints, so that parameters chosen on the first can be checked on the
second; and for probabilities a reliability table (``evaluation/calibration.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from graphsvc.domain import EntityKind
from graphsvc.evaluation import baselines
from graphsvc.evaluation.calibration import CalibrationBin, Platt, reliability_table
from graphsvc.evaluation.ratings import Ratings, RatingsFormatError, load_ratings
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
from graphsvc.scoring.params import MS_PER_DAY, ScoringParams

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
SELF_CALIBRATED = "model_self_calibrated"
# The half-lives the replayed model chooses among at every checkpoint, by how well each
# predicted the network's own past: a month (the service's), a quarter, half a year
# (docs/decisions/0084-transferable-risk.md).
HALF_LIVES_DAYS = (30.0, 90.0, 180.0)
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
    # Per probability method: the reliability table over all checkpoints.
    calibration: dict[str, list[CalibrationBin]] = field(default_factory=dict)

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
            "calibration": {
                name: [b.as_dict() for b in bins] for name, bins in self.calibration.items()
            },
        }


def _json_float(value: float) -> float | None:
    return None if np.isnan(value) else value


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
    past = _before(ratings, t_s)
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


def _before(ratings: Ratings, t_s: int) -> slice:
    """The ratings strictly before ``t_s``: a prefix, as they are sorted by time."""
    return slice(0, int(np.searchsorted(ratings.time_s, t_s, side="left")))


def model_risk(ratings: Ratings, t_s: int, params: ScoringParams) -> FloatArray:
    """The model's published ``risk`` of every participant at ``t_s``."""
    evidence = evidence_before(ratings, t_s)
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
    self_calibrate: bool = False,
) -> ReplayResult:
    """Run the monthly-checkpoint evaluation described in the module doc."""
    return replay_ratings(
        load_ratings(csv_path),
        params,
        warmup_fraction,
        step_days,
        on_step=on_step,
        self_calibrate=self_calibrate,
    )


# Told (steps done, steps in all) after each monthly step, for a progress report.
StepReport = Callable[[int, int], None]


Predictor = Callable[[Ratings, int], FloatArray]


def predictors(params: ScoringParams) -> dict[str, Predictor]:
    """Every baseline, by the name the JSON uses (the model: :class:`SelfCalibrated`)."""
    return {
        "mean_past_rating": baselines.mean_past_rating,
        "pagerank_plain": lambda r, t: baselines.pagerank_plain(r, t, params.alpha),
        "beta_forgetting": lambda r, t: baselines.beta_forgetting(r, t, params.half_life_days),
        "decayed_beta": baselines.decayed_beta,
        "fairness_goodness": baselines.fairness_goodness,
        "eigentrust": baselines.eigentrust,
    }


class SelfCalibrated:
    """The replayed model as the network's own past tunes it (docs/design.md §3.8,
    docs/decisions/0084-transferable-risk.md).

    At every checkpoint the parameters' own half-life and each of ``half_lives`` score
    everyone; the one whose earlier predictions, Platt-recalibrated on their outcomes,
    had the best log loss is chosen, and its risk is given through that recalibration.
    Only outcomes before the checkpoint enter. At the first checkpoint (no past yet) it
    is the published risk. With no ``half_lives`` it only scores the published risk."""

    def __init__(self, params: ScoringParams, half_lives: tuple[float, ...]) -> None:
        days = dict.fromkeys((params.half_life_days, *half_lives))
        self.candidates = [replace(params, half_life_days=d) for d in days]
        self.calibrates = bool(half_lives)
        self.past: list[list[FloatArray]] = [[] for _ in self.candidates]
        self.past_labels: list[np.ndarray] = []
        self.pending: list[FloatArray] = []

    def predict(
        self, ratings: Ratings, t_s: int, ratees: IntArray
    ) -> tuple[FloatArray, FloatArray]:
        """``(published risk, recalibrated risk of the chosen half-life)`` of ``ratees``."""
        self.pending = [model_risk(ratings, t_s, p)[ratees] for p in self.candidates]
        published = self.pending[0]
        if not self.past_labels or not self.calibrates:
            return published, published
        labels = np.concatenate(self.past_labels)
        best, best_loss = published, float("inf")
        for past, now in zip(self.past, self.pending, strict=True):
            values = np.concatenate(past)
            recalibrate = Platt.fit(values, labels)
            loss = _log_loss(recalibrate(values), labels)
            if loss < best_loss:
                best, best_loss = recalibrate(now), loss
        return published, best

    def learn(self, labels: np.ndarray) -> None:
        """The outcomes of the last :meth:`predict`: from the next checkpoint on, past."""
        for past, values in zip(self.past, self.pending, strict=True):
            past.append(values)
        self.past_labels.append(labels)


def _log_loss(p: FloatArray, labels: np.ndarray) -> float:
    q = np.clip(p, PROBABILITY_FLOOR, 1.0 - PROBABILITY_FLOOR)
    return float(-np.mean(np.where(labels, np.log(q), np.log1p(-q))))


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
    self_calibrate: bool = False,
) -> ReplayResult:
    """The evaluation of the module doc; ``variants`` are more probability predictors
    scored in the same loop (``bench/replay.py`` compares priors with them)."""
    params = params or ScoringParams()
    methods = {**predictors(params), **(variants or {})}
    model = SelfCalibrated(params, HALF_LIVES_DAYS if self_calibrate else ())
    names = ("model", *((SELF_CALIBRATED,) if self_calibrate else ()))
    probabilities = (*PROBABILITIES, *names[1:], *(variants or {}))
    step_s = round(step_days * MS_PER_DAY / 1000)
    first, last = int(ratings.time_s[0]), int(ratings.time_s[-1])
    t = first + int((last - first) * warmup_fraction)
    out = _Outcomes(values={name: [] for name in (*names, *methods)})
    checkpoints = 0
    steps = len(range(t, last + 1, step_s))
    for step in range(1, steps + 1):
        window = (ratings.time_s >= t) & (ratings.time_s < t + step_s)
        if window.any():
            ratees = ratings.dst[window]
            labels = ratings.rating[window] < 0
            published, calibrated = model.predict(ratings, t, ratees)
            out.values["model"].append(published)
            if self_calibrate:
                out.values[SELF_CALIBRATED].append(calibrated)
            for name, predict in methods.items():
                out.values[name].append(predict(ratings, t)[ratees])
            # The window ends where the next checkpoint starts: its outcomes are then past.
            model.learn(labels)
            out.labels.append(labels)
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
        calibration={name: reliability_table(values[name], y) for name in probabilities},
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
        log_loss = _log_loss(v, labels)
    return MethodFigures(
        auc=_auc_or_nan(v, labels),
        seen_auc=_auc_or_nan(v[seen[selected]], labels[seen[selected]]),
        within_auc=u_total / pairs_total if pairs_total else float("nan"),
        brier=brier,
        log_loss=log_loss,
    )
