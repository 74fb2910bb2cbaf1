"""Pages of a list in one convention (docs/decisions/0048-keyset-pages.md): what a reader asks for
(how many, after which item, in which time window and order) and what one page holds.

Positions are keys, not offsets: an item's position is its own sort key (a time and an
id, or a name and an id), so a page continues after the last item the reader saw however
many items were stored since, and a cursor never skips or repeats an item."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")
K = TypeVar("K", bound=tuple[object, ...])


@dataclass(frozen=True)
class TimeWindow:
    """Signed between ``from_ms`` and ``to_ms`` (both included; None: unbounded)."""

    from_ms: int | None = None
    to_ms: int | None = None

    def holds(self, ts: int) -> bool:
        return (self.from_ms is None or ts >= self.from_ms) and (
            self.to_ms is None or ts <= self.to_ms
        )


@dataclass(frozen=True)
class TimePage:
    """A page of a list of signed records ordered by (ts, id): ``size`` items after the
    record at ``after`` (its ts and id), newest or oldest first, within ``window``."""

    size: int
    after: tuple[int, str] | None = None
    newest_first: bool = True
    window: TimeWindow = TimeWindow()

    def params(self) -> dict[str, object]:
        """The Cypher parameters of the page: one more item than asked, to know if there
        is a next page."""
        after_ts, after_id = self.after if self.after is not None else (None, None)
        return {
            "limit": self.size + 1,
            "after_ts": after_ts,
            "after_id": after_id,
            "from_ms": self.window.from_ms,
            "to_ms": self.window.to_ms,
        }


@dataclass(frozen=True)
class Slice(Generic[T]):
    """One page: its items and whether more follow."""

    items: list[T]
    has_next: bool

    @classmethod
    def of(cls, found: Sequence[T], size: int) -> Slice[T]:
        """The first ``size`` of ``found`` (read one longer than the page)."""
        return cls(list(found[:size]), len(found) > size)


def page_in_memory(
    items: Sequence[T], key: Callable[[T], K], *, size: int, after: K | None, descending: bool
) -> Slice[T]:
    """The page of ``items`` (any order) sorted by ``key`` that follows ``after``: the
    same convention as the store's paged reads, for lists short enough to hold."""
    ordered = sorted(items, key=key, reverse=descending)
    if after is not None:
        if descending:
            ordered = [i for i in ordered if key(i) < after]
        else:
            ordered = [i for i in ordered if key(i) > after]
    return Slice.of(ordered, size)
