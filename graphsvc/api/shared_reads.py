"""Store reads that live subscriptions share (issue 24): every ``incidents`` subscriber
polls for what was committed after its position, and most are at the same position (the
newest), so one read answers all who ask for it within half a poll."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

from starlette.concurrency import run_in_threadpool

from graphsvc.domain.receipt_trail import Incident

Position = tuple[int, str]


@dataclass
class _Read:
    at: float
    answer: asyncio.Future[list[Incident]]


class SharedIncidentReads:
    """``incidents_after`` once per (position, limit) every ``max_age`` seconds."""

    def __init__(self, read: Callable[[Position, int], list[Incident]], max_age: float) -> None:
        self._read = read
        self._max_age = max_age
        self._reads: dict[tuple[Position, int], _Read] = {}
        self.store_reads = 0  # how many reads reached the store (for tests and metrics)

    async def after(self, position: Position, limit: int) -> list[Incident]:
        now = asyncio.get_running_loop().time()
        key = (position, limit)
        found = self._reads.get(key)
        if found is None or now - found.at >= self._max_age or found.answer.cancelled():
            for old in [k for k, r in self._reads.items() if now - r.at >= self._max_age]:
                del self._reads[old]
            self.store_reads += 1
            found = _Read(now, asyncio.ensure_future(run_in_threadpool(self._read, *key)))
            self._reads[key] = found
        # Shielded: a subscriber that goes away does not cancel the read of the others.
        return await asyncio.shield(found.answer)
