"""The top-level lists that page in the API's one convention (docs/decisions/0048-keyset-pages.md):
entities found by name, and stored snapshots."""

from __future__ import annotations

import strawberry
from starlette.concurrency import run_in_threadpool
from strawberry.types import Info

from graphsvc import domain
from graphsvc.api.context import Context
from graphsvc.api.limits import ClientError
from graphsvc.api.pages import (
    Page,
    TimeFilter,
    decode_key,
    encode_key,
    known_count,
    page_of,
    size_of,
    window_of,
)
from graphsvc.api.reputation_types import Snapshot
from graphsvc.api.scalars import EntityKind
from graphsvc.api.types import Entity
from graphsvc.domain.paging import page_in_memory
from graphsvc.domain.score_snapshots import SnapshotInfo

MAX_SEARCH_TEXT = 200


@strawberry.input(description="Only entities meeting all of these.")
class EntityFilter:
    kind: EntityKind | None = strawberry.field(  # type: ignore[valid-type]
        default=None, description="Of this kind."
    )


async def search_entities(
    info: Info[Context, None],
    text: str,
    first: int | None,
    after: str | None,
    filter: EntityFilter | None,
) -> Page[Entity]:
    """A page of the entities whose name contains ``text``, by (name, id)."""
    size = size_of(info, first)
    if not 1 <= len(text) <= MAX_SEARCH_TEXT:
        raise ClientError(f"text must be 1 to {MAX_SEARCH_TEXT} characters")
    wanted = None if filter is None or filter.kind is None else domain.EntityKind(filter.kind)
    start = None if after is None else decode_key("entity", after, str, str)
    attribution = info.context.services.attribution
    found = await run_in_threadpool(
        attribution.search,
        text,
        wanted,
        size,
        None if start is None else (str(start[0]), str(start[1])),
    )

    async def count() -> int:
        return await run_in_threadpool(attribution.count_search, text, wanted)

    last = found.items[-1] if found.items else None
    end = None if last is None else encode_key("entity", (last.name, last.id))
    return page_of([Entity.of(e) for e in found.items], end, found.has_next, count)


def _snapshot_key(s: SnapshotInfo) -> tuple[int, int, str]:
    return (s.as_of_ms, s.created_ms, s.id)


async def snapshot_page(
    info: Info[Context, None], first: int | None, after: str | None, filter: TimeFilter | None
) -> Page[Snapshot]:
    """A page of the stored snapshots, newest first. Retention keeps them few (hundreds),
    so they are read whole and paged here, by the same kind of key as the other lists."""
    size = size_of(info, first)
    start = None if after is None else decode_key("snapshot", after, int, int, str)
    window = window_of(filter)
    stored = await run_in_threadpool(info.context.services.reputation.snapshots, None)
    kept = [s for s in stored if window.holds(s.as_of_ms)]
    found = page_in_memory(
        kept,
        _snapshot_key,
        size=size,
        after=None if start is None else (int(start[0]), int(start[1]), str(start[2])),
        descending=True,
    )
    last = found.items[-1] if found.items else None
    end = None if last is None else encode_key("snapshot", _snapshot_key(last))
    items = [Snapshot.of(s) for s in found.items]
    return page_of(items, end, found.has_next, known_count(len(kept)))
