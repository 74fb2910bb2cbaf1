"""The engine's result: per-entity reputation arrays plus the internals explain/export use.

Definitions (docs/reference.md#published-figures):

- ``raw_mass``: the personalized PageRank vector ``x`` (sums to 1).
- ``mass = phi*x``, **not renormalised**: the mass an entity loses to its own faults is
  simply gone, so one entity's faults never move another entity's ``mass`` through a
  global rescale. ``sum(mass) <= 1``.
- ``score``: ``mass / max(mass of the same kind) x 100`` (0 when the kind's max is 0).
- ``rank``: ``1 +`` the same-kind entities with strictly higher mass, so tied entities
  share a rank and the next one skips (1, 1, 3: standard competition ranking); lists
  order equal masses by entity id (docs/decisions/0082-tied-ranks.md).
- ``percentile``: ``100 x (n_kind - 1 - same-kind entities with strictly higher mass) /
  (n_kind - 1)``, the share of the others that are not above it: the best entity is at
  100, a strictly worst one at 0, and tied entities share the value of the best of them
  (fourteen witnesses tied at the top are all at 100, not ranked 1-14 at 7); an entity
  alone in its kind is at 100 (docs/decisions/0075-number-formats.md).
- ``fault_rate``: ``f / (e + f)`` (0 when both are 0).
- ``confidence``: ``v / (v + confidence_scale)`` with ``v = e + f``: grows with the
  volume of decayed evidence about the entity, 0 with none, never reaching 1.
- ``risk`` (``risk_events``, ``risk_fault_events``, ``risk_prior``,
  ``risk_prior_strength``): the probability that the entity's next accountable event is
  a fault, the events behind it, the faults among them and its kind's prior mean and
  strength (``scoring/risk.py``; its credible interval is ``credible_interval``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from graphsvc.domain import EntityKind
from graphsvc.scoring.evidence import KIND_CODES, KINDS_BY_CODE, Evidence, FloatArray, IntArray
from graphsvc.scoring.params import ScoringParams


@dataclass(frozen=True, eq=False)
class Propagation:
    """What the engine used to propagate mass, kept for explanations and exports.

    The effective transition weight of an evidence row ``u -> v`` is
    ``decayed_weight(row) * transition_scale[u]``; of a structural link it is
    ``structural_weight * transition_scale[u]``. ``transition_scale = phi / out_weight``
    (0 for entities with no outgoing evidence), so entity ``u`` passes on ``alpha*phi_u`` of
    its mass along its edges and the share ``dangling[u] = 1 - phi_u`` (1 with no
    out-edges) goes to the personalization vector. At the fixed point the teleport
    term is ``teleport x p`` with ``teleport = alpha*sum dangling*x + (1 - alpha)``.
    """

    evidence: Evidence
    out_weight: FloatArray
    transition_scale: FloatArray
    dangling: FloatArray
    teleport: float
    # Per fault row, the factor its weight carries (its accuser's standing for an
    # accusation, else 1), and every entity's standing (scoring/standing.py).
    fault_factor: FloatArray
    standing: FloatArray


@dataclass(frozen=True, eq=False)
class Scores:
    """Reputation of every entity of one :class:`Evidence` at ``as_of_ms``."""

    as_of_ms: int
    params: ScoringParams
    entity_ids: tuple[str, ...]
    kinds: IntArray
    raw_mass: FloatArray
    mass: FloatArray
    score: FloatArray
    rank: IntArray
    percentile: FloatArray
    fault_rate: FloatArray
    confidence: FloatArray
    positive_evidence: FloatArray
    fault_weight: FloatArray
    phi: FloatArray
    personalization: FloatArray
    evidence_digest: str
    iterations: int
    residual: float
    # Risk of misbehaviour (scoring/risk.py): posterior mean, the decayed events behind
    # it, how many of them were faults, the kind's prior mean and strength.
    risk: FloatArray
    risk_events: FloatArray
    risk_fault_events: FloatArray
    risk_prior: FloatArray
    risk_prior_strength: FloatArray
    internals: Propagation | None = field(default=None, repr=False)

    def index_of(self, entity_id: str) -> int:
        """Position of ``entity_id`` (ids are sorted, so this is a binary search)."""
        ids = self.entity_ids
        lo, hi = 0, len(ids)
        while lo < hi:
            mid = (lo + hi) // 2
            if ids[mid] < entity_id:
                lo = mid + 1
            else:
                hi = mid
        if lo == len(ids) or ids[lo] != entity_id:
            raise KeyError(entity_id)
        return lo

    def kind_of(self, index: int) -> EntityKind:
        return KINDS_BY_CODE[int(self.kinds[index])]

    def entity(self, entity_id: str) -> dict[str, object]:
        """Every published figure of one entity as a JSON-safe dict."""
        i = self.index_of(entity_id)
        return {
            "id": entity_id,
            "kind": str(self.kind_of(i)),
            "score": float(self.score[i]),
            "rank": int(self.rank[i]),
            "percentile": float(self.percentile[i]),
            "raw": float(self.raw_mass[i]),
            "mass": float(self.mass[i]),
            "faultRate": float(self.fault_rate[i]),
            "confidence": float(self.confidence[i]),
            "positiveEvidence": float(self.positive_evidence[i]),
            "faultWeight": float(self.fault_weight[i]),
            "phi": float(self.phi[i]),
            "risk": float(self.risk[i]),
            "riskEvents": float(self.risk_events[i]),
            "riskFaultEvents": float(self.risk_fault_events[i]),
            "riskPrior": float(self.risk_prior[i]),
            "riskPriorStrength": float(self.risk_prior_strength[i]),
        }

    def ranked(self, kind: EntityKind | str) -> list[int]:
        """Indices of one kind, best first (rank 1, 2, ...)."""
        code = KIND_CODES[EntityKind(kind)]
        members = np.flatnonzero(self.kinds == code)
        return [int(i) for i in members[np.argsort(self.rank[members], kind="stable")]]


def rank_within_kind(mass: FloatArray, kinds: IntArray) -> tuple[FloatArray, IntArray, FloatArray]:
    """``(score, rank, percentile)`` per entity, each relative to entities of its kind."""
    n = len(mass)
    score = np.zeros(n, dtype=np.float64)
    rank = np.zeros(n, dtype=np.int64)
    percentile = np.zeros(n, dtype=np.float64)
    for code in sorted(KINDS_BY_CODE):
        members = np.flatnonzero(kinds == code)
        k = len(members)
        if k == 0:
            continue
        m = mass[members]
        score[members] = score_of(m, m.max())
        # Highest mass first; a stable sort keeps equal masses in ascending index order,
        # which is ascending id order (ids are sorted): lists break ties by id.
        order = np.argsort(-m, kind="stable")
        ordered = members[order]
        # Entities strictly above = those before the start of the entity's tie group.
        sorted_mass = m[order]
        new_group = np.empty(k, dtype=np.bool_)
        new_group[0] = True
        np.not_equal(sorted_mass[1:], sorted_mass[:-1], out=new_group[1:])
        above = np.flatnonzero(new_group)[np.cumsum(new_group) - 1]
        rank[ordered] = above + 1  # tied entities share a rank: 1, 1, 3
        if k == 1:
            percentile[members] = 100.0
            continue
        percentile[ordered] = ((k - 1) - above) * (100.0 / (k - 1))
    return score, rank, percentile


def score_of(mass: FloatArray, top: FloatArray | float) -> FloatArray:
    """Mass as a percentage of its kind's highest mass ``top`` (0 when that is 0)."""
    ratio = np.zeros_like(mass)
    np.divide(mass, top, out=ratio, where=np.asarray(top) > 0)
    return ratio * 100.0


def phi_of(e: FloatArray, f: FloatArray, beta: float, lam: float) -> FloatArray:
    """The share of its standing an entity keeps against its faults
    (docs/reference.md#reputation)."""
    return (e + beta) / (e + beta + lam * f)


def fault_rate(e: FloatArray, f: FloatArray) -> FloatArray:
    total = e + f
    out = np.zeros_like(total)
    np.divide(f, total, out=out, where=total > 0)
    return out


def confidence(e: FloatArray, f: FloatArray, scale: float) -> FloatArray:
    volume = e + f
    return volume / (volume + scale)
