"""Parameters of the reputation model (docs/reference.md#reputation), validated and JSON
round-trippable.

Every snapshot stores ``ScoringParams.to_dict()`` beside its scores so that
``graphsvc score --as-of T`` can rebuild the exact same parameters with ``from_dict``.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from typing import Any

MS_PER_DAY = 86_400_000


@dataclass(frozen=True)
class ScoringParams:
    """Knobs of the time-decayed personalized PageRank with faults.

    ``usage_exponent``: the original brief asked for ``p_usage ∝ sqrt(volume)``, but sqrt
    rewards splitting: volume ``V`` spread over ``k`` identities earns ``k*sqrt(V/k) =
    sqrt(k*V)``, so registering more identities buys more teleport mass. Exponent 1 (linear)
    is split-proof, hence the default; 0.5 reproduces the original brief
    (docs/decisions/0002-linear-usage-exponent.md).

    ``confidence_scale``: confidence is ``v / (v + confidence_scale)`` with ``v = e + f`` the
    entity's decayed evidence volume (positive plus fault weight), so an entity with
    ``confidence_scale`` units of fresh evidence (e.g. 10 fresh TEE receipts) is at 0.5.

    ``risk_prior_strength``: how many events the prior of ``risk`` weighs (1: the first
    real event moves the estimate halfway from the kind's fault rate; docs/reference.md#risk).

    ``tol`` is on the L1 change of the mass vector between two iterations; the remaining
    error is then below ``tol*alpha/(1-alpha)`` (~ 5.7*tol) in L1.
    """

    half_life_days: float = 30.0
    alpha: float = 0.85
    sigma: float = 0.5
    beta: float = 1.0
    lam: float = 10.0
    proof_weight_tee: float = 1.0
    proof_weight_zk: float = 1.0
    proof_weight_none: float = 0.5
    rejected_dispute_fault: float = 0.5
    minority_fault: float = 1.0
    usage_exponent: float = 1.0
    structural_weight: float = 1.0
    confidence_scale: float = 10.0
    tol: float = 1e-12
    max_iter: int = 10_000
    risk_prior_strength: float = 1.0

    def __post_init__(self) -> None:
        def check(name: str, ok: bool, rule: str) -> None:
            value = getattr(self, name)
            if not ok:
                raise ValueError(f"ScoringParams.{name} = {value!r}: must be {rule}")

        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "max_iter":
                if not isinstance(value, int) or isinstance(value, bool):
                    raise ValueError(f"ScoringParams.max_iter = {value!r}: must be an integer")
            elif isinstance(value, bool) or not isinstance(value, int | float):
                raise ValueError(f"ScoringParams.{f.name} = {value!r}: must be a number")
            elif not math.isfinite(value):
                raise ValueError(f"ScoringParams.{f.name} = {value!r}: must be finite")
        check("half_life_days", self.half_life_ms >= 1, "at least 1 ms (in days)")
        check("alpha", 0.0 < self.alpha < 1.0, "in (0, 1)")
        check("sigma", 0.0 <= self.sigma <= 1.0, "in [0, 1]")
        check("beta", self.beta > 0.0, "> 0 (it keeps phi defined for entities with no evidence)")
        check("lam", self.lam >= 0.0, ">= 0")
        for name in (
            "proof_weight_tee",
            "proof_weight_zk",
            "proof_weight_none",
            "rejected_dispute_fault",
            "minority_fault",
            "usage_exponent",
            "structural_weight",
        ):
            check(name, getattr(self, name) >= 0.0, ">= 0")
        check("confidence_scale", self.confidence_scale > 0.0, "> 0")
        check("tol", self.tol > 0.0, "> 0")
        check("max_iter", self.max_iter >= 1, ">= 1")
        check("risk_prior_strength", self.risk_prior_strength > 0.0, "> 0")

    @property
    def half_life_ms(self) -> int:
        """The half-life in whole milliseconds: the unit evidence timestamps use."""
        return round(self.half_life_days * MS_PER_DAY)

    def proof_weight(self, proof: str) -> float:
        """The evidence weight ``q`` of a receipt with this proof type (tee, zk, none)."""
        weights = {
            "tee": self.proof_weight_tee,
            "zk": self.proof_weight_zk,
            "none": self.proof_weight_none,
        }
        try:
            return weights[str(proof)]
        except KeyError:
            raise ValueError(f"unknown proof type {proof!r}: expected tee, zk or none") from None

    def to_dict(self) -> dict[str, float | int]:
        """JSON-safe dict of every parameter (floats and one int), in declaration order."""
        return dict(asdict(self))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ScoringParams:
        """Inverse of :meth:`to_dict`; missing keys take defaults, unknown keys are errors."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown scoring parameter(s): {', '.join(unknown)}")
        values: dict[str, Any] = {}
        for f in fields(cls):
            if f.name in data:
                value = data[f.name]
                # JSON turns 30.0 into 30 in some writers; keep floats floats.
                if f.name != "max_iter" and isinstance(value, int) and not isinstance(value, bool):
                    value = float(value)
                values[f.name] = value
        return cls(**values)
