"""Faults derived from votes: minority witnesses and rejected disputes (docs/reference.md#faults).

Pure functions over attestation and dispute tuples; the store feeds them what it holds
(optionally cut at ``as_of_ms``) and adds the returned faults to the evidence.

Rules (docs/decisions/0070-standing.md: only witnesses with standing decide, ``trusted``):

- One vote per (receipt, witness): if a witness attested a receipt more than once, its
  latest attestation counts (ties in time: the ``invalid`` one, the cautious reading).
- On a receipt with at least two votes whose trusted votes have a **strict** majority,
  every witness on the other side, trusted or not, gets a ``WITNESS_MINORITY`` fault of
  ``minority_fault`` at its attestation time; a tie among the trusted blames no one.
- A dispute is **rejected** when a trusted witness voted on its receipt and none said
  ``invalid``: the requester gets a ``REJECTED_DISPUTE`` fault of
  ``rejected_dispute_fault`` at the dispute time. It is **upheld** when the trusted
  votes say ``invalid`` by a strict majority (no fault to the requester; the invalid
  attestations already fault the node or model), **pending** while no trusted witness
  has voted, and **contested** otherwise: no fault either way, because only a unanimous
  verdict faults a challenger.
- An ``invalid`` attestation faults the party it names (node or model) with an
  ``ATTESTED_INVALID`` fault of 1 at its time, its witness as source, unless it was
  **outvoted**: at least two votes, and the trusted ones say ``valid`` by a strict
  majority (it then gets the minority fault instead). How much the fault weighs is its
  witness's standing, applied by the engine: a key with no standing accuses for nothing.
- The ``source`` of the minority and rejected-dispute faults is the faulted party
  itself: the act being penalised is its own signed record (the minority attestation,
  the dispute), in line with the attribution rule that every edge is backed by the
  signature of the party whose responsibility it records. The receipt id is kept on the
  event for the breakdown. (Naming the majority witnesses instead would make them look
  like accusers and split one fault into many rows.)
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import NamedTuple

from graphsvc.domain import Verdict
from graphsvc.domain.votes import (
    ClaimStatus,
    InvalidClaim,
    Tally,
    claim_status,
    latest_votes,
    tally,
)
from graphsvc.scoring.evidence import FaultCause
from graphsvc.scoring.params import ScoringParams


class DisputeClaim(NamedTuple):
    receipt_id: str
    requester_id: str
    ts_ms: int


# One fault per standing invalid attestation; the engine weighs it by its witness's standing.
ATTESTED_FAULT = 1.0


class DisputeStatus(StrEnum):
    PENDING = "pending"
    UPHELD = "upheld"
    REJECTED = "rejected"
    CONTESTED = "contested"


@dataclass(frozen=True)
class FaultEvent:
    """A derived fault; ``as_row()`` is what ``EvidenceBuilder.faults`` takes."""

    party_id: str
    source_id: str
    cause: FaultCause
    ref_ms: int
    amount: float
    receipt_id: str

    def as_row(self) -> tuple[str, str, FaultCause, int, float]:
        return (self.party_id, self.source_id, self.cause, self.ref_ms, self.amount)


def status_of(t: Tally) -> DisputeStatus:
    if t.trusted_total == 0:
        return DisputeStatus.PENDING
    if t.trusted_invalid == 0:
        return DisputeStatus.REJECTED
    if t.majority is Verdict.INVALID:
        return DisputeStatus.UPHELD
    return DisputeStatus.CONTESTED


def dispute_statuses(
    attestations: Iterable[tuple[str, str, Verdict | str, int]],
    disputes: Iterable[tuple[str, str, int]],
    trusted: Collection[str],
    as_of_ms: int | None = None,
) -> list[tuple[DisputeClaim, DisputeStatus]]:
    """Each dispute (at or before ``as_of_ms``) with its status, in input order."""
    votes = latest_votes(attestations, as_of_ms)
    result = []
    for receipt_id, requester_id, ts_ms in disputes:
        if as_of_ms is not None and ts_ms > as_of_ms:
            continue
        claim = DisputeClaim(receipt_id, requester_id, int(ts_ms))
        result.append((claim, status_of(tally(votes.get(receipt_id, {}), trusted))))
    return result


def vote_faults(
    attestations: Iterable[tuple[str, str, Verdict | str, int]],
    disputes: Iterable[tuple[str, str, int]],
    params: ScoringParams,
    trusted: Collection[str],
    as_of_ms: int | None = None,
) -> list[FaultEvent]:
    """Minority-witness and rejected-dispute faults, sorted (receipt, party, time)."""
    votes = latest_votes(attestations, as_of_ms)
    faults: list[FaultEvent] = []
    for receipt_id, by_witness in votes.items():
        t = tally(by_witness, trusted)
        if t.total < 2 or t.majority is None:
            continue
        minority = Verdict.INVALID if t.majority is Verdict.VALID else Verdict.VALID
        for witness_id, (verdict, ts_ms) in by_witness.items():
            if verdict == minority:
                faults.append(
                    FaultEvent(
                        witness_id,
                        witness_id,
                        FaultCause.WITNESS_MINORITY,
                        ts_ms,
                        params.minority_fault,
                        receipt_id,
                    )
                )
    for claim, status in dispute_statuses(votes_as_rows(votes), disputes, trusted, as_of_ms):
        if status == DisputeStatus.REJECTED:
            faults.append(
                FaultEvent(
                    claim.requester_id,
                    claim.requester_id,
                    FaultCause.REJECTED_DISPUTE,
                    claim.ts_ms,
                    params.rejected_dispute_fault,
                    claim.receipt_id,
                )
            )
    faults.sort(key=lambda f: (f.receipt_id, f.party_id, int(f.cause), f.ref_ms))
    return faults


def attested_faults(
    claims: Iterable[tuple[str, str, str, int] | tuple[str, str, str, int, float]],
    attestations: Iterable[tuple[str, str, Verdict | str, int]],
    trusted: Collection[str],
    as_of_ms: int | None = None,
) -> list[FaultEvent]:
    """The faults ``invalid`` attestations put on the parties they name, unless
    outvoted by the trusted witnesses. ``attestations`` needs every vote on the receipts
    where votes disagree (others are unanimous: their claims stand)."""
    votes = latest_votes(attestations, as_of_ms)
    faults = []
    for row in claims:
        claim = InvalidClaim(*row)
        if as_of_ms is not None and claim.ts_ms > as_of_ms:
            continue
        if claim_status(claim, votes.get(claim.receipt_id, {}), trusted) is ClaimStatus.STANDS:
            faults.append(
                FaultEvent(
                    claim.party_id,
                    claim.witness_id,
                    FaultCause.ATTESTED_INVALID,
                    int(claim.ts_ms),
                    ATTESTED_FAULT * (1.0 - claim.score),
                    claim.receipt_id,
                )
            )
    faults.sort(key=lambda f: (f.receipt_id, f.party_id, f.source_id, f.ref_ms))
    return faults


def votes_as_rows(
    votes: dict[str, dict[str, tuple[Verdict, int]]],
) -> list[tuple[str, str, Verdict, int]]:
    return [(r, w, v, ts) for r, by_w in votes.items() for w, (v, ts) in by_w.items()]
