"""One ingest batch as data: what the store already holds that its records touch
(:class:`KnownState`, read before resolution), and the rows it writes (:class:`WritePlan`,
filled by resolution). Pure, so the attribution rule is tested without a database and
the store turns a plan into statements without knowing the rule.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from graphsvc.domain import EntityKind, ProofStatus, ProofType


@dataclass(frozen=True)
class KnownEntity:
    kind: EntityKind
    record_id: str | None
    provider: str | None = None


@dataclass(frozen=True)
class KnownReceipt:
    node: str
    model: str
    requester: str | None


@dataclass(frozen=True)
class KnownEnclave:
    node: str
    key_der: bytes
    record_id: str
    # A debug-mode enclave's measurements prove nothing: its signatures never make a
    # proof VERIFIED (docs/reference.md#checked-proofs-enclaves-and-images).
    debug: bool = False


@dataclass
class KnownState:
    """What the store holds that a batch's records may refer to or collide with."""

    entities: dict[str, KnownEntity] = field(default_factory=dict)
    receipts: dict[str, KnownReceipt] = field(default_factory=dict)
    attestation_ids: set[str] = field(default_factory=set)
    dispute_ids: set[str] = field(default_factory=set)
    votes: set[str] = field(default_factory=set)  # witness|receipt
    claims: set[str] = field(default_factory=set)  # requester|receipt
    outputs: set[str] = field(default_factory=set)
    enclaves: dict[str, KnownEnclave] = field(default_factory=dict)  # by enclave id
    image_ids: set[str] = field(default_factory=set)  # image record ids


def vote_key(witness: str, receipt: str) -> str:
    return f"{witness}|{receipt}"


def claim_key(requester: str, receipt: str) -> str:
    return f"{requester}|{receipt}"


@dataclass
class DecayedSum:
    """Batch-local running sum ``sum(q * 2^((t - ref) / H))`` with ref the newest t."""

    ref_ms: int
    amount: float = 0.0
    count: int = 0

    def add(self, ts: int, q: float, half_life_ms: float) -> None:
        if ts > self.ref_ms:
            self.amount *= math.exp2((self.ref_ms - ts) / half_life_ms)
            self.ref_ms = ts
        self.amount += q * math.exp2((ts - self.ref_ms) / half_life_ms)
        self.count += 1


@dataclass
class WritePlan:
    """Rows for each write statement of one batch; empty lists are skipped."""

    entities: dict[EntityKind, list[dict[str, Any]]] = field(default_factory=dict)
    models: list[dict[str, Any]] = field(default_factory=list)
    images: list[dict[str, Any]] = field(default_factory=list)
    enclaves: list[dict[str, Any]] = field(default_factory=list)
    # Receipts whose Output is new: written with the Output and all its edges at once.
    output_receipts: list[dict[str, Any]] = field(default_factory=list)
    # Receipts for an Output that exists already (a re-execution), and that Output's
    # edges, which may exist too.
    receipts: list[dict[str, Any]] = field(default_factory=list)
    output_models: set[tuple[str, str]] = field(default_factory=set)
    output_nodes: set[tuple[str, str]] = field(default_factory=set)
    output_requesters: set[tuple[str, str]] = field(default_factory=set)
    attestations: list[dict[str, Any]] = field(default_factory=list)
    # receipt -> (witnesses voting valid, witnesses voting invalid) in this batch
    votes: dict[str, tuple[list[str], list[str]]] = field(default_factory=dict)
    disputes: list[dict[str, Any]] = field(default_factory=list)
    evidence: dict[tuple[str, str, str], DecayedSum] = field(default_factory=dict)
    # receipts per (model, proof type, proof status), for policies on proof strength
    proofs: dict[tuple[str, str, str], int] = field(default_factory=dict)
    accepted: int = 0
    # The leaf hash of each accepted record, in the order the log appends them; each
    # record's row carries its position here as `leaf` (docs/auditors.md).
    leaves: list[bytes] = field(default_factory=list)
    leaf_ids: list[str] = field(default_factory=list)  # the record id of each leaf

    def log(self, record_id: str, leaf_hash: bytes) -> int:
        """Append an accepted record's leaf hash; its offset within this batch."""
        self.leaves.append(leaf_hash)
        self.leaf_ids.append(record_id)
        return len(self.leaves) - 1

    def evidence_rows(self) -> list[dict[str, Any]]:
        return [
            {
                "id": f"{ch}|{src}|{dst}",
                "src": src,
                "dst": dst,
                "channel": ch,
                "ref_ms": s.ref_ms,
                "amount": s.amount,
                "count": s.count,
            }
            for (ch, src, dst), s in sorted(self.evidence.items())
        ]

    def proof_rows(self) -> list[dict[str, Any]]:
        """Per model: receipts by proof type, and the verified ones among them."""
        counts: dict[str, dict[str, int]] = {}
        for (model, proof, status), n in sorted(self.proofs.items()):
            by_proof = counts.setdefault(model, _empty_counts())
            by_proof[proof] += n
            if status == ProofStatus.VERIFIED:
                by_proof[f"{proof}_verified"] += n
        return [{"model": model, **by_proof} for model, by_proof in counts.items()]


def _empty_counts() -> dict[str, int]:
    return {p.value: 0 for p in ProofType} | {f"{p.value}_verified": 0 for p in ProofType}
