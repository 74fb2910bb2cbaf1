"""Score snapshots: what was computed, for when, from which evidence, and each
entity's published figures in it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from graphsvc.domain.vocabulary import EntityKind


@dataclass(frozen=True)
class SnapshotInfo:
    id: str
    as_of_ms: int
    created_ms: int
    params: dict[str, Any]
    evidence_digest: str
    records: int
    entities: int
    iterations: int
    residual: float
    # The evidence log's checkpoint of the records it covered: tree size and base64 root
    # (None for snapshots taken before the log, docs/auditors.md).
    log_size: int | None = None
    log_root: str | None = None
    # The trusted seeds it was computed with: the witnesses whose votes decide the
    # verdicts shown with it (docs/decisions/0070-standing.md).
    seeds: tuple[str, ...] = ()


@dataclass(frozen=True)
class ScoreRow:
    """One entity's published figures in one snapshot."""

    entity: str
    kind: EntityKind
    score: float
    rank: int
    percentile: float
    mass: float
    raw_mass: float
    fault_rate: float
    confidence: float
    positive_evidence: float
    fault_weight: float
    phi: float
    breakdown: dict[str, Any]
    as_of_ms: int
    # Risk of misbehaviour, the events behind it, the faults among them and the prior
    # mean and strength of its kind (docs/reference.md#risk). Its credible interval is
    # derived from them when read.
    risk: float
    risk_events: float
    risk_fault_events: float
    risk_prior: float
    risk_prior_strength: float


@dataclass(frozen=True)
class SnapshotEvidence:
    """How a snapshot keeps the evidence it was computed from, to be reproduced.

    ``form`` is ``base`` (the scorer's whole kept evidence) or ``delta`` (what changed
    since the ``parent`` snapshot's evidence). ``seeds`` are the trusted ids the
    scorer was given (empty: nobody has standing).
    """

    form: str
    data: bytes
    parent: str | None = None
    seeds: tuple[str, ...] = ()
