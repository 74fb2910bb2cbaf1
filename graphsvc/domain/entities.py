"""Registered parties and published models, and counts of what the graph holds."""

from __future__ import annotations

from dataclasses import dataclass

from graphsvc.domain.vocabulary import PROOF_STRENGTH, EntityKind, ImageStatus, ProofType


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
    """All-time receipts of one model by proof type (kept at ingest): all of them, and
    those whose proof graphsvc verified (docs/decisions/0071-proof-status.md)."""

    model: str
    provider: str
    tee: int
    zk: int
    none: int
    tee_verified: int = 0
    zk_verified: int = 0

    @property
    def receipts(self) -> int:
        return self.tee + self.zk + self.none

    def count(self, proof: ProofType, *, verified_only: bool = False) -> int:
        """Receipts with this proof type; with ``verified_only``, those verified (a
        ``none`` proof has nothing to verify, so it counts as it is)."""
        if verified_only:
            by_proof = {ProofType.TEE: self.tee_verified, ProofType.ZK: self.zk_verified}
            return by_proof.get(proof, self.none)
        return {ProofType.TEE: self.tee, ProofType.ZK: self.zk, ProofType.NONE: self.none}[proof]

    def share_at_least(self, proof: ProofType, *, accept_claimed: bool = True) -> float:
        """The share of its receipts whose proof is ``proof`` or stronger (0 if none);
        unless ``accept_claimed``, a proof nobody verified counts as NONE."""
        if not self.receipts:
            return 0.0
        floor = PROOF_STRENGTH[proof]
        if floor == PROOF_STRENGTH[ProofType.NONE]:
            return 1.0
        strong = sum(
            self.count(p, verified_only=not accept_claimed)
            for p, s in PROOF_STRENGTH.items()
            if s >= floor
        )
        return strong / self.receipts


@dataclass(frozen=True)
class ImageInfo:
    """Measurements a provider published for an enclave image."""

    name: str
    provider: str
    ts: int


@dataclass(frozen=True)
class EnclaveInfo:
    """A registered, attested enclave (docs/reference.md#checked-proofs-enclaves-and-images)."""

    id: str
    node: str
    platform: str
    measurements: dict[str, str]  # register index -> lowercase hex
    attested_ms: int
    ts: int
    debug: bool
    root: str
    binding: str
    record_id: str
    image: ImageInfo | None  # the first published image its measurements match

    @property
    def image_status(self) -> ImageStatus:
        if self.debug:
            return ImageStatus.DEBUG
        return ImageStatus.KNOWN if self.image is not None else ImageStatus.UNKNOWN
