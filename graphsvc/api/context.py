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


@dataclass
class Services:
    """Long-lived objects shared by every request of one process."""

    settings: Settings
    store: GraphStore
    ingestor: Ingestor
    reputation: ReputationService


@dataclass
class Context:
    services: Services
    request: Request | None = None
    entities: DataLoader[str, trail.EntityInfo | None] = field(init=False)
    receipts: DataLoader[str, trail.ReceiptTrail | None] = field(init=False)

    def __post_init__(self) -> None:
        store = self.services.store

        async def load_entities(ids: list[str]) -> list[trail.EntityInfo | None]:
            found = await run_in_threadpool(trail.entities, store, ids)
            return [found.get(i) for i in ids]

        async def load_receipts(ids: list[str]) -> list[trail.ReceiptTrail | None]:
            found = await run_in_threadpool(trail.receipt_trails, store, ids)
            return [found.get(i) for i in ids]

        self.entities = DataLoader(load_fn=load_entities)
        self.receipts = DataLoader(load_fn=load_receipts)

    # strawberry reads context attributes; dict-style access keeps extensions happy.
    def __getitem__(self, key: str) -> Any:
        return getattr(self, key)
