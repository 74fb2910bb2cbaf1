"""Standing: how much a witness's word counts when it reports on another party
(docs/decisions/0070-standing.md, docs/reference.md#faults to docs/reference.md#propagation).

A witness's **credibility** ``c_w`` decides whether its word counts at all: its valid
attestations add positive evidence by ``c_w``, open a node's usage teleport by ``c_w``,
and only witnesses with credibility decide verdicts. Its **standing**
``c_w * (1 - risk_w)`` is what an accusation weighs: a report that costs another party
is also discounted by how often its author was found wrong. (Positive evidence stays a
plain decayed count, so it halves every half-life exactly, docs/reference.md#properties-under-test.)

- ``c_w``, credibility, is the one risk already uses: ``min(1, x_w / median x of
  witnesses with mass)``. A witness receives no evidence, so its mass is exactly its
  share of the seed teleport: a trusted seed has credibility 1, any other key 0, however
  many of them there are. Keys are free; standing is not.
- ``1 - risk_w``, reliability, is the witness's published risk from its own record: a
  witness often outvoted is believed less (docs/reference.md#risk and
  docs/decisions/0063-reports-weigh-reliability.md).

A witness's risk depends only on its own votes and its credibility, not on the mass of
the parties it reports on, so standing is known before propagation: :func:`standing`
runs risk's rounds on the seed teleport (a witness's mass up to a constant) and the
engine publishes, after propagation, the same risk for every witness.

Verdicts (``scoring/verdicts.py``) count the votes of witnesses with credibility, not
weighed by reliability: reliability is itself measured by verdicts, and a majority that
weighed its members by how often they had been in the majority would entrench itself.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from graphsvc.scoring.evidence import Channel, Evidence, FaultCause, FloatArray, distinct
from graphsvc.scoring.params import ScoringParams
from graphsvc.scoring.risk import RowWeights, credibility, estimate_risk


def seed_teleport(evidence: Evidence) -> FloatArray:
    """``p_seeds``: uniform over the trusted seeds, zero everywhere without them."""
    p = np.zeros(evidence.entity_count, dtype=np.float64)
    seeds = distinct(evidence.seeds, evidence.entity_count)
    if len(seeds):
        p[seeds] = 1.0 / len(seeds)
    return p


def seed_credibility(evidence: Evidence) -> FloatArray:
    """Every entity's credibility from the seed teleport alone: for a witness (whose mass
    is its seed teleport) the credibility risk computes from its mass."""
    return credibility(seed_teleport(evidence), evidence.entity_kinds)


def has_witness_reports(evidence: Evidence) -> bool:
    """Whether any row is a witness's report on another party (an attestation or an
    accusation): a trust network's ratings have none, and standing is then unused."""
    return bool(
        (evidence.edge_channel == Channel.ATTEST).any()
        or (evidence.fault_cause == FaultCause.ATTESTED_INVALID).any()
    )


@dataclass(frozen=True, eq=False)
class Standing:
    """Per entity: ``credibility`` (0 or 1 for a witness) and ``weight``, its standing
    ``credibility * (1 - risk)``; both 0 for an entity without credibility."""

    credibility: FloatArray
    weight: FloatArray


def standing(
    evidence: Evidence, params: ScoringParams, as_of_ms: int, decayed: RowWeights
) -> Standing:
    """Every entity's standing from the seeds and the witnesses' own records.
    ``decayed`` as for :func:`estimate_risk`."""
    cred = seed_credibility(evidence)
    if not cred.any() or not has_witness_reports(evidence):
        return Standing(cred, np.zeros(evidence.entity_count, dtype=np.float64))
    no_usage = np.zeros(evidence.entity_count, dtype=np.float64)
    # A witness's prior is its kind's share, never fitted (witnesses have records of
    # their own): the fits of other kinds' priors are left to the engine's second call.
    seeds = seed_teleport(evidence)
    risk = estimate_risk(evidence, params, as_of_ms, seeds, decayed, no_usage, fit_priors=False)
    return Standing(cred, cred * (1.0 - risk.mean))


def accusation_weights(evidence: Evidence, standing_of: FloatArray) -> FloatArray:
    """Per fault row, the factor its weight in the mass carries: an accusation weighs its
    witness's standing; a fault a party caused itself (outvoted, a baseless dispute) and
    a trust network's negative rating weigh fully."""
    accused = evidence.fault_cause == FaultCause.ATTESTED_INVALID
    factor: FloatArray = np.where(accused, standing_of[evidence.fault_source], 1.0)
    return factor
