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
from graphsvc.api import queries
from graphsvc.api.accountability_reads import incident_feed
from graphsvc.api.accountability_types import (
    Incident,
    decode_feed_cursor,
)
from graphsvc.api.context import Context
from graphsvc.api.document_limits import (
    ValidatedDocuments,
    ValidateOffTheLoop,
    bound_field_comparisons,
    document_limit_rule,
)
from graphsvc.api.error_policy import ErrorPolicy
from graphsvc.api.limits import ClientError, page_size
from graphsvc.api.operation_metrics import OperationMetrics
from graphsvc.api.query_cost import CostLimit
from graphsvc.api.reputation_reads import (
    reputations,
    snapshot_view,
)
from graphsvc.api.reputation_types import (
    ScoreChange,
    SeedSet,
    Snapshot,
)
from graphsvc.api.scalars import (
    EntityIds,
    EntityKind,
    to_ms,
)
from graphsvc.api.transport import HTTPSchema
from graphsvc.api.types import RecordResult
from graphsvc.reputation.maker import ScoringError
from graphsvc.reputation.views import score_changes
from graphsvc.settings import Settings


@strawberry.type(description="Reads: the attribution graph, reputation and the evidence log.")
class Query:
    entity = strawberry.field(
        resolver=queries.entity, description="A registered party or a published model, by id."
    )
    output = strawberry.field(
        resolver=queries.output, description="An output hash with the receipts that produced it."
    )
    receipt = strawberry.field(
        resolver=queries.receipt, description="A receipt by record id, with its attribution trail."
    )
    enclave = strawberry.field(
        resolver=queries.enclave,
        description="A registered enclave by id (0x + keccak256 of its key: the gateway's "
        "tee_id), with its node, measurements and image status.",
    )
    reputation = strawberry.field(
        resolver=queries.reputation,
        description="An entity's reputation now, or in the snapshot in force at asOf.",
    )
    compare = strawberry.field(
        resolver=queries.compare,
        description="Several entities' reputations side by side, in input order.",
    )
    search = strawberry.field(
        resolver=queries.search,
        description="Registered entities whose name contains the text (case-insensitive), "
        "by name then id.",
    )
    leaderboard = strawberry.field(
        resolver=queries.leaderboard, description="Entities of one kind in rank order, paged."
    )
    recommend_providers = strawberry.field(
        resolver=queries.recommend_providers,
        description="Providers meeting an accountability policy, best first, each with its "
        "qualifying models (scores from the snapshot in force at asOf).",
    )
    score_history = strawberry.field(
        resolver=queries.score_history,
        description="An entity's score in every retained snapshot between from and to (paged).",
    )
    network_stats = strawberry.field(
        resolver=queries.network_stats, description="Counts of the network and the newest snapshot."
    )
    seeds = strawberry.field(
        resolver=queries.seeds, description="The trusted seeds the next recompute uses."
    )
    checkpoint = strawberry.field(
        resolver=queries.checkpoint, description="The evidence log's latest signed checkpoint."
    )
    inclusion_proof = strawberry.field(
        resolver=queries.inclusion_proof,
        description="That a record is in the evidence log: its leaf index and audit path in "
        "the tree of treeSize leaves (default: the latest checkpoint's).",
    )
    consistency_proof = strawberry.field(
        resolver=queries.consistency_proof,
        description="That the evidence log of fromSize leaves is a prefix of the one of toSize.",
    )
    snapshots = strawberry.field(
        resolver=queries.snapshots, description="Stored snapshots, newest first."
    )


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
        results = await services.ingestor.submit_async(records)
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
