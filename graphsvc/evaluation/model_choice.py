"""The replayed model as the network's own past chooses it (docs/reference.md#risk,
docs/decisions/0088-one-default-from-the-warm-up.md,
docs/decisions/0084-transferable-risk.md).

- :func:`choose_from_warmup`, the default: before the first checkpoint, from the
  warm-up only, the half-life and whether to recalibrate, chosen once and kept for the
  whole evaluation, as the service keeps one half-life in its store.
- :class:`ModelPredictor`: at every checkpoint the model so chosen, and with
  self-calibration also the parameters as given (``model_published``) and the model
  re-chosen and Platt-recalibrated at every checkpoint (``model_self_calibrated``).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from graphsvc.evaluation.calibration import Platt
from graphsvc.evaluation.rating_evidence import log_loss, log_losses, model_risk
from graphsvc.evaluation.ratings import Ratings, ratings_before
from graphsvc.scoring.evidence import FloatArray, IntArray, distinct
from graphsvc.scoring.params import ScoringParams

# The half-lives the model chooses among, by how well each predicted the network's own
# past: a month (the service's), a quarter, half a year (docs/decisions/0084-transferable-risk.md).
HALF_LIVES_DAYS = (30.0, 90.0, 180.0)
# The warm-up's recalibration is applied only when its held-out gain in log loss is more
# than this many standard errors above zero: the conventional two-sided 5 % level.
SIGNIFICANT_STANDARD_ERRORS = 2.0


@dataclass(frozen=True)
class NetworkChoice:
    """What the replayed model takes from the warm-up, the network's own past before the
    first checkpoint: the half-life whose predictions of each warm-up step, from the
    steps before it, had the lowest log loss, and a Platt recalibration of those
    predictions if one fitted on the warm-up's first half predicted its second half
    significantly better than the predictions themselves."""

    half_life_days: float
    recalibration: Platt | None = None
    warmup_ratings: int = 0
    # Mean log loss per warm-up rating of each candidate half-life, by days.
    warmup_log_loss: dict[float, float] = field(default_factory=dict)
    # The recalibration's held-out gain in log loss, mean per rating, and its standard error.
    calibration_gain: float | None = None
    calibration_gain_se: float | None = None

    def as_dict(self) -> dict[str, Any]:
        m = self.recalibration
        return {
            "half_life_days": self.half_life_days,
            "recalibrated": m is not None,
            "platt_slope": None if m is None else m.slope,
            "platt_intercept": None if m is None else m.intercept,
            "warmup_ratings": self.warmup_ratings,
            "warmup_log_loss": {f"{d:g}": v for d, v in self.warmup_log_loss.items()},
            "calibration_gain": self.calibration_gain,
            "calibration_gain_se": self.calibration_gain_se,
        }

    def risk(self, ratings: Ratings, t_s: int, params: ScoringParams) -> FloatArray:
        """Every participant's risk at ``t_s`` under this choice."""
        risk = model_risk(ratings, t_s, replace(params, half_life_days=self.half_life_days))
        return risk if self.recalibration is None else self.recalibration(risk)


def choose_from_warmup(
    ratings: Ratings,
    params: ScoringParams,
    first_checkpoint_s: int,
    step_s: int,
    half_lives: tuple[float, ...] = HALF_LIVES_DAYS,
) -> NetworkChoice:
    """The choice of :class:`NetworkChoice` from the ratings before ``first_checkpoint_s``.

    The warm-up is cut in steps of ``step_s`` from its start, as the evaluation is; each
    step's ratings are predicted by the risk at the step's start (from the ratings
    before it) under every candidate: the parameters' own half-life (kept on a tie) and
    ``half_lives``. Log loss is the proper scoring rule the prior is fitted by. The
    recalibration is fitted on the first half of the chosen candidate's warm-up
    predictions (in time order) and tested on the second; if it gains, by more than
    :data:`SIGNIFICANT_STANDARD_ERRORS` standard errors, the map fitted on the whole
    warm-up is applied to every later prediction (one strictly increasing map: every
    ranking, so every AUC, stays the chosen half-life's)."""
    days = list(dict.fromkeys((params.half_life_days, *half_lives)))
    ratings = _participants_before(ratings, first_checkpoint_s)
    predicted: list[list[FloatArray]] = [[] for _ in days]
    outcomes: list[np.ndarray] = []
    t = int(ratings.time_s[0]) + step_s
    while t < first_checkpoint_s:
        window = (ratings.time_s >= t) & (ratings.time_s < min(t + step_s, first_checkpoint_s))
        if window.any():
            ratees = ratings.dst[window]
            outcomes.append(ratings.rating[window] < 0)
            for i, d in enumerate(days):
                risk = model_risk(ratings, t, replace(params, half_life_days=d))
                predicted[i].append(risk[ratees])
        t += step_s
    if not outcomes:
        return NetworkChoice(params.half_life_days)
    y = np.concatenate(outcomes)
    losses = {d: log_loss(np.concatenate(p), y) for d, p in zip(days, predicted, strict=True)}
    best = min(days, key=lambda d: losses[d])  # first of equals: the parameters' own
    p = np.concatenate(predicted[days.index(best)])
    half = len(y) // 2
    chosen = NetworkChoice(best, None, len(y), losses)
    if half == 0:
        return chosen
    early = Platt.fit(p[:half], y[:half])
    gain = log_losses(p[half:], y[half:]) - log_losses(early(p[half:]), y[half:])
    mean = float(np.mean(gain))
    se = float(np.std(gain, ddof=1) / np.sqrt(len(gain))) if len(gain) > 1 else float("inf")
    recalibration = Platt.fit(p, y) if mean > SIGNIFICANT_STANDARD_ERRORS * se else None
    return replace(
        chosen, recalibration=recalibration, calibration_gain=mean, calibration_gain_se=se
    )


class ModelPredictor:
    """The model's predictions at every checkpoint: ``choice``'s, and with
    ``half_lives`` (self-calibration) also the parameters as given and the
    self-calibrated model of docs/decisions/0084-transferable-risk.md: at every
    checkpoint the parameters' own half-life and each of ``half_lives`` score everyone;
    the one whose earlier predictions, Platt-recalibrated on their outcomes, had the best
    log loss is chosen, and its risk is given through that recalibration. Only outcomes
    before the checkpoint enter; at the first checkpoint (no past yet) it is the
    parameters' risk."""

    def __init__(
        self, params: ScoringParams, choice: NetworkChoice, half_lives: tuple[float, ...]
    ) -> None:
        days = dict.fromkeys((params.half_life_days, *half_lives))
        self.candidates = [replace(params, half_life_days=d) for d in days]
        self.calibrates = bool(half_lives)
        self.choice = choice
        self.chosen = (
            list(days).index(choice.half_life_days) if choice.half_life_days in days else None
        )
        self.past: list[list[FloatArray]] = [[] for _ in self.candidates]
        self.past_labels: list[np.ndarray] = []
        self.pending: list[FloatArray] = []

    def predict(
        self, ratings: Ratings, t_s: int, ratees: IntArray
    ) -> tuple[FloatArray, FloatArray, FloatArray]:
        """``(the chosen model's risk, the parameters' risk, the self-calibrated risk)``
        of ``ratees``; without self-calibration the last two are the first."""
        if not self.calibrates:
            model = self.choice.risk(ratings, t_s, self.candidates[0])[ratees]
            return model, model, model
        self.pending = [model_risk(ratings, t_s, p)[ratees] for p in self.candidates]
        published = self.pending[0]
        if self.chosen is None:
            model = self.choice.risk(ratings, t_s, self.candidates[0])[ratees]
        else:
            raw = self.pending[self.chosen]
            model = raw if self.choice.recalibration is None else self.choice.recalibration(raw)
        if not self.past_labels:
            return model, published, published
        labels = np.concatenate(self.past_labels)
        best, best_loss = published, float("inf")
        for past, now in zip(self.past, self.pending, strict=True):
            values = np.concatenate(past)
            recalibrate = Platt.fit(values, labels)
            loss = log_loss(recalibrate(values), labels)
            if loss < best_loss:
                best, best_loss = recalibrate(now), loss
        return model, published, best

    def learn(self, labels: np.ndarray) -> None:
        """The outcomes of the last :meth:`predict`: from the next checkpoint on, past."""
        if not self.calibrates:
            return
        for past, values in zip(self.past, self.pending, strict=True):
            past.append(values)
        self.past_labels.append(labels)


def _participants_before(ratings: Ratings, t_s: int) -> Ratings:
    """The ratings before ``t_s`` among the participants they name: the warm-up's
    scorings then cost what the warm-up holds, not what the whole network does (the
    later participants have no evidence yet, so they change no one's risk; sums over
    fewer zeros may round differently in the last bit, which the choice does not feel)."""
    past = ratings_before(ratings, t_s)
    src, dst = ratings.src[past], ratings.dst[past]
    named = distinct(np.concatenate([src, dst]), len(ratings.ids))
    index = np.full(len(ratings.ids), -1, dtype=np.int64)
    index[named] = np.arange(len(named), dtype=np.int64)
    return Ratings(
        ids=tuple(ratings.ids[i] for i in named.tolist()),
        src=index[src],
        dst=index[dst],
        rating=ratings.rating[past],
        time_s=ratings.time_s[past],
    )
