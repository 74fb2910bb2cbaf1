"""What resolvers reach: the running services, and per-request batching loaders."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from strawberry.dataloader import DataLoader

from graphsvc.api.shared_reads import SharedIncidentReads
from graphsvc.domain.entities import EntityInfo
from graphsvc.domain.receipt_trail import ReceiptTrail
from graphsvc.services import Services


def shared_incident_reads(services: Services) -> SharedIncidentReads:
    """The incident reads subscriptions share: one per poll for each position."""
    return SharedIncidentReads(
        services.attribution.incidents_after, services.settings.subscription_poll / 2
    )


@dataclass
class Context:
    services: Services
    request: Request | None = None
    # The server's: reads its live subscriptions share (a request of its own without).
    incident_reads: SharedIncidentReads | None = None
    entities: DataLoader[str, EntityInfo | None] = field(init=False)
    receipts: DataLoader[str, ReceiptTrail | None] = field(init=False)

    def __post_init__(self) -> None:
        attribution = self.services.attribution
        if self.incident_reads is None:
            self.incident_reads = shared_incident_reads(self.services)

        async def load_receipts(ids: list[str]) -> list[ReceiptTrail | None]:
            found = await run_in_threadpool(attribution.receipt_trails, ids)
            return [found.get(i) for i in ids]

        self.entities = DataLoader(load_fn=self.entity_infos)
        self.receipts = DataLoader(load_fn=load_receipts)

    async def entity_infos(self, ids: list[str]) -> list[EntityInfo | None]:
        """Entities by id from the process cache, reading only the missing ones from the
        store (one batch). Lists that need every row's entity call this directly: going
        through the DataLoader would cost a future per row."""
        attribution = self.services.attribution
        missing = [i for i in ids if attribution.cached_entity(i) is None]
        if missing:
            await run_in_threadpool(attribution.entities, missing)
        return [attribution.cached_entity(i) for i in ids]

    # strawberry reads context attributes; dict-style access keeps extensions happy.
    def __getitem__(self, key: str) -> Any:
        return getattr(self, key)
