"""The GraphQL enums of the domain vocabulary, and time conversions: what every API
module shares, so that type modules import this instead of each other."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import Enum
from typing import Annotated

import strawberry

from graphsvc import domain
from graphsvc.domain.outcomes import RecordStatus as DomainRecordStatus
from graphsvc.domain.votes import ClaimStatus
from graphsvc.reputation.service import SeedSource as DomainSeedSource
from graphsvc.reputation.views import Order

EntityKind = strawberry.enum(domain.EntityKind, name="EntityKind")
ProofType = strawberry.enum(domain.ProofType, name="ProofType")
Verdict = strawberry.enum(domain.Verdict, name="Verdict")
FaultParty = strawberry.enum(domain.FaultParty, name="FaultParty")
RecordStatus = strawberry.enum(DomainRecordStatus, name="RecordStatus")
LeaderboardOrder = strawberry.enum(Order, name="LeaderboardOrder")
IncidentStatus = strawberry.enum(
    ClaimStatus,
    name="IncidentStatus",
    description="STANDS: it faults the party it names. OUTVOTED: a strict majority of at "
    "least two witnesses attested the receipt valid, so it faults no one but its witness.",
)
SeedSource = strawberry.enum(
    DomainSeedSource,
    name="SeedSource",
    description="ADMIN: set with setSeeds (shared by every replica). CONFIGURED: "
    "GRAPHSVC_SEEDS. WITNESSES: none set, so every registered witness is trusted.",
)


# scoreHistory's page size, on Query and on Entity alike.
HistoryPageSize = Annotated[
    int | None,
    strawberry.argument(
        description="At most this many points (default: the largest page), oldest first; "
        "the next page starts with from just after the last asOf."
    ),
]


@strawberry.enum
class ReceiptVerdict(Enum):
    UNVERIFIED = "unverified"
    VALID = "valid"
    INVALID = "invalid"
    CONTESTED = "contested"


def to_datetime(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def to_ms(moment: datetime) -> int:
    """Milliseconds since the epoch; a time without zone is taken as UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)
