"""How witnesses' votes on a receipt count: one vote per witness (its latest), and
whether an ``invalid`` attestation stands or was outvoted (docs/reference.md#faults).

A verdict is a majority of the votes of witnesses **with standing**: the trusted seeds
(docs/decisions/0070-standing.md). Any registered witness may vote, and every vote is judged
(one on the losing side of a decided receipt is a minority fault), but a key with no
standing never decides: registering keys buys no majority.

Shared by the scorer (which derives faults from them), the receipt trail (its verdict)
and incidents (their status).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import NamedTuple

from graphsvc.domain.vocabulary import Verdict


class InvalidClaim(NamedTuple):
    """An ``invalid`` attestation and the party (node or model) it blames; ``score`` its
    graded verdict (0 when it gave none): the fault it puts is ``1 - score``."""

    receipt_id: str
    witness_id: str
    party_id: str
    ts_ms: int
    score: float = 0.0


def verdict_score(verdict: Verdict, score: float | None) -> float:
    """An attestation's score in [0, 1]: as graded, else 1 for valid and 0 for invalid
    (docs/decisions/0089-graded-verdicts.md)."""
    if score is not None:
        return float(score)
    return 1.0 if verdict is Verdict.VALID else 0.0


class ClaimStatus(StrEnum):
    """What became of an ``invalid`` attestation (an incident)."""

    STANDS = "stands"  # it faults the party it names
    OUTVOTED = "outvoted"  # a strict majority of at least two witnesses said valid


@dataclass(frozen=True)
class Tally:
    """Votes on one receipt: all of them (``valid``, ``invalid``) and those of witnesses
    with standing (``trusted_valid``, ``trusted_invalid``), which alone decide."""

    valid: int
    invalid: int
    trusted_valid: int
    trusted_invalid: int

    @property
    def total(self) -> int:
        return self.valid + self.invalid

    @property
    def trusted_total(self) -> int:
        return self.trusted_valid + self.trusted_invalid

    @property
    def majority(self) -> Verdict | None:
        """The side with strictly more trusted votes; None on a tie (or none at all)."""
        if self.trusted_valid == self.trusted_invalid:
            return None
        return Verdict.VALID if self.trusted_valid > self.trusted_invalid else Verdict.INVALID


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


def tally(votes: dict[str, tuple[Verdict, int]], trusted: Collection[str]) -> Tally:
    """Count one receipt's votes; ``trusted`` are the witnesses with standing."""
    invalid = trusted_valid = trusted_invalid = 0
    for witness, (verdict, _) in votes.items():
        is_invalid = verdict == Verdict.INVALID
        invalid += is_invalid
        if witness in trusted:
            trusted_invalid += is_invalid
            trusted_valid += not is_invalid
    return Tally(len(votes) - invalid, invalid, trusted_valid, trusted_invalid)


def claim_status(
    claim: InvalidClaim, by_witness: dict[str, tuple[Verdict, int]], trusted: Collection[str]
) -> ClaimStatus:
    """Whether an ``invalid`` attestation faults its party, given the votes on its
    receipt (an empty map when they all agree) and the witnesses with standing. It is
    outvoted when at least two witnesses voted and the trusted ones say ``valid`` by a
    strict majority. Ingest keeps one attestation per (receipt, witness), so the claim is
    its witness's vote. (Whether it weighs anything is its witness's standing: the
    scorer's business.)"""
    t = tally(by_witness, trusted)
    if t.total >= 2 and t.majority is Verdict.VALID:
        return ClaimStatus.OUTVOTED
    return ClaimStatus.STANDS
