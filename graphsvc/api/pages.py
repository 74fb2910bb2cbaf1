"""The one list convention of the API (docs/decisions/0048-keyset-pages.md): ``first`` / ``after``,
a page of ``items`` with ``pageInfo`` and ``totalCount``, a ``filter`` input and an
``orderBy``. Cursors are opaque, tagged per list, and hold the last item's sort key, so
they stay valid as items are added; ``totalCount`` is read only when asked for."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, Generic, TypeVar

import strawberry
from strawberry.types import Info

from graphsvc.api import cursors
from graphsvc.api.context import Context
from graphsvc.api.limits import ClientError, page_size
from graphsvc.api.scalars import TimeOrder, to_ms
from graphsvc.domain.paging import TimePage, TimeWindow

T = TypeVar("T")


@strawberry.type(description="Where a page ends, and whether another follows.")
class PageInfo:
    has_next_page: bool = strawberry.field(description="Whether more items follow this page.")
    end_cursor: str | None = strawberry.field(
        description="The last item's cursor: pass it as after for the next page (null on "
        "an empty page)."
    )


@strawberry.type(
    description="One page of a list: its items, where it ends, and how many the list holds."
)
class Page(Generic[T]):
    items: list[T] = strawberry.field(description="The page's items, in the list's order.")
    page_info: PageInfo = strawberry.field(description="Where this page ends.")
    counter: strawberry.Private[Callable[[], Awaitable[int]]]

    @strawberry.field(description="How many items match the filter, over all pages.")
    async def total_count(self) -> int:
        return await self.counter()


def page_of(
    items: list[T], end: str | None, has_next: bool, count: Callable[[], Awaitable[int]]
) -> Page[T]:
    return Page(
        items=items,
        page_info=PageInfo(has_next_page=has_next, end_cursor=end if items else None),
        counter=count,
    )


def known_count(total: int) -> Callable[[], Awaitable[int]]:
    """A ``totalCount`` already known (a list read whole)."""

    async def count() -> int:
        return total

    return count


def empty_page() -> Page[T]:
    return page_of([], None, False, known_count(0))


DEFAULT_PAGE = 20  # items per page when first is not given
TRAIL_PAGE = 100  # a receipt's own attestations and disputes: all of them, as a rule

# The arguments every list takes, described once.
First = Annotated[
    int | None,
    strawberry.argument(
        description=f"At most this many items (0 to GRAPHSVC_MAX_PAGE_SIZE; default "
        f"{DEFAULT_PAGE}, or the maximum if lower)."
    ),
]
TrailFirst = Annotated[
    int | None,
    strawberry.argument(
        description=f"At most this many items (0 to GRAPHSVC_MAX_PAGE_SIZE; default "
        f"{TRAIL_PAGE}, or the maximum if lower)."
    ),
]
After = Annotated[
    str | None,
    strawberry.argument(
        description="A pageInfo.endCursor of this list: the page starts after that item."
    ),
]


def encode_key(tag: str, key: tuple[str | int, ...]) -> str:
    return cursors.encode(tag, json.dumps(list(key), separators=(",", ":")))


def decode_key(tag: str, cursor: str, *types: type) -> tuple[str | int, ...]:
    """The sort key in a ``tag`` cursor; a ``ClientError`` naming the cursor if it is
    not one (of another list, altered, or not a cursor at all)."""
    try:
        key = json.loads(cursors.decode(tag, cursor))
    except ValueError:
        key = None
    if (
        not isinstance(key, list)
        or len(key) != len(types)
        or not all(type(k) is t for k, t in zip(key, types, strict=True))
    ):
        raise ClientError(f"invalid cursor {cursor!r}: not a cursor of this list")
    return tuple(key)


def time_cursor(tag: str, ts: int, item_id: str) -> str:
    return encode_key(tag, (ts, item_id))


@strawberry.input(description="Only items signed between from and to (both included).")
class TimeFilter:
    from_: datetime | None = strawberry.field(
        name="from", default=None, description="Signed at or after this time."
    )
    to: datetime | None = strawberry.field(
        default=None, description="Signed at or before this time."
    )

    def window(self) -> TimeWindow:
        return TimeWindow(
            None if self.from_ is None else to_ms(self.from_),
            None if self.to is None else to_ms(self.to),
        )


def window_of(found: TimeFilter | None) -> TimeWindow:
    return TimeWindow() if found is None else found.window()


def size_of(info: Info[Context, None], first: int | None, default: int = DEFAULT_PAGE) -> int:
    """The page size ``first`` asks for: refused above the maximum, the default (capped
    by the maximum) when not given."""
    if first is None:
        return min(default, info.context.services.settings.max_page_size)
    return page_size(info, first)


def time_page(
    info: Info[Context, None],
    tag: str,
    first: int | None,
    after: str | None,
    order: TimeOrder,
    window: TimeWindow,
    default: int = DEFAULT_PAGE,
) -> TimePage:
    """The page the arguments of a list of signed records ask for."""
    size = size_of(info, first, default)
    start = None if after is None else decode_key(tag, after, int, str)
    return TimePage(
        size=size,
        after=None if start is None else (int(start[0]), str(start[1])),
        newest_first=TimeOrder(order) is TimeOrder.NEWEST_FIRST,
        window=window,
    )
