"""The resolvers of the GraphQL root ``Query`` (``schema.py`` declares its fields), each a
few lines over the services and the ``*_reads`` modules: types, queries and services
apart, as strawberry's example apps keep them."""

from __future__ import annotations

from typing import Annotated

import strawberry
from starlette.concurrency import run_in_threadpool
from strawberry.types import Info

from graphsvc import domain
from graphsvc.api import log_reads
from graphsvc.api.accountability_reads import recommendations
from graphsvc.api.accountability_types import (
    ProviderPolicy,
    ProviderRecommendation,
)
from graphsvc.api.context import Context
from graphsvc.api.enclave_types import Enclave
from graphsvc.api.limits import ClientError, page_size
from graphsvc.api.list_queries import EntityFilter, search_entities, snapshot_page
from graphsvc.api.log_types import ConsistencyProof, InclusionProof, LogCheckpoint
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
    HistoryFrom,
    HistoryPageSize,
    HistoryTo,
    LeaderboardOrder,
    SnapshotOrder,
    to_datetime,
)
from graphsvc.api.types import Entity, Output, Receipt
from graphsvc.reputation.views import Order


async def entity(info: Info[Context, None], id: EntityId) -> Entity | None:
    return await Entity.load(info, str(id))


async def output(
    info: Info[Context, None],
    hash: Annotated[str, strawberry.argument(description="The output hash.")],
) -> Output | None:
    ids = await run_in_threadpool(info.context.services.attribution.receipt_ids_for_output, hash, 1)
    return Output(hash=hash) if ids else None


async def receipt(
    info: Info[Context, None],
    id: Annotated[strawberry.ID, strawberry.argument(description="Its record id.")],
) -> Receipt | None:
    found = await info.context.receipts.load(str(id))
    return Receipt(trail=found) if found else None


async def enclave(
    info: Info[Context, None],
    id: Annotated[str, strawberry.argument(description="Its id, 0x + 64 hex digits.")],
) -> Enclave | None:
    return await Enclave.load(info, id)


async def reputation(
    info: Info[Context, None], id: EntityId, as_of: AsOf = None
) -> Reputation | None:
    return await reputation_of(info, str(id), as_of)


async def compare(
    info: Info[Context, None], ids: EntityIds, as_of: AsOf = None
) -> list[Reputation | None]:
    page_size(info, len(ids))
    return await reputations_of(info, [str(i) for i in ids], as_of)


async def search(
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


async def leaderboard(
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


async def recommend_providers(
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


async def score_history(
    info: Info[Context, None],
    id: EntityId,
    from_: HistoryFrom = None,
    to: HistoryTo = None,
    first: HistoryPageSize = None,
) -> list[ScorePoint]:
    return await history_of(info, str(id), from_, to, first)


async def network_stats(info: Info[Context, None]) -> NetworkStats:
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


async def seeds(info: Info[Context, None]) -> SeedSet:
    return SeedSet.of(await run_in_threadpool(info.context.services.scorer.seeds))


async def checkpoint(info: Info[Context, None]) -> LogCheckpoint:
    return await log_reads.checkpoint(info)


async def inclusion_proof(
    info: Info[Context, None],
    record_id: Annotated[str, strawberry.argument(description="The record's id.")],
    tree_size: Annotated[
        int | None,
        strawberry.argument(description="The tree size (default: the latest checkpoint's)."),
    ] = None,
) -> InclusionProof:
    return await log_reads.inclusion_proof(info, record_id, tree_size)


async def consistency_proof(
    info: Info[Context, None],
    from_size: Annotated[int, strawberry.argument(description="The older tree size.")],
    to_size: Annotated[int, strawberry.argument(description="The newer tree size.")],
) -> ConsistencyProof:
    return await log_reads.consistency_proof(info, from_size, to_size)


async def snapshots(
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
