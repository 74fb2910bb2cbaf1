"""The attribution graph as the API reads it: entities, receipt trails, outputs,
incidents and counts. The API's one door to the stored evidence; reputation has its own
(``graphsvc.reputation``)."""

from __future__ import annotations

from collections.abc import Callable, Collection

from graphsvc.domain import EntityKind
from graphsvc.domain.entities import (
    EnclaveInfo,
    EntityInfo,
    IngestCounter,
    NetworkCounts,
    ProofMix,
)
from graphsvc.domain.paging import Slice, TimePage, TimeWindow
from graphsvc.domain.trail import AttestationInfo, DisputeInfo, Incident, ReceiptTrail
from graphsvc.store import enclaves, incidents, listings, stats, trail
from graphsvc.store.graph_store import GraphStore


class EntityCache:
    """Registered entities by id, shared by every request of one process.

    Safe to keep without expiry: an accepted ``register`` or ``model`` record is never
    replaced (one kind and name per key, one provider per model name). Unknown ids are
    not cached, so an entity registered later is found at its first lookup.
    """

    def __init__(self, max_entries: int = 200_000) -> None:
        self._max_entries = max_entries
        self._found: dict[str, EntityInfo] = {}

    def get(self, entity_id: str) -> EntityInfo | None:
        return self._found.get(entity_id)

    def put_many(self, found: dict[str, EntityInfo]) -> None:
        if len(self._found) + len(found) > self._max_entries:
            # Drop the older half (dicts keep insertion order): bounded, and cheap.
            keep = list(self._found.items())[len(self._found) // 2 :]
            self._found = dict(keep)
        self._found.update(found)


class AttributionService:
    def __init__(
        self,
        store: GraphStore,
        *,
        trusted: Callable[[], frozenset[str]] = frozenset,
        entity_cache: EntityCache | None = None,
    ) -> None:
        """``trusted`` gives the witnesses with standing (the seeds), whose votes decide
        the verdicts and incident statuses shown (docs/decisions/0070-standing.md)."""
        self._store = store
        self._trusted = trusted
        self._entities = entity_cache or EntityCache()

    def ingest_counter(self) -> IngestCounter:
        return stats.ingest_counter(self._store)

    def network_counts(self) -> NetworkCounts:
        return stats.network_counts(self._store)

    # ------------------------------------------------------------------ enclaves

    def enclaves(self, ids: list[str]) -> dict[str, EnclaveInfo]:
        """Registered enclaves by id, with the image their measurements match."""
        return enclaves.enclaves(self._store, ids)

    def node_enclaves(self, node: str, limit: int) -> list[EnclaveInfo]:
        """The enclaves a node registered, newest first."""
        ids = enclaves.enclave_ids_of_node(self._store, node, limit)
        found = enclaves.enclaves(self._store, ids)
        return [found[i] for i in ids if i in found]

    # ------------------------------------------------------------------ entities

    def cached_entity(self, entity_id: str) -> EntityInfo | None:
        """An entity from the process cache, without asking the store."""
        return self._entities.get(entity_id)

    def entities(self, ids: Collection[str]) -> dict[str, EntityInfo]:
        """The registered entities among ``ids``, read in one batch and cached."""
        found = trail.entities(self._store, list(ids))
        self._entities.put_many(found)
        return found

    def search(
        self,
        text: str,
        kind: EntityKind | None,
        limit: int,
        after: tuple[str, str] | None = None,
    ) -> Slice[EntityInfo]:
        """Entities (of ``kind``, or any) whose name contains ``text``, by (name, id),
        after the (name, id) ``after``."""
        return trail.search_entities(self._store, _kinds(kind), text=text, limit=limit, after=after)

    def count_search(self, text: str, kind: EntityKind | None) -> int:
        return trail.count_search(self._store, text, _kinds(kind))

    # ------------------------------------------------------------------ trails

    def receipt_trails(self, ids: list[str]) -> dict[str, ReceiptTrail]:
        return trail.receipt_trails(self._store, ids, self._trusted())

    def receipts_of(
        self, entity: EntityInfo, page: TimePage, verdicts: Collection[str] | None = None
    ) -> Slice[str]:
        """Ids of a page of ``entity``'s receipts (see ``receipt_parties``)."""
        party, ids = self.receipt_parties(entity)
        return listings.receipt_ids(self._store, party, ids, page, verdicts, self._trusted())

    def count_receipts_of(
        self, entity: EntityInfo, window: TimeWindow, verdicts: Collection[str] | None = None
    ) -> int:
        party, ids = self.receipt_parties(entity)
        return listings.count_receipts(self._store, party, ids, window, verdicts, self._trusted())

    def receipt_parties(self, entity: EntityInfo) -> tuple[str, list[str]]:
        """Whose receipts ``entity``'s are, as (receipt field, ids): those a node signed,
        a model ran, a requester co-signed, or a provider's models ran; none of a
        witness's (its attestations are listed instead)."""
        if entity.kind is EntityKind.PROVIDER:
            return "model", [m.model for m in self.proof_mixes(entity.id)]
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

    def receipt_ids_for_output(self, output_hash: str, limit: int) -> list[str]:
        return trail.receipt_ids_for_output(self._store, output_hash, limit)

    def proof_mixes(self, provider: str | None = None) -> list[ProofMix]:
        """Every model's (or one provider's models') receipts by proof type."""
        return stats.proof_mixes(self._store, provider)

    # ------------------------------------------------------------------ incidents

    def blamed_parties(self, entity: EntityInfo) -> list[str]:
        """What incidents of ``entity`` name: itself, or for a provider its models."""
        if entity.kind is EntityKind.PROVIDER:
            return [m.model for m in self.proof_mixes(entity.id)]
        if entity.kind in (EntityKind.NODE, EntityKind.MODEL):
            return [entity.id]
        return []

    def incidents_of(self, entity: EntityInfo, page: TimePage) -> Slice[Incident]:
        """A page of the incidents blaming ``entity`` (for a provider, its models)."""
        parties = self.blamed_parties(entity)
        return incidents.incidents(self._store, parties, page, self._trusted())

    def count_incidents_of(self, entity: EntityInfo, window: TimeWindow) -> int:
        return incidents.count_incidents(self._store, self.blamed_parties(entity), window)

    def incidents_after(self, position: tuple[int, str], limit: int) -> list[Incident]:
        """Incidents committed after ``position`` (ingest batch, id), in commit order."""
        return incidents.incidents_after(self._store, position, limit, self._trusted())


def _kinds(kind: EntityKind | None) -> list[EntityKind]:
    return list(EntityKind) if kind is None else [kind]
