"""How witnesses' votes on a receipt count: one vote per witness (its latest), and
whether an ``invalid`` attestation stands or was outvoted (docs/design.md §3).

Shared by the scorer (which derives faults from them), the receipt trail (its verdict)
and incidents (their status).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import NamedTuple

from graphsvc.domain.vocabulary import Verdict


class InvalidClaim(NamedTuple):
    """An ``invalid`` attestation and the party (node or model) it blames."""

    receipt_id: str
    witness_id: str
    party_id: str
    ts_ms: int


class ClaimStatus(StrEnum):
    """What became of an ``invalid`` attestation (an incident)."""

    STANDS = "stands"  # it faults the party it names
    OUTVOTED = "outvoted"  # a strict majority of at least two witnesses said valid


@dataclass(frozen=True)
class Tally:
    valid: int
    invalid: int

    @property
    def total(self) -> int:
        return self.valid + self.invalid


def latest_votes(
    attestations: Iterable[tuple[str, str, Verdict | str, int]], as_of_ms: int | None = None
) -> dict[str, dict[str, tuple[Verdict, int]]]:
    """``receipt -> witness -> (verdict, ts)``, one vote per witness (its latest)."""
    votes: dict[str, dict[str, tuple[Verdict, int]]] = defaultdict(dict)
    for receipt_id, witness_id, verdict, ts_ms in attestations:
        if as_of_ms is not None and ts_ms > as_of_ms:
            continue
        vote = (Verdict(verdict), int(ts_ms))
        known = votes[receipt_id].get(witness_id)
        # Later wins; at equal time `invalid` wins ("invalid" > "valid" as strings).
        if known is None or (vote[1], vote[0] == Verdict.INVALID) > (
            known[1],
            known[0] == Verdict.INVALID,
        ):
            votes[receipt_id][witness_id] = vote
    return dict(votes)


def tally(votes: dict[str, tuple[Verdict, int]]) -> Tally:
    invalid = sum(1 for verdict, _ in votes.values() if verdict == Verdict.INVALID)
    return Tally(valid=len(votes) - invalid, invalid=invalid)


def claim_status(claim: InvalidClaim, by_witness: dict[str, tuple[Verdict, int]]) -> ClaimStatus:
    """Whether an ``invalid`` attestation faults its party, given the votes on its
    receipt (an empty map when they all agree). Ingest keeps one attestation per
    (receipt, witness), so the claim is its witness's vote."""
    t = tally(by_witness)
    if t.total >= 2 and t.valid > t.invalid:
        return ClaimStatus.OUTVOTED
    return ClaimStatus.STANDS
