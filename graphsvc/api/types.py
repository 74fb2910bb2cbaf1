"""GraphQL types of the attribution graph (records, receipts, outputs, entities)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry
from starlette.concurrency import run_in_threadpool
from strawberry.scalars import JSON
from strawberry.types import Info

from graphsvc import domain
from graphsvc.api.context import Context
from graphsvc.api.limits import page_size
from graphsvc.api.scalars import (
    EntityKind,
    FaultParty,
    HistoryPageSize,
    ProofType,
    ReceiptVerdict,
    RecordStatus,
    Verdict,
    to_datetime,
)
from graphsvc.domain.entities import EntityInfo
from graphsvc.domain.trail import ReceiptTrail

if TYPE_CHECKING:
    from graphsvc.api.accountability_types import Incident
    from graphsvc.api.reputation_types import Reputation, ScorePoint


@strawberry.type
class RecordResult:
    index: int
    id: str | None
    status: RecordStatus  # type: ignore[valid-type]
    reason: str | None


@strawberry.type
class Entity:
    id: strawberry.ID
    kind: EntityKind  # type: ignore[valid-type]
    name: str
    registered_at: datetime
    found: strawberry.Private[EntityInfo]

    @classmethod
    def of(cls, info: EntityInfo) -> Entity:
        return cls(
            id=strawberry.ID(info.id),
            kind=info.kind,
            name=info.name,
            registered_at=to_datetime(info.ts),
            found=info,
        )

    @strawberry.field(description="Its reputation now, or in the snapshot in force at asOf.")
    async def reputation(
        self, info: Info[Context, None], as_of: datetime | None = None
    ) -> Annotated[Reputation, strawberry.lazy("graphsvc.api.reputation_types")] | None:
        from graphsvc.api.reputation_types import reputation_of

        return await reputation_of(info, str(self.id), as_of)

    @strawberry.field(
        description="Its score in every retained snapshot between from and to (paged)."
    )
    async def score_history(
        self,
        info: Info[Context, None],
        from_: Annotated[datetime | None, strawberry.argument(name="from")] = None,
        to: datetime | None = None,
        first: HistoryPageSize = None,
    ) -> list[Annotated[ScorePoint, strawberry.lazy("graphsvc.api.reputation_types")]]:
        from graphsvc.api.reputation_types import history_of

        return await history_of(info, str(self.id), from_, to, first)

    @strawberry.field(
        description="Invalid attestations blaming it (for a provider: blaming its models), "
        "newest first, before the given time if any."
    )
    async def incidents(
        self, info: Info[Context, None], first: int = 20, before: datetime | None = None
    ) -> list[Annotated[Incident, strawberry.lazy("graphsvc.api.accountability_types")]]:
        from graphsvc.api.accountability_types import incidents_of

        return await incidents_of(info, self.found, page_size(info, first), before)


async def load_entity(info: Info[Context, None], entity_id: str | None) -> Entity | None:
    if entity_id is None:
        return None
    found = await info.context.entities.load(entity_id)
    return Entity.of(found) if found else None


@strawberry.type
class Model:
    id: strawberry.ID
    name: str
    digest: str | None
    published_at: datetime
    provider_id: strawberry.Private[str | None]

    @strawberry.field(description="The provider whose signed `model` record published it.")
    async def provider(self, info: Info[Context, None]) -> Entity | None:
        return await load_entity(info, self.provider_id)


async def load_model(info: Info[Context, None], model_id: str) -> Model | None:
    found = await info.context.entities.load(model_id)
    if found is None:
        return None
    return Model(
        id=strawberry.ID(found.id),
        name=found.name,
        digest=found.digest,
        published_at=to_datetime(found.ts),
        provider_id=found.provider,
    )


@strawberry.type
class Proof:
    type: ProofType  # type: ignore[valid-type]
    measurement: str | None


@strawberry.type
class Attestation:
    id: strawberry.ID
    ts: datetime
    verdict: Verdict  # type: ignore[valid-type]
    fault: FaultParty | None  # type: ignore[valid-type]
    note: str | None
    witness_id: strawberry.Private[str]
    leaf_index: int | None = strawberry.field(
        description="Its evidence-log leaf index (null if stored before the log)."
    )

    @strawberry.field
    async def witness(self, info: Info[Context, None]) -> Entity | None:
        return await load_entity(info, self.witness_id)


@strawberry.type
class Dispute:
    id: strawberry.ID
    ts: datetime
    reason: str
    requester_id: strawberry.Private[str]
    leaf_index: int | None = strawberry.field(
        description="Its evidence-log leaf index (null if stored before the log)."
    )

    @strawberry.field
    async def requester(self, info: Info[Context, None]) -> Entity | None:
        return await load_entity(info, self.requester_id)


@strawberry.type(description="One signed receipt: who ran which model for whom, and its fate.")
class Receipt:
    trail: strawberry.Private[ReceiptTrail]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return strawberry.ID(self.trail.id)

    @strawberry.field
    def ts(self) -> datetime:
        return to_datetime(self.trail.ts)

    @strawberry.field
    def input_hash(self) -> str:
        return self.trail.input_hash

    @strawberry.field
    def output(self) -> Output:
        return Output(hash=self.trail.output_hash)

    @strawberry.field
    async def model(self, info: Info[Context, None]) -> Model | None:
        return await load_model(info, self.trail.model)

    @strawberry.field
    async def node(self, info: Info[Context, None]) -> Entity | None:
        return await load_entity(info, self.trail.node)

    @strawberry.field
    async def requester(self, info: Info[Context, None]) -> Entity | None:
        return await load_entity(info, self.trail.requester)

    @strawberry.field
    def proof(self) -> Proof:
        return Proof(
            type=domain.ProofType(self.trail.proof_type), measurement=self.trail.measurement
        )

    @strawberry.field
    def attestations(self) -> list[Attestation]:
        return [
            Attestation(
                id=strawberry.ID(a.id),
                ts=to_datetime(a.ts),
                verdict=domain.Verdict(a.verdict),
                fault=domain.FaultParty(a.fault) if a.fault else None,
                note=a.note,
                witness_id=a.witness,
                leaf_index=a.leaf_index,
            )
            for a in self.trail.attestations
        ]

    @strawberry.field
    def disputes(self) -> list[Dispute]:
        return [
            Dispute(
                id=strawberry.ID(d.id),
                ts=to_datetime(d.ts),
                reason=d.reason,
                requester_id=d.requester,
                leaf_index=d.leaf_index,
            )
            for d in self.trail.disputes
        ]

    @strawberry.field(description="The witnesses' verdict so far (majority of attestations).")
    def verdict(self) -> ReceiptVerdict:
        return ReceiptVerdict(self.trail.verdict)

    @strawberry.field(description="Its evidence-log leaf index (null if stored before the log).")
    def leaf_index(self) -> int | None:
        return self.trail.leaf_index

    @strawberry.field(description="The full signed record, for independent re-verification.")
    def record(self) -> JSON:
        return JSON(self.trail.record)


@strawberry.type(description="An output hash and every receipt that claims to have produced it.")
class Output:
    hash: str

    @strawberry.field
    async def receipts(
        self,
        info: Info[Context, None],
        first: Annotated[int, strawberry.argument(description="At most this many.")] = 100,
    ) -> list[Receipt]:
        limit = min(max(first, 0), info.context.services.settings.max_page_size)
        ids = await run_in_threadpool(
            info.context.services.attribution.receipt_ids_for_output, self.hash, limit
        )
        found = await info.context.receipts.load_many(ids)
        return [Receipt(trail=t) for t in found if t is not None]
