"""Registered parties and published models, and counts of what the graph holds."""

from __future__ import annotations

from dataclasses import dataclass

from graphsvc.domain.vocabulary import PROOF_STRENGTH, EntityKind, ProofType


@dataclass(frozen=True)
class EntityInfo:
    """A registered party, or a published model (``provider`` and ``digest`` set)."""

    id: str
    kind: EntityKind
    name: str
    ts: int
    provider: str | None = None
    digest: str | None = None


@dataclass(frozen=True)
class IngestCounter:
    """The store's ingest counter: accepted records and committed batches so far.

    Batches are numbered in commit order (the counter is bumped first in every write
    transaction), which orders the incidents feed.
    """

    records: int = 0
    batches: int = 0
    last_ingest_ms: int | None = None
    # The most records one batch accepted; None for a store written before it was kept
    # (and before what batches change was stamped: see store/evidence_loader.py).
    largest_batch: int | None = 0


@dataclass(frozen=True)
class NetworkCounts:
    entities: dict[EntityKind, int]
    receipts: int
    outputs: int
    attestations: int
    disputes: int
    records: int
    last_ingest_ms: int | None


@dataclass(frozen=True)
class ProofMix:
    """All-time receipts of one model by proof type (kept at ingest)."""

    model: str
    provider: str
    tee: int
    zk: int
    none: int

    @property
    def receipts(self) -> int:
        return self.tee + self.zk + self.none

    def count(self, proof: ProofType) -> int:
        return {ProofType.TEE: self.tee, ProofType.ZK: self.zk, ProofType.NONE: self.none}[proof]

    def share_at_least(self, proof: ProofType) -> float:
        """The share of its receipts whose proof is ``proof`` or stronger (0 if none)."""
        if not self.receipts:
            return 0.0
        floor = PROOF_STRENGTH[proof]
        strong = sum(self.count(p) for p, s in PROOF_STRENGTH.items() if s >= floor)
        return strong / self.receipts
