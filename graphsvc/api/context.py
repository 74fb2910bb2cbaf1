"""What resolvers reach: the running services, and per-request batching loaders."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from strawberry.dataloader import DataLoader

from graphsvc.reputation import ReputationService
from graphsvc.settings import Settings
from graphsvc.store import trail
from graphsvc.store.graph_store import GraphStore
from graphsvc.store.ingest import Ingestor


class EntityCache:
    """Registered entities by id, shared by every request of one process.

    Safe to keep without expiry: an accepted ``register`` or ``model`` record is never
    replaced (one kind and name per key, one provider per model name). Unknown ids are
    not cached, so an entity registered later is found at its first lookup.
    """

    def __init__(self, max_entries: int = 200_000) -> None:
        self._max_entries = max_entries
        self._found: dict[str, trail.EntityInfo] = {}

    def get(self, entity_id: str) -> trail.EntityInfo | None:
        return self._found.get(entity_id)

    def put_many(self, found: dict[str, trail.EntityInfo]) -> None:
        if len(self._found) + len(found) > self._max_entries:
            # Drop the older half (dicts keep insertion order): bounded, and cheap.
            keep = list(self._found.items())[len(self._found) // 2 :]
            self._found = dict(keep)
        self._found.update(found)


@dataclass
class Services:
    """Long-lived objects shared by every request of one process."""

    settings: Settings
    store: GraphStore
    ingestor: Ingestor
    reputation: ReputationService
    entity_cache: EntityCache = field(default_factory=EntityCache)


@dataclass
class Context:
    services: Services
    request: Request | None = None
    entities: DataLoader[str, trail.EntityInfo | None] = field(init=False)
    receipts: DataLoader[str, trail.ReceiptTrail | None] = field(init=False)

    def __post_init__(self) -> None:
        store = self.services.store

        async def load_receipts(ids: list[str]) -> list[trail.ReceiptTrail | None]:
            found = await run_in_threadpool(trail.receipt_trails, store, ids)
            return [found.get(i) for i in ids]

        self.entities = DataLoader(load_fn=self.entity_infos)
        self.receipts = DataLoader(load_fn=load_receipts)

    async def entity_infos(self, ids: list[str]) -> list[trail.EntityInfo | None]:
        """Entities by id from the process cache, reading only the missing ones from the
        store (one batch). Lists that need every row's entity call this directly: going
        through the DataLoader would cost a future per row."""
        cache = self.services.entity_cache
        missing = [i for i in ids if cache.get(i) is None]
        if missing:
            cache.put_many(await run_in_threadpool(trail.entities, self.services.store, missing))
        return [cache.get(i) for i in ids]

    # strawberry reads context attributes; dict-style access keeps extensions happy.
    def __getitem__(self, key: str) -> Any:
        return getattr(self, key)
