"""The attribution trail of a receipt (who ran which model for whom, and what the
witnesses and requesters said of it), and incidents: the invalid attestations that
blame a node or a model."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from graphsvc.domain.votes import ClaimStatus, latest_votes, tally


@dataclass(frozen=True)
class AttestationInfo:
    id: str
    ts: int
    witness: str
    verdict: str
    fault: str | None
    note: str | None
    # Its index in the evidence log (None for a record stored before the log began).
    leaf_index: int | None = None
    receipt: str = ""  # the receipt it attests
    # Its graded verdict in [0, 1]; an ungraded one is stored as 1 (valid) or 0 (invalid).
    score: float = 1.0


@dataclass(frozen=True)
class DisputeInfo:
    id: str
    ts: int
    requester: str
    reason: str
    # Its index in the evidence log (None for a record stored before the log began).
    leaf_index: int | None = None
    receipt: str = ""  # the receipt it disputes


@dataclass(frozen=True)
class ReceiptTrail:
    id: str
    ts: int
    node: str
    model: str
    provider: str | None
    requester: str | None
    input_hash: str
    output_hash: str
    proof_type: str
    measurement: str | None
    record: dict[str, Any]
    attestations: tuple[AttestationInfo, ...]
    disputes: tuple[DisputeInfo, ...]
    # Its index in the evidence log (None for a record stored before the log began).
    leaf_index: int | None = None
    # The witnesses with standing when it was read: they alone decide its verdict.
    trusted: frozenset[str] = frozenset()
    # Whether graphsvc checked its proof (docs/decisions/0071-proof-status.md), and the
    # enclave whose signature it checked.
    proof_status: str = "claimed"
    enclave: str | None = None

    @property
    def verdict(self) -> str:
        """The trusted witnesses' verdict so far: unverified (none of them voted), valid,
        invalid or contested (a tie). One vote per witness, its latest, as the scorer
        counts them."""
        votes = latest_votes((self.id, a.witness, a.verdict, a.ts) for a in self.attestations)
        t = tally(votes.get(self.id, {}), self.trusted)
        if t.trusted_total == 0:
            return "unverified"
        return "contested" if t.majority is None else str(t.majority)


@dataclass(frozen=True)
class Incident:
    """An invalid attestation and what became of it (it stands, or was outvoted)."""

    id: str
    ts: int
    receipt: str
    witness: str
    party: str
    fault: str
    note: str | None
    status: ClaimStatus
    batch: int  # the ingest batch that stored it: the incidents feed's order
    # Its index in the evidence log (None for a record stored before the log began).
    leaf_index: int | None = None
