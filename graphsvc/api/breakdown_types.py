"""Why an entity has its score, typed (docs/decisions/0049-typed-breakdown.md): where its
incoming mass comes from and the faults applied, each naming the entity behind it. The
numbers are the snapshot's explanation as stored (``scoring/explain.py``), unchanged."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

import strawberry
from strawberry.types import Info

from graphsvc.api.context import Context
from graphsvc.api.scalars import described
from graphsvc.api.types import Entity


class EvidenceChannel(StrEnum):
    ATTEST = "attest"
    COSIGN = "cosign"
    RATING = "rating"
    STRUCTURAL = "structural"
    TELEPORT = "teleport"


described(
    EvidenceChannel,
    "EvidenceChannel",
    "How mass flows into an entity.",
    {
        "ATTEST": "A witness's valid attestations of it.",
        "COSIGN": "Receipts a requester co-signed for it.",
        "RATING": "Positive ratings (trust-network replay only).",
        "STRUCTURAL": "A model's link to its provider, and back.",
        "TELEPORT": "The trusted seeds' share of the personalization (no source entity).",
    },
)


class FaultCause(StrEnum):
    ATTESTED_INVALID = "attested_invalid"
    NEGATIVE_RATING = "negative_rating"
    REJECTED_DISPUTE = "rejected_dispute"
    WITNESS_MINORITY = "witness_minority"


described(
    FaultCause,
    "FaultCause",
    "Why a fault counts against an entity.",
    {
        "ATTESTED_INVALID": "A witness attested invalid naming this node or model.",
        "NEGATIVE_RATING": "A rater gave it a negative rating (trust-network replay only).",
        "REJECTED_DISPUTE": "This requester disputed a receipt all witnesses found valid.",
        "WITNESS_MINORITY": "This witness voted against the majority on a receipt.",
    },
)


@strawberry.type(description="One source of an entity's incoming mass.")
class Contribution:
    channel: EvidenceChannel = strawberry.field(description="How the mass flows in.")
    mass: float = strawberry.field(description="The mass it brings, at the fixed point.")
    share: float = strawberry.field(description="Its share (0-1) of the entity's raw mass.")
    source_id: strawberry.Private[str | None]

    @strawberry.field(description="The entity it comes from (null for TELEPORT).")
    async def entity(self, info: Info[Context, None]) -> Entity | None:
        return await Entity.load(info, self.source_id)


@strawberry.type(description="Faults one source attributes to an entity.")
class Fault:
    cause: FaultCause = strawberry.field(description="Why it counts.")
    weight: float = strawberry.field(description="Decayed fault weight.")
    events: int = strawberry.field(description="How many events it sums.")
    source_id: strawberry.Private[str]

    @strawberry.field(
        description="The entity that reported or caused it: the witness, or for a "
        "rejected dispute or a minority vote the entity itself."
    )
    async def entity(self, info: Info[Context, None]) -> Entity | None:
        return await Entity.load(info, self.source_id)


@strawberry.type(description="Why an entity has its score: its top sources and its faults.")
class Breakdown:
    incoming: list[Contribution] = strawberry.field(
        description="The largest sources of incoming mass, largest first."
    )
    incoming_other_share: float = strawberry.field(
        description="The share of raw mass from sources not listed."
    )
    incoming_sources: int = strawberry.field(
        description="How many sources (entity and channel) bring mass, listed or not."
    )
    faults: list[Fault] = strawberry.field(description="The heaviest faults, heaviest first.")
    fault_sources: int = strawberry.field(description="How many sources report faults.")
    fault_events: int = strawberry.field(description="How many fault events in all.")

    @classmethod
    def of(cls, explained: dict[str, Any]) -> Breakdown | None:
        """The typed form of a stored explanation (null: the snapshot kept none)."""
        if "incoming" not in explained:
            return None
        return cls(
            incoming=[
                Contribution(
                    channel=EvidenceChannel(c["channel"]),
                    mass=c["mass"],
                    share=c["share"],
                    source_id=c["source"],
                )
                for c in explained["incoming"]
            ],
            incoming_other_share=explained["incomingOtherShare"],
            incoming_sources=explained["incomingSources"],
            faults=[
                Fault(
                    cause=FaultCause(f["cause"]),
                    weight=f["weight"],
                    events=f["events"],
                    source_id=f["source"],
                )
                for f in explained["faults"]
            ],
            fault_sources=explained["faultSources"],
            fault_events=explained["faultEvents"],
        )
