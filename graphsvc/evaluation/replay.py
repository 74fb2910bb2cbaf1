"""Replay a signed, time-stamped trust network and measure how well risk predicts.

Input: ``evaluation/ratings.py``; each rating is one event of the model's evidence with
a graded outcome (``evaluation/rating_evidence.py``: negative a fault, positive not, a
neutral vote half of each). Every participant is one kind (REQUESTER).

Personalization: a trust network has no witnesses and no paid, attested usage, so the
model's ``p_usage`` has no counterpart; ``p`` is uniform over *every rater so far*.
Every rater gets one equal say, whatever its volume; a rater who fell silent keeps its
say, so its past ratings count (decayed by their age) instead of dropping to nothing,
which on a product network, where most users rate once, lost most of the evidence.

The model (``evaluation/model_choice.py``): by default its half-life, and whether its
probabilities are recalibrated, are chosen once from the warm-up (the first quarter,
which no figure is computed on) and kept; ``choose=False`` scores the parameters as
given.

Evaluation: from the end of the first quarter of the time span, at every 30-day
checkpoint ``T``, score everyone from ratings before ``T`` only, then predict for each
rating in ``[T, T + 30 days)`` whether it is negative from the ratee's figures at ``T``:
the model by its ``risk``, the baselines of ``evaluation/baselines.py`` by theirs; with
``self_calibrate``, also ``model_published`` (the parameters as given) and
``model_self_calibrated``, the model as the network's own past tunes it at every
checkpoint (half-life chosen and probabilities Platt-recalibrated on earlier
checkpoints only; three scorings a checkpoint, so it is not in the default run).
Per method: ROC-AUC (Mann-Whitney, average ranks for ties) pooled over all checkpoints,
on ratees seen before their checkpoint, and within checkpoints (each rating compared
only with ratings of its own window: summed Mann-Whitney counts over summed pairs); for
probabilities, the Brier score and log loss. Each again over the first and the second
half of the checkpoints, so that parameters chosen on the first can be checked on the
second; and for probabilities a reliability table (``evaluation/calibration.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from graphsvc.evaluation import baselines
from graphsvc.evaluation.calibration import CalibrationBin, reliability_table
from graphsvc.evaluation.model_choice import (
    HALF_LIVES_DAYS,
    ModelPredictor,
    NetworkChoice,
    choose_from_warmup,
)
from graphsvc.evaluation.rating_evidence import (
    PROBABILITY_FLOOR,
    evidence_before,
    log_loss,
    model_risk,
    rating_fault_share,
)
from graphsvc.evaluation.ratings import Ratings, RatingsFormatError, load_ratings
from graphsvc.scoring.evidence import FloatArray
from graphsvc.scoring.params import MS_PER_DAY, ScoringParams

__all__ = [
    "HALF_LIVES_DAYS",
    "MethodFigures",
    "NetworkChoice",
    "Ratings",
    "RatingsFormatError",
    "ReplayResult",
    "evidence_before",
    "load_ratings",
    "model_risk",
    "rating_fault_share",
    "replay",
    "replay_ratings",
    "roc_auc",
]

# Methods whose values are probabilities (so their calibration is reported).
PROBABILITIES = ("model", "beta_forgetting", "decayed_beta")
SELF_CALIBRATED = "model_self_calibrated"
# With self-calibration, also the model at the parameters as given (the service's own
# half-life, no recalibration) beside the model as the warm-up chose it.
PUBLISHED = "model_published"


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
    # What the model took from the warm-up (None: the parameters as given).
    choice: NetworkChoice | None = None

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
            "model_choice": None if self.choice is None else self.choice.as_dict(),
        }


def _json_float(value: float) -> float | None:
    return None if np.isnan(value) else value


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
    choose: bool = True,
) -> ReplayResult:
    """Run the monthly-checkpoint evaluation described in the module doc."""
    return replay_ratings(
        load_ratings(csv_path),
        params,
        warmup_fraction,
        step_days,
        on_step=on_step,
        self_calibrate=self_calibrate,
        choose=choose,
    )


# Told (steps done, steps in all) after each monthly step, for a progress report.
StepReport = Callable[[int, int], None]


Predictor = Callable[[Ratings, int], FloatArray]


def predictors(params: ScoringParams) -> dict[str, Predictor]:
    """Every baseline, by the name the JSON uses (the model: ``evaluation/model_choice.py``)."""
    return {
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
    self_calibrate: bool = False,
    choose: bool = True,
) -> ReplayResult:
    """The evaluation of the module doc; ``variants`` are more probability predictors
    scored in the same loop (``bench/replay.py`` compares priors with them). With
    ``choose`` (the default) the model's half-life and recalibration are chosen from
    the warm-up (``evaluation/model_choice.py``); without, ``params`` are scored as
    given."""
    params = params or ScoringParams()
    methods = {**predictors(params), **(variants or {})}
    names = ("model", *((PUBLISHED, SELF_CALIBRATED) if self_calibrate else ()))
    probabilities = (*PROBABILITIES, *names[1:], *(variants or {}))
    step_s = round(step_days * MS_PER_DAY / 1000)
    first, last = int(ratings.time_s[0]), int(ratings.time_s[-1])
    t = first + int((last - first) * warmup_fraction)
    choice = (
        choose_from_warmup(ratings, params, t, step_s)
        if choose
        else NetworkChoice(params.half_life_days)
    )
    model = ModelPredictor(params, choice, HALF_LIVES_DAYS if self_calibrate else ())
    out = _Outcomes(values={name: [] for name in (*names, *methods)})
    checkpoints = 0
    steps = len(range(t, last + 1, step_s))
    for step in range(1, steps + 1):
        window = (ratings.time_s >= t) & (ratings.time_s < t + step_s)
        if window.any():
            ratees = ratings.dst[window]
            labels = ratings.rating[window] < 0
            chosen, published, calibrated = model.predict(ratings, t, ratees)
            out.values["model"].append(chosen)
            if self_calibrate:
                out.values[PUBLISHED].append(published)
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
        choice=choice if choose else None,
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
    brier = loss = None
    if probability and len(v):
        p = np.clip(v, PROBABILITY_FLOOR, 1.0 - PROBABILITY_FLOOR)
        brier = float(np.mean((p - labels) ** 2))
        loss = log_loss(v, labels)
    return MethodFigures(
        auc=_auc_or_nan(v, labels),
        seen_auc=_auc_or_nan(v[seen[selected]], labels[seen[selected]]),
        within_auc=u_total / pairs_total if pairs_total else float("nan"),
        brier=brier,
        log_loss=loss,
    )
