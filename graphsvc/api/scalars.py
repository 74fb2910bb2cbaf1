"""The GraphQL enums of the domain vocabulary, and time conversions: what every API
module shares, so that type modules import this instead of each other.

Every enum value carries a description (the schema is a contract,
docs/decisions/0047-schema-is-a-contract.md): ``described`` refuses an enum whose values are
not all described."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import UTC, datetime
from enum import Enum, StrEnum
from typing import Annotated, Any, TypeVar

import strawberry

from graphsvc import domain
from graphsvc.domain.outcomes import RecordStatus as DomainRecordStatus
from graphsvc.domain.votes import ClaimStatus
from graphsvc.reputation.maker import SeedSource as DomainSeedSource
from graphsvc.reputation.views import Order

E = TypeVar("E", bound=type[Enum])


def described(source: E, name: str, description: str, values: Mapping[str, str]) -> E:
    """``source`` as the GraphQL enum ``name``, each value described by ``values`` (by
    member name). The domain's enums stay free of strawberry: only their GraphQL
    definition carries the words."""
    missing = {m.name for m in source} ^ set(values)
    if missing:
        raise ValueError(f"{name}: values described and defined differ: {sorted(missing)}")
    enum: Any = strawberry.enum(source, name=name, description=description)
    definition = enum.__strawberry_definition__
    definition.values = [
        dataclasses.replace(v, description=values[v.name]) for v in definition.values
    ]
    return enum  # type: ignore[no-any-return]


EntityKind = described(
    domain.EntityKind,
    "EntityKind",
    "What an entity is in the network.",
    {
        "PROVIDER": "Publishes models (signs model records).",
        "MODEL": "A published model, named by its provider's model record.",
        "NODE": "Runs models and signs receipts.",
        "WITNESS": "Checks receipts and signs attestations.",
        "REQUESTER": "Asks for inferences, co-signs receipts and files disputes.",
    },
)
ProofType = described(
    domain.ProofType,
    "ProofType",
    "How a receipt proves its execution; strength NONE < TEE < ZK.",
    {
        "TEE": "A trusted-execution-environment attestation (measurement).",
        "ZK": "A zero-knowledge proof anyone can check.",
        "NONE": "No proof: the node's word.",
    },
)
ProofStatus = described(
    domain.ProofStatus,
    "ProofStatus",
    "Whether graphsvc checked a receipt's proof (docs/decisions/0071-proof-status.md).",
    {
        "VERIFIED": "An attested enclave's signature over the receipt's hashes verified with "
        "a key its attestation document binds; the enclave is registered by the receipt's node.",
        "CLAIMED": "The node's word: nothing graphsvc could check (weighs as no proof).",
    },
)
ImageStatus = described(
    domain.ImageStatus,
    "ImageStatus",
    "Whether an enclave's measurements match an image a provider published.",
    {
        "KNOWN": "They match measurements a provider published in a signed image record.",
        "UNKNOWN": "Verified document, but no provider has published these measurements.",
        "DEBUG": "A debug-mode enclave: its measurements are zero and prove nothing.",
    },
)
Verdict = described(
    domain.Verdict,
    "Verdict",
    "A witness's verdict on a receipt.",
    {
        "VALID": "The witness checked the receipt and found it right.",
        "INVALID": "The witness found it wrong and blames the node or the model.",
    },
)
FaultParty = described(
    domain.FaultParty,
    "FaultParty",
    "Which party an invalid verdict blames.",
    {"NODE": "The node that ran the model.", "MODEL": "The model itself."},
)
RecordStatus = described(
    DomainRecordStatus,
    "RecordStatus",
    "What became of a submitted record.",
    {
        "ACCEPTED": "Stored and acknowledged (committed).",
        "DUPLICATE": "Already stored: nothing changed.",
        "REJECTED": "Refused; the reason says why. Nothing was stored.",
    },
)
LeaderboardOrder = described(
    Order,
    "LeaderboardOrder",
    "The order of a leaderboard.",
    {
        "BEST_FIRST": "By rank, best first.",
        "WORST_FIRST": "By rank, worst first.",
        "LOWEST_RISK": "By risk, lowest first (equal risks by rank).",
        "HIGHEST_RISK": "By risk, highest first (equal risks by rank).",
    },
)
IncidentStatus = described(
    ClaimStatus,
    "IncidentStatus",
    "What became of an incident.",
    {
        "STANDS": "It faults the party it names, by its witness's standing (0 for a "
        "witness that is not a trusted seed).",
        "OUTVOTED": "At least two witnesses voted and the trusted ones found the receipt "
        "valid by a strict majority, so it faults no one but its witness.",
    },
)
SeedSource = described(
    DomainSeedSource,
    "SeedSource",
    "Where the trusted seeds come from.",
    {
        "ADMIN": "Set with setSeeds (shared by every replica).",
        "CONFIGURED": "GRAPHSVC_SEEDS.",
        "NONE": "None set: no witness has standing, so no attestation counts and every "
        "mass is 0 until an administrator names seeds.",
    },
)


class TimeOrder(StrEnum):
    NEWEST_FIRST = "newest_first"
    OLDEST_FIRST = "oldest_first"


described(
    TimeOrder,
    "TimeOrder",
    "The order of a list of signed records, by the time they were signed (equal times by id).",
    {
        "NEWEST_FIRST": "Latest first.",
        "OLDEST_FIRST": "Earliest first.",
    },
)


class EntityOrder(StrEnum):
    NAME = "name"


described(
    EntityOrder,
    "EntityOrder",
    "The order of a list of entities.",
    {"NAME": "By name, then id."},
)


class SnapshotOrder(StrEnum):
    NEWEST_FIRST = "newest_first"


described(
    SnapshotOrder,
    "SnapshotOrder",
    "The order of the list of snapshots.",
    {"NEWEST_FIRST": "By asOf, latest first (equal times: the latest computed first)."},
)


class ReceiptVerdict(StrEnum):
    UNVERIFIED = "unverified"
    VALID = "valid"
    INVALID = "invalid"
    CONTESTED = "contested"


described(
    ReceiptVerdict,
    "ReceiptVerdict",
    "The trusted witnesses' (the seeds') verdict on a receipt so far, one vote (the "
    "latest) per witness. Other witnesses' votes are shown and judged but decide nothing.",
    {
        "UNVERIFIED": "No trusted witness has attested it.",
        "VALID": "More trusted witnesses found it valid than invalid.",
        "INVALID": "More trusted witnesses found it invalid than valid.",
        "CONTESTED": "As many trusted valid as invalid votes (a tie).",
    },
)


# scoreHistory's arguments, on Query and on Entity alike.
HistoryFrom = Annotated[
    datetime | None, strawberry.argument(name="from", description="Earliest asOf (included).")
]
HistoryTo = Annotated[datetime | None, strawberry.argument(description="Latest asOf (included).")]
HistoryPageSize = Annotated[
    int | None,
    strawberry.argument(
        description="At most this many points (default: the largest page), oldest first; "
        "the next page starts with from just after the last asOf."
    ),
]


def to_datetime(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def to_ms(moment: datetime) -> int:
    """Milliseconds since the epoch; a time without zone is taken as UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


# Arguments many fields take, described once.
AsOf = Annotated[
    datetime | None,
    strawberry.argument(
        description="A past time: the snapshot in force then (default: the newest)."
    ),
]
EntityId = Annotated[
    strawberry.ID, strawberry.argument(description="A signer id (ed25519:…) or a model name.")
]
EntityIds = Annotated[
    list[strawberry.ID],
    strawberry.argument(description="Signer ids or model names (at most the page size)."),
]
