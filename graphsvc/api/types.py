"""GraphQL types of the attribution graph (records, receipts, outputs, entities)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, TypeVar

import strawberry
from starlette.concurrency import run_in_threadpool
from strawberry.scalars import JSON
from strawberry.types import Info

from graphsvc import domain
from graphsvc.api.context import Context
from graphsvc.api.enclave_types import Enclave
from graphsvc.api.pages import (
    TRAIL_PAGE,
    After,
    First,
    Page,
    TimeFilter,
    TrailFirst,
    known_count,
    page_of,
    time_cursor,
    time_page,
    window_of,
)
from graphsvc.api.scalars import (
    EntityKind,
    FaultParty,
    HistoryFrom,
    HistoryPageSize,
    HistoryTo,
    ProofStatus,
    ProofType,
    ReceiptVerdict,
    RecordStatus,
    TimeOrder,
    Verdict,
    to_datetime,
)
from graphsvc.domain.entities import EntityInfo
from graphsvc.domain.paging import TimePage, page_in_memory
from graphsvc.domain.receipt_trail import AttestationInfo, DisputeInfo, ReceiptTrail

if TYPE_CHECKING:
    from graphsvc.api.accountability_types import Incident
    from graphsvc.api.reputation_types import Reputation, ScorePoint

LEAF_INDEX = "Its evidence-log leaf index (null if stored before the log)."


@strawberry.type(description="What became of one submitted record.")
class RecordResult:
    index: int = strawberry.field(description="Its position in the submitted list (from 0).")
    id: str | None = strawberry.field(
        description="Its record id (null when it could not be computed)."
    )
    status: RecordStatus = strawberry.field(  # type: ignore[valid-type]
        description="Accepted, duplicate or rejected."
    )
    reason: str | None = strawberry.field(description="Why it was rejected (null otherwise).")


@strawberry.input(description="Only receipts signed between from and to with one of verdicts.")
class ReceiptFilter(TimeFilter):
    verdicts: list[ReceiptVerdict] | None = strawberry.field(
        default=None, description="The witnesses' verdicts to keep (null: any)."
    )

    def verdict_values(self) -> list[str] | None:
        return None if self.verdicts is None else [str(v) for v in self.verdicts]


@strawberry.input(description="Only attestations signed between from and to with one of verdicts.")
class AttestationFilter(TimeFilter):
    verdicts: list[Verdict] | None = strawberry.field(  # type: ignore[valid-type]
        default=None, description="The verdicts to keep (null: both)."
    )

    def verdict_values(self) -> list[str] | None:
        return None if self.verdicts is None else [str(v) for v in self.verdicts]


# The arguments of the lists below, described once.
NewestFirst = Annotated[
    TimeOrder, strawberry.argument(description="Newest first (the default) or oldest first.")
]
OldestFirst = Annotated[
    TimeOrder, strawberry.argument(description="Oldest first (the default) or newest first.")
]
AttestationsWanted = Annotated[
    AttestationFilter | None,
    strawberry.argument(description="Only attestations signed then, with these verdicts."),
]
DisputesWanted = Annotated[
    TimeFilter | None, strawberry.argument(description="Only disputes filed then.")
]


@strawberry.type(description="A registered party (provider, node, witness, requester) or a model.")
class Entity:
    id: strawberry.ID = strawberry.field(
        description="Its signer id (ed25519:…), or for a model its name."
    )
    kind: EntityKind = strawberry.field(description="What it is.")  # type: ignore[valid-type]
    name: str = strawberry.field(description="The name it registered under.")
    registered_at: datetime = strawberry.field(
        description="When its register (or model) record was signed."
    )
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

    @classmethod
    async def load(cls, info: Info[Context, None], entity_id: str | None) -> Entity | None:
        """The registered entity ``entity_id`` (None: none, or not registered)."""
        if entity_id is None:
            return None
        found = await info.context.entities.load(entity_id)
        return cls.of(found) if found else None

    @strawberry.field(description="Its reputation now, or in the snapshot in force at asOf.")
    async def reputation(
        self,
        info: Info[Context, None],
        as_of: Annotated[
            datetime | None,
            strawberry.argument(description="A past time (default: the newest snapshot)."),
        ] = None,
    ) -> Annotated[Reputation, strawberry.lazy("graphsvc.api.reputation_types")] | None:
        from graphsvc.api.reputation_reads import reputation_of

        return await reputation_of(info, str(self.id), as_of)

    @strawberry.field(
        description="Its score in every retained snapshot between from and to (paged)."
    )
    async def score_history(
        self,
        info: Info[Context, None],
        from_: HistoryFrom = None,
        to: HistoryTo = None,
        first: HistoryPageSize = None,
    ) -> list[Annotated[ScorePoint, strawberry.lazy("graphsvc.api.reputation_types")]]:
        from graphsvc.api.reputation_reads import history_of

        return await history_of(info, str(self.id), from_, to, first)

    @strawberry.field(
        description="Invalid attestations blaming it (for a provider: blaming its models)."
    )
    async def incidents(
        self,
        info: Info[Context, None],
        first: First = None,
        after: After = None,
        filter: Annotated[
            TimeFilter | None, strawberry.argument(description="Only incidents signed then.")
        ] = None,
        order_by: NewestFirst = TimeOrder.NEWEST_FIRST,
    ) -> Page[Annotated[Incident, strawberry.lazy("graphsvc.api.accountability_types")]]:
        from graphsvc.api.accountability_reads import incidents_of

        return await incidents_of(info, self.found, first, after, filter, order_by)

    @strawberry.field(
        description="The attested enclaves a node registered and answers for, newest first "
        "(none for other kinds)."
    )
    async def enclaves(
        self,
        info: Info[Context, None],
        first: Annotated[int, strawberry.argument(description="At most this many.")] = 20,
    ) -> list[Enclave]:
        if self.found.kind is not domain.EntityKind.NODE:
            return []
        limit = min(max(first, 0), info.context.services.settings.max_page_size)
        found = await run_in_threadpool(
            info.context.services.attribution.node_enclaves, str(self.id), limit
        )
        return [Enclave.of(e) for e in found]

    @strawberry.field(
        description="Receipts it is party to, newest first: those a node signed, a model "
        "ran, a requester co-signed, or a provider's models ran (a witness has none: see "
        "attestations)."
    )
    async def receipts(
        self,
        info: Info[Context, None],
        first: First = None,
        after: After = None,
        filter: Annotated[
            ReceiptFilter | None,
            strawberry.argument(description="Only receipts signed then, with these verdicts."),
        ] = None,
        order_by: NewestFirst = TimeOrder.NEWEST_FIRST,
    ) -> Page[Receipt]:
        activity = info.context.services.activity
        window = window_of(filter)
        verdicts = None if filter is None else filter.verdict_values()
        page = time_page(info, "receipt", first, after, order_by, window)
        found = await run_in_threadpool(activity.receipts_of, self.found, page, verdicts)
        trails = await info.context.receipts.load_many(found.items)
        items = [Receipt(trail=t) for t in trails if t is not None]

        async def count() -> int:
            return await run_in_threadpool(activity.count_receipts_of, self.found, window, verdicts)

        end = time_cursor("receipt", items[-1].trail.ts, items[-1].trail.id) if items else None
        return page_of(items, end, found.has_next, count)

    @strawberry.field(description="Attestations it signed (a witness's; empty for others).")
    async def attestations(
        self,
        info: Info[Context, None],
        first: First = None,
        after: After = None,
        filter: AttestationsWanted = None,
        order_by: NewestFirst = TimeOrder.NEWEST_FIRST,
    ) -> Page[Attestation]:
        activity = info.context.services.activity
        window = window_of(filter)
        verdicts = None if filter is None else filter.verdict_values()
        page = time_page(info, "attestation", first, after, order_by, window)
        found = await run_in_threadpool(activity.attestations_by, self.found, page, verdicts)

        async def count() -> int:
            return await run_in_threadpool(
                activity.count_attestations_by, self.found, window, verdicts
            )

        items = [Attestation.of(a) for a in found.items]
        return page_of(items, _end("attestation", found.items), found.has_next, count)

    @strawberry.field(description="Disputes it filed (a requester's; empty for others).")
    async def disputes(
        self,
        info: Info[Context, None],
        first: First = None,
        after: After = None,
        filter: DisputesWanted = None,
        order_by: NewestFirst = TimeOrder.NEWEST_FIRST,
    ) -> Page[Dispute]:
        activity = info.context.services.activity
        window = window_of(filter)
        page = time_page(info, "dispute", first, after, order_by, window)
        found = await run_in_threadpool(activity.disputes_by, self.found, page)

        async def count() -> int:
            return await run_in_threadpool(activity.count_disputes_by, self.found, window)

        items = [Dispute.of(d) for d in found.items]
        return page_of(items, _end("dispute", found.items), found.has_next, count)


Signed = TypeVar("Signed", AttestationInfo, DisputeInfo)


def _end(tag: str, items: Sequence[AttestationInfo | DisputeInfo]) -> str | None:
    return time_cursor(tag, items[-1].ts, items[-1].id) if items else None


def _in_memory(items: Sequence[Signed], page: TimePage) -> tuple[list[Signed], bool, int]:
    """A page of a receipt's own attestations or disputes (already read with it), the
    same way the store pages a witness's or a requester's: (items, has next, total)."""
    kept = [i for i in items if page.window.holds(i.ts)]
    found = page_in_memory(
        kept, lambda i: (i.ts, i.id), size=page.size, after=page.after, descending=page.newest_first
    )
    return found.items, found.has_next, len(kept)


@strawberry.type(description="A published model.")
class Model:
    id: strawberry.ID = strawberry.field(description="Its name, as its provider published it.")
    name: str = strawberry.field(description="Its name.")
    digest: str | None = strawberry.field(description="The weights' digest it was published with.")
    published_at: datetime = strawberry.field(description="When its model record was signed.")
    provider_id: strawberry.Private[str | None]

    @classmethod
    async def load(cls, info: Info[Context, None], model_id: str) -> Model | None:
        found = await info.context.entities.load(model_id)
        if found is None:
            return None
        return cls(
            id=strawberry.ID(found.id),
            name=found.name,
            digest=found.digest,
            published_at=to_datetime(found.ts),
            provider_id=found.provider,
        )

    @strawberry.field(description="The provider whose signed `model` record published it.")
    async def provider(self, info: Info[Context, None]) -> Entity | None:
        return await Entity.load(info, self.provider_id)


@strawberry.type(description="How a receipt proves its execution, and whether that was checked.")
class Proof:
    type: ProofType = strawberry.field(description="TEE, ZK or NONE.")  # type: ignore[valid-type]
    status: ProofStatus = strawberry.field(  # type: ignore[valid-type]
        description="VERIFIED when graphsvc checked an attested enclave's signature over the "
        "receipt's hashes; CLAIMED otherwise (the node's word, weighed as no proof)."
    )
    measurement: str | None = strawberry.field(
        description="The enclave measurement or proof reference the node named, if any (unchecked)."
    )
    enclave_id: strawberry.Private[str | None]

    @strawberry.field(description="The enclave whose signature verified it (null if CLAIMED).")
    async def enclave(self, info: Info[Context, None]) -> Enclave | None:
        return await Enclave.load(info, self.enclave_id)


@strawberry.type(description="A witness's signed verdict on a receipt.")
class Attestation:
    id: strawberry.ID = strawberry.field(description="Its record id.")
    ts: datetime = strawberry.field(description="When the witness signed it.")
    verdict: Verdict = strawberry.field(description="Valid or invalid.")  # type: ignore[valid-type]
    score: float = strawberry.field(
        description="How good the witness judged the output, from 0 (wholly wrong) to 1 "
        "(fully correct): a judge's graded verdict, or 1 for a valid and 0 for an invalid "
        "verdict given without a score."
    )
    fault: FaultParty | None = strawberry.field(  # type: ignore[valid-type]
        description="Whom an invalid verdict blames (null when valid)."
    )
    note: str | None = strawberry.field(description="The witness's note, if any.")
    witness_id: strawberry.Private[str]
    receipt_id: strawberry.Private[str]
    leaf_index: int | None = strawberry.field(description=LEAF_INDEX)

    @classmethod
    def of(cls, a: AttestationInfo) -> Attestation:
        return cls(
            id=strawberry.ID(a.id),
            ts=to_datetime(a.ts),
            verdict=domain.Verdict(a.verdict),
            score=a.score,
            fault=domain.FaultParty(a.fault) if a.fault else None,
            note=a.note,
            witness_id=a.witness,
            receipt_id=a.receipt,
            leaf_index=a.leaf_index,
        )

    @strawberry.field(description="The witness that signed it.")
    async def witness(self, info: Info[Context, None]) -> Entity | None:
        return await Entity.load(info, self.witness_id)

    @strawberry.field(description="The receipt it attests.")
    async def receipt(self, info: Info[Context, None]) -> Receipt | None:
        found = await info.context.receipts.load(self.receipt_id)
        return Receipt(trail=found) if found else None


@strawberry.type(description="A requester's signed dispute of a receipt.")
class Dispute:
    id: strawberry.ID = strawberry.field(description="Its record id.")
    ts: datetime = strawberry.field(description="When the requester signed it.")
    reason: str = strawberry.field(description="Why the requester disputes the receipt.")
    requester_id: strawberry.Private[str]
    receipt_id: strawberry.Private[str]
    leaf_index: int | None = strawberry.field(description=LEAF_INDEX)

    @classmethod
    def of(cls, d: DisputeInfo) -> Dispute:
        return cls(
            id=strawberry.ID(d.id),
            ts=to_datetime(d.ts),
            reason=d.reason,
            requester_id=d.requester,
            receipt_id=d.receipt,
            leaf_index=d.leaf_index,
        )

    @strawberry.field(description="The requester that filed it.")
    async def requester(self, info: Info[Context, None]) -> Entity | None:
        return await Entity.load(info, self.requester_id)

    @strawberry.field(description="The receipt it disputes.")
    async def receipt(self, info: Info[Context, None]) -> Receipt | None:
        found = await info.context.receipts.load(self.receipt_id)
        return Receipt(trail=found) if found else None


@strawberry.type(description="One signed receipt: who ran which model for whom, and its fate.")
class Receipt:
    trail: strawberry.Private[ReceiptTrail]

    @strawberry.field(description="Its record id.")
    def id(self) -> strawberry.ID:
        return strawberry.ID(self.trail.id)

    @strawberry.field(description="When the node signed it.")
    def ts(self) -> datetime:
        return to_datetime(self.trail.ts)

    @strawberry.field(description="The hash of the input the node was given.")
    def input_hash(self) -> str:
        return self.trail.input_hash

    @strawberry.field(description="The output it claims, with every receipt claiming it.")
    def output(self) -> Output:
        return Output(hash=self.trail.output_hash)

    @strawberry.field(description="The model it ran.")
    async def model(self, info: Info[Context, None]) -> Model | None:
        return await Model.load(info, self.trail.model)

    @strawberry.field(description="The node that ran it and signed the receipt.")
    async def node(self, info: Info[Context, None]) -> Entity | None:
        return await Entity.load(info, self.trail.node)

    @strawberry.field(description="The requester that co-signed it (null if none did).")
    async def requester(self, info: Info[Context, None]) -> Entity | None:
        return await Entity.load(info, self.trail.requester)

    @strawberry.field(description="How it proves its execution.")
    def proof(self) -> Proof:
        return Proof(
            type=domain.ProofType(self.trail.proof_type),
            status=domain.ProofStatus(self.trail.proof_status),
            measurement=self.trail.measurement,
            enclave_id=self.trail.enclave,
        )

    @strawberry.field(description="The witnesses' attestations of it, oldest first.")
    def attestations(
        self,
        info: Info[Context, None],
        first: TrailFirst = None,
        after: After = None,
        filter: AttestationsWanted = None,
        order_by: OldestFirst = TimeOrder.OLDEST_FIRST,
    ) -> Page[Attestation]:
        page = time_page(info, "attestation", first, after, order_by, window_of(filter), TRAIL_PAGE)
        verdicts = None if filter is None else filter.verdict_values()
        mine = [a for a in self.trail.attestations if verdicts is None or a.verdict in verdicts]
        items, has_next, total = _in_memory(mine, page)
        found = [Attestation.of(a) for a in items]
        return page_of(found, _end("attestation", items), has_next, known_count(total))

    @strawberry.field(description="The requesters' disputes of it, oldest first.")
    def disputes(
        self,
        info: Info[Context, None],
        first: TrailFirst = None,
        after: After = None,
        filter: DisputesWanted = None,
        order_by: OldestFirst = TimeOrder.OLDEST_FIRST,
    ) -> Page[Dispute]:
        page = time_page(info, "dispute", first, after, order_by, window_of(filter), TRAIL_PAGE)
        items, has_next, total = _in_memory(self.trail.disputes, page)
        return page_of(
            [Dispute.of(d) for d in items], _end("dispute", items), has_next, known_count(total)
        )

    @strawberry.field(description="The trusted witnesses' verdict so far (their majority).")
    def verdict(self) -> ReceiptVerdict:
        return ReceiptVerdict(self.trail.verdict)

    @strawberry.field(description=LEAF_INDEX)
    def leaf_index(self) -> int | None:
        return self.trail.leaf_index

    @strawberry.field(description="The full signed record, for independent re-verification.")
    def record(self) -> JSON:
        return JSON(self.trail.record)


@strawberry.type(description="An output hash and every receipt that claims to have produced it.")
class Output:
    hash: str = strawberry.field(description="The output's hash, as receipts name it.")

    @strawberry.field(
        description="The receipts claiming it, oldest first (a list: an output has one "
        "receipt per node that produced it)."
    )
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
