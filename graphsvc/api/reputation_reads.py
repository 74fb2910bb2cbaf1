"""Reads behind the reputation fields: the snapshot in force, entities' reputations,
leaderboard pages and score history (the types are in ``reputation_types.py``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from starlette.concurrency import run_in_threadpool
from strawberry.types import Info

from graphsvc.api import cursors
from graphsvc.api.context import Context
from graphsvc.api.limits import ClientError, page_size
from graphsvc.api.reputation_types import Reputation, ScorePoint
from graphsvc.api.scalars import to_ms
from graphsvc.domain.score_snapshots import ScoreRow, SnapshotInfo
from graphsvc.reputation.views import LeaderboardPage, SnapshotView


async def snapshot_view(info: Info[Context, None], as_of: datetime | None) -> SnapshotView | None:
    reputation = info.context.services.reputation
    if as_of is None:
        known, view = reputation.known_current_view()
        if known:
            return view
    return await run_in_threadpool(reputation.view, None if as_of is None else to_ms(as_of))


async def reputations(
    info: Info[Context, None], rows: Sequence[ScoreRow], snapshot: SnapshotInfo
) -> list[Reputation]:
    """Reputations of ``rows`` (of ``snapshot``) with their entities fetched in one batch
    (usually from the process's cache), so no field of theirs waits on the store."""
    found = await info.context.entity_infos([row.entity for row in rows])
    return [
        Reputation.of(row, snapshot.id, entity) for row, entity in zip(rows, found, strict=True)
    ]


async def reputation_of(
    info: Info[Context, None], entity_id: str, as_of: datetime | None
) -> Reputation | None:
    (found,) = await reputations_of(info, [entity_id], as_of)
    return found


async def reputations_of(
    info: Info[Context, None], entity_ids: Sequence[str], as_of: datetime | None
) -> list[Reputation | None]:
    """Each id's reputation in the snapshot in force at ``as_of`` (None if unscored)."""
    view = await snapshot_view(info, as_of)
    if view is None:
        return [None] * len(entity_ids)
    rows = [view.by_entity.get(i) for i in entity_ids]
    found = iter(await reputations(info, [r for r in rows if r is not None], view.info))
    return [None if row is None else next(found) for row in rows]


async def history_of(
    info: Info[Context, None],
    entity_id: str,
    start: datetime | None,
    end: datetime | None,
    first: int | None,
) -> list[ScorePoint]:
    limit = info.context.services.settings.max_page_size if first is None else first
    rows = await run_in_threadpool(
        info.context.services.reputation.history,
        entity_id,
        to_ms(start) if start else 0,
        to_ms(end) if end else 2**62,
        page_size(info, limit),
    )
    return [ScorePoint.of(row) for row in rows]


def position_of(cursor: str | None) -> int | None:
    """The leaderboard position a cursor names (None: the list's start)."""
    if not cursor:
        return None
    try:
        payload = cursors.decode("pos", cursor)
    except ValueError as error:
        raise ClientError(str(error)) from None
    if not payload.isdigit():
        raise ClientError(f"invalid cursor {cursor!r}")
    return int(payload)


def end_cursor(page: LeaderboardPage) -> str | None:
    """The cursor of a leaderboard page's last row (None: an empty page)."""
    return None if page.end is None else cursors.encode("pos", str(page.end))
