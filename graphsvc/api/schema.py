"""The GraphQL schema: queries over the attribution graph, record submission."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncGenerator
from datetime import datetime
from typing import Annotated

import strawberry
from graphql.validation import ASTValidationRule
from starlette.concurrency import run_in_threadpool
from strawberry.extensions import (
    AddValidationRules,
    MaxTokensLimiter,
    ParserCache,
)
from strawberry.scalars import JSON
from strawberry.types import Info

from graphsvc import domain
from graphsvc.api.accountability_reads import incident_feed, recommendations
from graphsvc.api.accountability_types import (
    Incident,
    ProviderPolicy,
    ProviderRecommendation,
    decode_feed_cursor,
)
from graphsvc.api.context import Context
from graphsvc.api.document_limits import (
    ValidatedDocuments,
    ValidateOffTheLoop,
    bound_field_comparisons,
    document_limit_rule,
)
from graphsvc.api.enclave_types import Enclave
from graphsvc.api.errors import ErrorPolicy
from graphsvc.api.limits import ClientError, page_size
from graphsvc.api.list_queries import EntityFilter, search_entities, snapshot_page
from graphsvc.api.log_reads import checkpoint, consistency_proof, inclusion_proof
from graphsvc.api.log_types import ConsistencyProof, InclusionProof, LogCheckpoint
from graphsvc.api.operation_metrics import OperationMetrics
from graphsvc.api.pages import (
    After,
    First,
    Page,
    TimeFilter,
    empty_page,
    known_count,
    page_of,
    size_of,
)
from graphsvc.api.query_cost import CostLimit
from graphsvc.api.reputation_reads import (
    end_cursor,
    history_of,
    position_of,
    reputation_of,
    reputations,
    reputations_of,
    snapshot_view,
)
from graphsvc.api.reputation_types import (
    KindCount,
    NetworkStats,
    Reputation,
    ReputationFilter,
    ScoreChange,
    ScorePoint,
    SeedSet,
    Snapshot,
)
from graphsvc.api.scalars import (
    AsOf,
    EntityId,
    EntityIds,
    EntityKind,
    EntityOrder,
    HistoryPageSize,
    LeaderboardOrder,
    SnapshotOrder,
    to_datetime,
    to_ms,
)
from graphsvc.api.transport import HTTPSchema
from graphsvc.api.types import Entity, Output, Receipt, RecordResult
from graphsvc.reputation.maker import ScoringError
from graphsvc.reputation.views import Order, score_changes
from graphsvc.settings import Settings


@strawberry.type(description="Reads: the attribution graph, reputation and the evidence log.")
class Query:
    @strawberry.field(description="A registered party or a published model, by id.")
    async def entity(self, info: Info[Context, None], id: EntityId) -> Entity | None:
        return await Entity.load(info, str(id))

    @strawberry.field(description="An output hash with the receipts that produced it.")
    async def output(
        self,
        info: Info[Context, None],
        hash: Annotated[str, strawberry.argument(description="The output hash.")],
    ) -> Output | None:
        ids = await run_in_threadpool(
            info.context.services.attribution.receipt_ids_for_output, hash, 1
        )
        return Output(hash=hash) if ids else None

    @strawberry.field(description="A receipt by record id, with its attribution trail.")
    async def receipt(
        self,
        info: Info[Context, None],
        id: Annotated[strawberry.ID, strawberry.argument(description="Its record id.")],
    ) -> Receipt | None:
        found = await info.context.receipts.load(str(id))
        return Receipt(trail=found) if found else None

    @strawberry.field(
        description="A registered enclave by id (0x + keccak256 of its key: the gateway's "
        "tee_id), with its node, measurements and image status."
    )
    async def enclave(
        self,
        info: Info[Context, None],
        id: Annotated[str, strawberry.argument(description="Its id, 0x + 64 hex digits.")],
    ) -> Enclave | None:
        return await Enclave.load(info, id)

    @strawberry.field(
        description="An entity's reputation now, or in the snapshot in force at asOf."
    )
    async def reputation(
        self, info: Info[Context, None], id: EntityId, as_of: AsOf = None
    ) -> Reputation | None:
        return await reputation_of(info, str(id), as_of)

    @strawberry.field(description="Several entities' reputations side by side, in input order.")
    async def compare(
        self, info: Info[Context, None], ids: EntityIds, as_of: AsOf = None
    ) -> list[Reputation | None]:
        page_size(info, len(ids))
        return await reputations_of(info, [str(i) for i in ids], as_of)

    @strawberry.field(
        description="Registered entities whose name contains the text (case-insensitive), "
        "by name then id."
    )
    async def search(
        self,
        info: Info[Context, None],
        text: Annotated[str, strawberry.argument(description="1 to 200 characters.")],
        first: First = None,
        after: After = None,
        filter: Annotated[
            EntityFilter | None, strawberry.argument(description="Only entities of a kind.")
        ] = None,
        order_by: Annotated[
            EntityOrder, strawberry.argument(description="By name (the only order).")
        ] = EntityOrder.NAME,
    ) -> Page[Entity]:
        return await search_entities(info, text, first, after, filter)

    @strawberry.field(description="Entities of one kind in rank order, paged.")
    async def leaderboard(
        self,
        info: Info[Context, None],
        kind: Annotated[
            EntityKind,  # type: ignore[valid-type]
            strawberry.argument(description="Which kind to rank."),
        ],
        first: First = None,
        after: After = None,
        as_of: AsOf = None,
        filter: Annotated[
            ReputationFilter | None,
            strawberry.argument(description="Only entities meeting all of these."),
        ] = None,
        order_by: Annotated[
            LeaderboardOrder,  # type: ignore[valid-type]
            strawberry.argument(description="Best first (the default), worst first, or by risk."),
        ] = Order.BEST_FIRST,
    ) -> Page[Reputation]:
        size = size_of(info, first)
        view = await snapshot_view(info, as_of)
        if view is None:
            return empty_page()
        page = view.leaderboard(
            domain.EntityKind(kind),
            after=position_of(after),
            size=size,
            order=Order(order_by),
            where=None if filter is None else filter.to_filter(),
        )
        found = await reputations(info, page.rows, view.info)
        return page_of(found, end_cursor(page), page.has_next, known_count(page.total))

    @strawberry.field(
        description="Providers meeting an accountability policy, best first, each with its "
        "qualifying models (scores from the snapshot in force at asOf)."
    )
    async def recommend_providers(
        self,
        info: Info[Context, None],
        policy: Annotated[
            ProviderPolicy | None,
            strawberry.argument(description="The policy (default: every provider)."),
        ] = None,
        first: Annotated[int, strawberry.argument(description="At most this many providers.")] = 20,
        as_of: AsOf = None,
    ) -> list[ProviderRecommendation]:
        size = page_size(info, first)
        try:
            rules = (policy or ProviderPolicy()).to_policy()
        except ValueError as error:
            raise ClientError(str(error)) from None
        return await recommendations(info, rules, size, as_of)

    @strawberry.field(
        description="An entity's score in every retained snapshot between from and to (paged)."
    )
    async def score_history(
        self,
        info: Info[Context, None],
        id: EntityId,
        from_: Annotated[
            datetime | None,
            strawberry.argument(name="from", description="Earliest asOf (included)."),
        ] = None,
        to: Annotated[
            datetime | None, strawberry.argument(description="Latest asOf (included).")
        ] = None,
        first: HistoryPageSize = None,
    ) -> list[ScorePoint]:
        return await history_of(info, str(id), from_, to, first)

    @strawberry.field(description="Counts of the network and the newest snapshot.")
    async def network_stats(self, info: Info[Context, None]) -> NetworkStats:
        counts = await run_in_threadpool(info.context.services.attribution.network_counts)
        view = await snapshot_view(info, None)
        mass = view.mass_by_kind() if view is not None else {}
        total = sum(mass.values())
        return NetworkStats(
            entities=[
                KindCount(kind=k, count=n, mass_share=mass.get(k, 0.0) / total if total else 0.0)
                for k, n in counts.entities.items()
            ],
            receipts=counts.receipts,
            outputs=counts.outputs,
            attestations=counts.attestations,
            disputes=counts.disputes,
            records=counts.records,
            last_ingest_at=to_datetime(counts.last_ingest_ms) if counts.last_ingest_ms else None,
            snapshot=Snapshot.of(view.info) if view else None,
        )

    @strawberry.field(description="The trusted seeds the next recompute uses.")
    async def seeds(self, info: Info[Context, None]) -> SeedSet:
        return SeedSet.of(await run_in_threadpool(info.context.services.scorer.seeds))

    @strawberry.field(description="The evidence log's latest signed checkpoint.")
    async def checkpoint(self, info: Info[Context, None]) -> LogCheckpoint:
        return await checkpoint(info)

    @strawberry.field(
        description="That a record is in the evidence log: its leaf index and audit path in "
        "the tree of treeSize leaves (default: the latest checkpoint's)."
    )
    async def inclusion_proof(
        self,
        info: Info[Context, None],
        record_id: Annotated[str, strawberry.argument(description="The record's id.")],
        tree_size: Annotated[
            int | None,
            strawberry.argument(description="The tree size (default: the latest checkpoint's)."),
        ] = None,
    ) -> InclusionProof:
        return await inclusion_proof(info, record_id, tree_size)

    @strawberry.field(
        description="That the evidence log of fromSize leaves is a prefix of the one of toSize."
    )
    async def consistency_proof(
        self,
        info: Info[Context, None],
        from_size: Annotated[int, strawberry.argument(description="The older tree size.")],
        to_size: Annotated[int, strawberry.argument(description="The newer tree size.")],
    ) -> ConsistencyProof:
        return await consistency_proof(info, from_size, to_size)

    @strawberry.field(description="Stored snapshots, newest first.")
    async def snapshots(
        self,
        info: Info[Context, None],
        first: First = None,
        after: After = None,
        filter: Annotated[
            TimeFilter | None,
            strawberry.argument(description="Only snapshots whose asOf is between from and to."),
        ] = None,
        order_by: Annotated[
            SnapshotOrder, strawberry.argument(description="Newest first (the only order).")
        ] = SnapshotOrder.NEWEST_FIRST,
    ) -> Page[Snapshot]:
        return await snapshot_page(info, first, after, filter)


def require_admin(info: Info[Context, None]) -> None:
    token = info.context.services.settings.admin_token
    if token is None:
        raise ClientError("administrative operations are disabled: GRAPHSVC_ADMIN_TOKEN is unset")
    request = info.context.request
    header = request.headers.get("authorization", "") if request is not None else ""
    scheme, _, given = header.partition(" ")
    if scheme.lower() != "bearer" or not secrets.compare_digest(
        given.encode(), token.get_secret_value().encode()
    ):
        raise ClientError("not authorised: send Authorization: Bearer <GRAPHSVC_ADMIN_TOKEN>")


@strawberry.type(description="Writes: signed records, and administration (bearer token).")
class Mutation:
    @strawberry.mutation(
        description="Submit signed records; each gets accepted, duplicate or rejected(reason)."
    )
    async def submit_records(
        self,
        info: Info[Context, None],
        records: Annotated[
            list[JSON],
            strawberry.argument(
                description="Signed records (at most GRAPHSVC_MAX_BATCH_RECORDS), one transaction."
            ),
        ],
    ) -> list[RecordResult]:
        services = info.context.services
        if len(records) > services.settings.max_batch_records:
            raise ClientError(
                f"too many records: {len(records)} > {services.settings.max_batch_records}; "
                "use POST /records for bulk ingest"
            )
        results = await run_in_threadpool(services.ingestor.submit, records)
        return [
            RecordResult(index=r.index, id=r.id, status=r.status, reason=r.reason) for r in results
        ]

    @strawberry.mutation(
        description="Set the trusted seeds (registered entity ids) for every replica from "
        "the next recompute on; an empty list goes back to the configured ones."
    )
    async def set_seeds(self, info: Info[Context, None], ids: EntityIds) -> SeedSet:
        require_admin(info)
        page_size(info, len(ids))
        scorer = info.context.services.scorer
        try:
            seeds = await run_in_threadpool(scorer.set_seeds, [str(i) for i in ids])
        except ScoringError as error:
            raise ClientError(str(error)) from None
        return SeedSet.of(seeds)

    @strawberry.mutation(description="Recompute reputation now (or asOf) and store a snapshot.")
    async def recompute(
        self,
        info: Info[Context, None],
        as_of: Annotated[
            datetime | None, strawberry.argument(description="The time to compute for (now).")
        ] = None,
    ) -> Snapshot:
        require_admin(info)
        scorer = info.context.services.scorer
        try:
            snapshot = await run_in_threadpool(
                scorer.recompute, None if as_of is None else to_ms(as_of)
            )
        except ScoringError as error:
            raise ClientError(str(error)) from None
        return Snapshot.of(snapshot)


@strawberry.type(description="Live feeds over WebSocket (graphql-transport-ws).")
class Subscription:
    @strawberry.subscription(
        description="Score changes of the given entities (or one kind) at each new snapshot."
    )
    async def score_changes(
        self,
        info: Info[Context, None],
        ids: Annotated[
            list[strawberry.ID] | None,
            strawberry.argument(description="Only these entities (default: all)."),
        ] = None,
        kind: Annotated[
            EntityKind | None,  # type: ignore[valid-type]
            strawberry.argument(description="Only entities of this kind."),
        ] = None,
        min_delta: Annotated[
            float, strawberry.argument(description="Only moves larger than this (0-100).")
        ] = 0.0,
        after: Annotated[
            strawberry.ID | None,
            strawberry.argument(
                description="The snapshot the client last saw: the first message compares "
                "the next newer one with it. Without it, changes after the current one."
            ),
        ] = None,
    ) -> AsyncGenerator[ScoreChange, None]:
        if ids is not None:
            page_size(info, len(ids))
        wanted = {str(i) for i in ids} if ids is not None else None
        kind_wanted = None if kind is None else domain.EntityKind(kind)
        poll = info.context.services.settings.subscription_poll
        if after is None:
            previous = await snapshot_view(info, None)
        else:
            service = info.context.services.reputation
            previous = await run_in_threadpool(service.view_by_id, str(after))
            if previous is None:
                raise ClientError(f"unknown snapshot {after}")
        while True:
            await asyncio.sleep(poll)
            current = await snapshot_view(info, None)
            if current is None or (previous and current.info.id == previous.info.id):
                continue
            changed = score_changes(
                previous, current, entities=wanted, kind=kind_wanted, min_delta=min_delta
            )
            found = await reputations(info, [c.row for c in changed], current.info)
            for change, reputation in zip(changed, found, strict=True):
                yield ScoreChange(
                    before=change.before, after=change.row.score, reputation=reputation
                )
            previous = current

    @strawberry.subscription(
        description="Invalid attestations as they are stored: all, or those blaming the "
        "given nodes or models (a provider id stands for its models)."
    )
    async def incidents(
        self,
        info: Info[Context, None],
        ids: Annotated[
            list[strawberry.ID] | None,
            strawberry.argument(
                description="Only incidents blaming these nodes or models (a provider id "
                "stands for its models); default: all."
            ),
        ] = None,
        after: Annotated[
            str | None,
            strawberry.argument(
                description="Resume after this Incident.cursor: what was stored since comes "
                "first. Without it, only incidents stored from now on."
            ),
        ] = None,
    ) -> AsyncGenerator[Incident, None]:
        if ids is not None:
            page_size(info, len(ids))
        try:
            start = None if after is None else decode_feed_cursor(after)
        except ValueError as error:
            raise ClientError(str(error)) from None
        wanted = None if ids is None else {str(i) for i in ids}
        async for incident in incident_feed(info, wanted, start):
            yield incident


def build_schema(settings: Settings) -> strawberry.Schema:
    # The limit rule is made once, so every request validates with the same rule class
    # and the validated documents can answer the ones dashboards send over and over.
    # strawberry's QueryDepthLimiter and MaxAliasesLimiter are not used: they take time
    # exponential in the fragments' nesting (api/document_limits.py).
    limits: list[type[ASTValidationRule]] = [
        document_limit_rule(settings.max_query_depth, settings.max_query_aliases)
    ]
    validated = ValidatedDocuments(maxsize=256)
    bound_field_comparisons()
    return HTTPSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        extensions=[
            lambda: MaxTokensLimiter(max_token_count=settings.max_query_tokens),
            lambda: ParserCache(maxsize=256),  # bounded: unique texts cannot grow memory
            lambda: AddValidationRules(limits),
            lambda: ValidateOffTheLoop(validated),
            CostLimit,
            ErrorPolicy,
            OperationMetrics,
        ],
    )
