"""What one entity did and was blamed for, a page at a time: the receipts it signed,
ran or co-signed, the attestations and disputes it filed, the incidents naming it; and
how many of each. The API's door to an entity's activity; the entities themselves,
trails and counts are :mod:`graphsvc.attribution`'s."""

from __future__ import annotations

from collections.abc import Callable, Collection

from graphsvc.domain import EntityKind
from graphsvc.domain.entities import EntityInfo
from graphsvc.domain.paging import Slice, TimePage, TimeWindow
from graphsvc.domain.receipt_trail import AttestationInfo, DisputeInfo, Incident
from graphsvc.store import incidents, listings, stats
from graphsvc.store.graph_store import GraphStore


class EntityActivity:
    def __init__(
        self, store: GraphStore, *, trusted: Callable[[], frozenset[str]] = frozenset
    ) -> None:
        """``trusted`` gives the witnesses with standing (the seeds), whose votes decide
        the verdicts and incident statuses shown (docs/decisions/0070-standing.md)."""
        self._store = store
        self._trusted = trusted

    def receipts_of(
        self, entity: EntityInfo, page: TimePage, verdicts: Collection[str] | None = None
    ) -> Slice[str]:
        """Ids of a page of ``entity``'s receipts (see ``_receipt_parties``)."""
        party, ids = self._receipt_parties(entity)
        return listings.receipt_ids(self._store, party, ids, page, verdicts, self._trusted())

    def count_receipts_of(
        self, entity: EntityInfo, window: TimeWindow, verdicts: Collection[str] | None = None
    ) -> int:
        party, ids = self._receipt_parties(entity)
        return listings.count_receipts(self._store, party, ids, window, verdicts, self._trusted())

    def _receipt_parties(self, entity: EntityInfo) -> tuple[str, list[str]]:
        """Whose receipts ``entity``'s are, as (receipt field, ids): those a node signed,
        a model ran, a requester co-signed, or a provider's models ran; none of a
        witness's (its attestations are listed instead)."""
        if entity.kind is EntityKind.PROVIDER:
            return "model", _models_of(self._store, entity.id)
        if entity.kind is EntityKind.WITNESS:
            return "node", []
        return str(entity.kind), [entity.id]

    def attestations_by(
        self, entity: EntityInfo, page: TimePage, verdicts: Collection[str] | None = None
    ) -> Slice[AttestationInfo]:
        """A page of the attestations ``entity`` signed (none unless a witness)."""
        if entity.kind is not EntityKind.WITNESS:
            return Slice([], False)
        return listings.attestations_by(self._store, entity.id, page, verdicts)

    def count_attestations_by(
        self, entity: EntityInfo, window: TimeWindow, verdicts: Collection[str] | None = None
    ) -> int:
        if entity.kind is not EntityKind.WITNESS:
            return 0
        return listings.count_attestations_by(self._store, entity.id, window, verdicts)

    def disputes_by(self, entity: EntityInfo, page: TimePage) -> Slice[DisputeInfo]:
        """A page of the disputes ``entity`` filed (none unless a requester)."""
        if entity.kind is not EntityKind.REQUESTER:
            return Slice([], False)
        return listings.disputes_by(self._store, entity.id, page)

    def count_disputes_by(self, entity: EntityInfo, window: TimeWindow) -> int:
        if entity.kind is not EntityKind.REQUESTER:
            return 0
        return listings.count_disputes_by(self._store, entity.id, window)

    # ------------------------------------------------------------------ incidents

    def _blamed_parties(self, entity: EntityInfo) -> list[str]:
        """What incidents of ``entity`` name: itself, or for a provider its models."""
        if entity.kind is EntityKind.PROVIDER:
            return _models_of(self._store, entity.id)
        if entity.kind in (EntityKind.NODE, EntityKind.MODEL):
            return [entity.id]
        return []

    def incidents_of(self, entity: EntityInfo, page: TimePage) -> Slice[Incident]:
        """A page of the incidents blaming ``entity`` (for a provider, its models)."""
        parties = self._blamed_parties(entity)
        return incidents.incidents(self._store, parties, page, self._trusted())

    def count_incidents_of(self, entity: EntityInfo, window: TimeWindow) -> int:
        return incidents.count_incidents(self._store, self._blamed_parties(entity), window)


def _models_of(store: GraphStore, provider: str) -> list[str]:
    return [m.model for m in stats.proof_mixes(store, provider)]
