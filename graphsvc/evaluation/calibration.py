"""Calibration from the past: Platt recalibration fitted on earlier outcomes, and the
binned reliability table the replay reports (docs/reference.md#risk,
docs/decisions/0084-transferable-risk.md).

A probability is *calibrated* when, of the predictions near ``p``, a share near ``p``
came true. A posterior fitted on one network's shape can be off on another (too sure,
or not sure enough), while still ranking well. Platt recalibration (Platt 1999) maps a
prediction ``p`` to ``sigmoid(a * logit(p) + b)`` with ``a``, ``b`` fitted by maximum
likelihood on predictions whose outcomes are already known, so only the past enters.
With ``a > 0`` the map keeps the order of the predictions it is applied to.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from graphsvc.scoring.evidence import FloatArray
from graphsvc.scoring.optimize import minimize_bounded

# Predictions are clipped away from 0 and 1 before their logit is taken.
LOGIT_FLOOR = 1e-6
# Half a success and half a failure on the recalibration's intercept (as Jeffreys' prior
# does for the prior's mean), so a past with one class only still gives a finite map.
JEFFREYS = 0.5
# The slope stays positive (the map keeps the model's order) and finite.
SLOPE_BOUNDS = (1e-3, 20.0)
# Reliability table: ten equal-width bins of the predicted probability.
BINS = 10


def _logit(p: FloatArray) -> FloatArray:
    q = np.clip(p, LOGIT_FLOOR, 1.0 - LOGIT_FLOOR)
    out: FloatArray = np.log(q) - np.log1p(-q)
    return out


@dataclass(frozen=True)
class Platt:
    """``p -> sigmoid(slope * logit(p) + intercept)``; the identity is (1, 0)."""

    slope: float = 1.0
    intercept: float = 0.0

    def __call__(self, p: FloatArray) -> FloatArray:
        z = self.slope * _logit(p) + self.intercept
        out: FloatArray = 1.0 / (1.0 + np.exp(-z))
        return out

    @classmethod
    def fit(cls, p: FloatArray, outcome: np.ndarray, weight: FloatArray | None = None) -> Platt:
        """The map that predicted ``outcome`` (booleans) from ``p`` best, by weighted log
        likelihood with half an outcome each way on the base rate; the identity when
        there is nothing to fit on."""
        if len(p) == 0:
            return cls()
        x = _logit(p)
        y = np.asarray(outcome, dtype=np.float64)
        w = np.ones(len(x)) if weight is None else np.asarray(weight, dtype=np.float64)

        def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
            z = theta[0] * x + theta[1]
            # log(1 + e^z) computed without overflow.
            softplus = np.logaddexp(0.0, z)
            value = float(np.sum(w * (softplus - y * z)))
            value += JEFFREYS * float(np.logaddexp(0.0, theta[1]) + np.logaddexp(0.0, -theta[1]))
            residual = w * (1.0 / (1.0 + np.exp(-z)) - y)
            sig_b = 1.0 / (1.0 + np.exp(-theta[1]))
            gradient = np.array(
                [float(np.sum(residual * x)), float(np.sum(residual)) + JEFFREYS * (2 * sig_b - 1)]
            )
            return value, gradient

        slope, intercept = minimize_bounded(
            loss, np.array([1.0, 0.0]), [SLOPE_BOUNDS, (-30.0, 30.0)]
        )
        return cls(float(slope), float(intercept))


@dataclass(frozen=True)
class CalibrationBin:
    """Predictions in ``[low, high)``: how many, their mean and the share that came true."""

    low: float
    high: float
    count: int
    mean_predicted: float | None
    observed: float | None

    def as_dict(self) -> dict[str, float | int | None]:
        return {
            "low": self.low,
            "high": self.high,
            "count": self.count,
            "mean_predicted": self.mean_predicted,
            "observed": self.observed,
        }


def reliability_table(p: FloatArray, outcome: np.ndarray, bins: int = BINS) -> list[CalibrationBin]:
    """Equal-width bins of ``p`` over [0, 1] (the last bin holds 1): for a calibrated
    predictor, each bin's observed share is close to its mean prediction."""
    y = np.asarray(outcome, dtype=np.float64)
    index = np.minimum((np.asarray(p) * bins).astype(np.int64), bins - 1)
    count = np.bincount(index, minlength=bins)
    predicted = np.bincount(index, weights=p, minlength=bins)
    observed = np.bincount(index, weights=y, minlength=bins)
    table = []
    for i in range(bins):
        c = int(count[i])
        table.append(
            CalibrationBin(
                low=i / bins,
                high=(i + 1) / bins,
                count=c,
                mean_predicted=float(predicted[i] / c) if c else None,
                observed=float(observed[i] / c) if c else None,
            )
        )
    return table
