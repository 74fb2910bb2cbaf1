"""Reads behind the accountability fields: an entity's incidents, the live incident
feed, and provider recommendations (the types are in ``accountability_types.py``)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from datetime import datetime

from starlette.concurrency import run_in_threadpool
from strawberry.types import Info

from graphsvc.api.accountability_types import (
    Incident,
    ModelRecommendation,
    ProofCounts,
    ProviderRecommendation,
)
from graphsvc.api.context import Context
from graphsvc.api.pages import Page, TimeFilter, page_of, time_cursor, time_page, window_of
from graphsvc.api.reputation_reads import reputations, snapshot_view
from graphsvc.api.scalars import TimeOrder
from graphsvc.domain import receipt_trail
from graphsvc.domain.entities import EntityInfo
from graphsvc.policy import Policy, recommend

FEED_BATCH = 500  # incidents read per round trip of the feed
_LAST = "\uffff"  # sorts after every record id


async def incidents_of(
    info: Info[Context, None],
    entity: EntityInfo,
    first: int | None,
    after: str | None,
    filter: TimeFilter | None,
    order: TimeOrder,
) -> Page[Incident]:
    """A page of the incidents blaming ``entity``."""
    window = window_of(filter)
    page = time_page(info, "incident", first, after, order, window)
    activity = info.context.services.activity
    found = await run_in_threadpool(activity.incidents_of, entity, page)

    async def count() -> int:
        return await run_in_threadpool(activity.count_incidents_of, entity, window)

    items = [Incident(found=f) for f in found.items]
    last = found.items[-1] if found.items else None
    end = None if last is None else time_cursor("incident", last.ts, last.id)
    return page_of(items, end, found.has_next, count)


async def incident_feed(
    info: Info[Context, None], wanted: set[str] | None, after: tuple[int, str] | None
) -> AsyncGenerator[Incident, None]:
    """Incidents as they are committed, blaming ``wanted`` ids (a provider id stands for
    its models) or any party: those committed after the ``after`` position first, then
    new ones. Positions are (ingest batch, id): batches are numbered in commit order and
    commit whole, so nothing before a position can appear after a client has passed it.
    """
    attribution = info.context.services.attribution
    if after is None:
        counter = await run_in_threadpool(attribution.ingest_counter)
        after = (counter.batches, _LAST)
    position = after
    while True:
        reads = info.context.incident_reads
        assert reads is not None  # set by the context
        page = await reads.after(position, FEED_BATCH)
        for incident in page:
            position = (incident.batch, incident.id)
            if wanted is None or await _concerns(info, incident, wanted):
                yield Incident(found=incident)
        if len(page) < FEED_BATCH:
            await asyncio.sleep(info.context.services.settings.subscription_poll)


async def _concerns(
    info: Info[Context, None], incident: receipt_trail.Incident, wanted: set[str]
) -> bool:
    if incident.party in wanted:
        return True
    party = await info.context.entities.load(incident.party)
    return party is not None and party.provider in wanted


async def recommendations(
    info: Info[Context, None], policy: Policy, first: int, as_of: datetime | None
) -> list[ProviderRecommendation]:
    view = await snapshot_view(info, as_of)
    if view is None:
        return []
    mixes = await run_in_threadpool(info.context.services.attribution.proof_mixes)
    offers = recommend(view.by_entity, mixes, policy)[:first]
    rows = [row for offer in offers for row in (offer.row, *(m.row for m in offer.models))]
    found = iter(await reputations(info, rows, view.info))
    return [
        ProviderRecommendation(
            reputation=next(found),
            models=[
                ModelRecommendation(
                    reputation=next(found),
                    proofs=ProofCounts(
                        tee=m.proofs.tee,
                        zk=m.proofs.zk,
                        none=m.proofs.none,
                        tee_verified=m.proofs.tee_verified,
                        zk_verified=m.proofs.zk_verified,
                        share_at_least_min_proof=m.proofs.share_at_least(
                            policy.min_proof, accept_claimed=policy.accept_claimed
                        ),
                    ),
                )
                for m in offer.models
            ],
        )
        for offer in offers
    ]
