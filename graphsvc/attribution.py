"""The attribution graph as the API reads it: entities, receipt trails, outputs,
incidents and counts. The API's one door to the stored evidence; reputation has its own
(``graphsvc.reputation``)."""

from __future__ import annotations

from collections.abc import Collection

from graphsvc.domain import EntityKind
from graphsvc.domain.entities import EntityInfo, IngestCounter, NetworkCounts, ProofMix
from graphsvc.domain.trail import Incident, ReceiptTrail
from graphsvc.store import incidents, stats, trail
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
    def __init__(self, store: GraphStore, *, entity_cache: EntityCache | None = None) -> None:
        self._store = store
        self._entities = entity_cache or EntityCache()

    def store_unavailable(self, timeout: float) -> str | None:
        """None when the store answers within ``timeout`` s; otherwise why not."""
        return self._store.unavailable(timeout)

    def ingest_counter(self) -> IngestCounter:
        return stats.ingest_counter(self._store)

    def network_counts(self) -> NetworkCounts:
        return stats.network_counts(self._store)

    # ------------------------------------------------------------------ entities

    def cached_entity(self, entity_id: str) -> EntityInfo | None:
        """An entity from the process cache, without asking the store."""
        return self._entities.get(entity_id)

    def entities(self, ids: Collection[str]) -> dict[str, EntityInfo]:
        """The registered entities among ``ids``, read in one batch and cached."""
        found = trail.entities(self._store, list(ids))
        self._entities.put_many(found)
        return found

    def search(self, text: str, kind: EntityKind | None, limit: int) -> list[EntityInfo]:
        """Entities whose name contains ``text``, by name."""
        return trail.search_entities(self._store, text, kind, limit)

    # ------------------------------------------------------------------ trails

    def receipt_trails(self, ids: list[str]) -> dict[str, ReceiptTrail]:
        return trail.receipt_trails(self._store, ids)

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

    def incidents_of(
        self, entity: EntityInfo, limit: int, before_ms: int | None = None
    ) -> list[Incident]:
        """The newest incidents blaming ``entity`` (for a provider, its models)."""
        return incidents.incidents(self._store, self.blamed_parties(entity), limit, before_ms)

    def incidents_after(self, position: tuple[int, str], limit: int) -> list[Incident]:
        """Incidents committed after ``position`` (ingest batch, id), in commit order."""
        return incidents.incidents_after(self._store, position, limit)
