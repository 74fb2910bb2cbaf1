"""GraphQL types of accountability: incidents blamed on a party, and providers that
meet a developer's policy."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.types import Info

from graphsvc import domain
from graphsvc.api import cursors
from graphsvc.api.context import Context
from graphsvc.api.reputation_types import Reputation
from graphsvc.api.scalars import (
    FaultParty,
    IncidentStatus,
    ProofType,
    to_datetime,
)
from graphsvc.api.types import Entity, Receipt
from graphsvc.domain import receipt_trail
from graphsvc.policy import Policy


@strawberry.type(description="An invalid attestation: a witness blamed a node or a model.")
class Incident:
    found: strawberry.Private[receipt_trail.Incident]

    @strawberry.field(description="The invalid attestation's record id.")
    def id(self) -> strawberry.ID:
        return strawberry.ID(self.found.id)

    @strawberry.field(
        description="Its position in the incidents feed: subscribe with after: cursor to "
        "resume after it."
    )
    def cursor(self) -> str:
        return encode_feed_cursor(self.found.batch, self.found.id)

    @strawberry.field(description="When the witness signed it.")
    def ts(self) -> datetime:
        return to_datetime(self.found.ts)

    @strawberry.field(description="Whether it stands or was outvoted.")
    def status(self) -> IncidentStatus:  # type: ignore[valid-type]
        return self.found.status

    @strawberry.field(description="Which party the witness blamed.")
    def fault(self) -> FaultParty:  # type: ignore[valid-type]
        return domain.FaultParty(self.found.fault)

    @strawberry.field(description="The witness's note, if any.")
    def note(self) -> str | None:
        return self.found.note

    @strawberry.field(description="Its evidence-log leaf index (null if stored before the log).")
    def leaf_index(self) -> int | None:
        return self.found.leaf_index

    @strawberry.field(description="The blamed node or model.")
    async def party(self, info: Info[Context, None]) -> Entity | None:
        return await Entity.load(info, self.found.party)

    @strawberry.field(description="The witness that signed it.")
    async def witness(self, info: Info[Context, None]) -> Entity | None:
        return await Entity.load(info, self.found.witness)

    @strawberry.field(description="The receipt it judges invalid.")
    async def receipt(self, info: Info[Context, None]) -> Receipt | None:
        found = await info.context.receipts.load(self.found.receipt)
        return Receipt(trail=found) if found else None


def encode_feed_cursor(batch: int, incident_id: str) -> str:
    return cursors.encode("feed", f"{batch}:{incident_id}")


def decode_feed_cursor(cursor: str) -> tuple[int, str]:
    batch, _, incident_id = cursors.decode("feed", cursor).partition(":")
    if not batch.isdigit() or not incident_id:
        raise ValueError(f"invalid cursor {cursor!r}")
    return int(batch), incident_id


@strawberry.input(
    description="An accountability policy. A model qualifies when at least minProofShare "
    "of its receipts carry minProof or a stronger proof (NONE < TEE < ZK; above NONE only "
    "VERIFIED proofs count unless acceptClaimed), its score and "
    "fault rate are within bounds and its decayed positive evidence is at least "
    "minEvidence, and its risk at most maxRisk; a provider qualifies when its own score, "
    "fault rate and risk are within bounds "
    "and it publishes a qualifying model."
)
class ProviderPolicy:
    min_proof: ProofType = strawberry.field(  # type: ignore[valid-type]
        default=domain.ProofType.NONE, description="The weakest proof a receipt may carry."
    )
    min_proof_share: float = strawberry.field(
        default=1.0, description="Share (0-1) of a model's receipts with minProof or stronger."
    )
    min_score: float = strawberry.field(default=0.0, description="Lowest score (0-100).")
    max_fault_rate: float = strawberry.field(default=1.0, description="Highest fault rate (0-1).")
    min_evidence: float = strawberry.field(
        default=0.0, description="Least decayed positive evidence of a model."
    )
    max_risk: float = strawberry.field(default=1.0, description="Highest risk (0-1).")
    accept_claimed: bool = strawberry.field(
        default=False,
        description="Count TEE and ZK proofs that are only CLAIMED (the node's word) "
        "towards minProof; by default only VERIFIED ones count.",
    )

    def to_policy(self) -> Policy:
        return Policy(
            accept_claimed=self.accept_claimed,
            max_risk=self.max_risk,
            min_proof=domain.ProofType(self.min_proof),
            min_proof_share=self.min_proof_share,
            min_score=self.min_score,
            max_fault_rate=self.max_fault_rate,
            min_evidence=self.min_evidence,
        )


@strawberry.type(description="Receipts a model has served, by proof type (all time).")
class ProofCounts:
    tee: int = strawberry.field(description="Receipts with a TEE proof, VERIFIED or CLAIMED.")
    zk: int = strawberry.field(description="Receipts with a zero-knowledge proof (all CLAIMED).")
    none: int = strawberry.field(description="Receipts without a proof.")
    tee_verified: int = strawberry.field(
        description="Receipts whose TEE proof graphsvc VERIFIED (a registered enclave's "
        "signature); the rest of `tee` is CLAIMED."
    )
    zk_verified: int = strawberry.field(description="Receipts whose zk proof was VERIFIED.")
    share_at_least_min_proof: float = strawberry.field(
        description="Share of its receipts with the policy's minimum proof or stronger."
    )


@strawberry.type(description="A qualifying model of a recommended provider.")
class ModelRecommendation:
    reputation: Reputation = strawberry.field(description="The model's reputation.")
    proofs: ProofCounts = strawberry.field(description="Its receipts by proof type.")


@strawberry.type(description="A provider meeting the policy, with its qualifying models.")
class ProviderRecommendation:
    reputation: Reputation = strawberry.field(description="The provider's reputation.")
    models: list[ModelRecommendation] = strawberry.field(
        description="Its models that meet the policy, best first."
    )
