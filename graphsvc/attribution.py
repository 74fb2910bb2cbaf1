"""The attribution graph as the API reads it: entities, receipt trails, outputs, the
incident feed and counts. An entity's paged activity is :mod:`graphsvc.activity`'s;
reputation has its own door (``graphsvc.reputation``)."""

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
from graphsvc.domain.paging import Slice
from graphsvc.domain.receipt_trail import Incident, ReceiptTrail
from graphsvc.fresh_read import FreshRead
from graphsvc.store import enclave_reads, incidents, stats, trail
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
        # Dashboards poll it: callers at the same time share one read of the store.
        self._counts = FreshRead(lambda: stats.network_counts(self._store))

    def ingest_counter(self) -> IngestCounter:
        return stats.ingest_counter(self._store)

    def network_counts(self) -> NetworkCounts:
        """The network's counts, read after this call began (shared with callers at the
        same time: graphsvc/fresh_read.py)."""
        return self._counts.read()

    # ------------------------------------------------------------------ enclaves

    def enclaves(self, ids: list[str]) -> dict[str, EnclaveInfo]:
        """Registered enclaves by id, with the image their measurements match."""
        return enclave_reads.enclaves(self._store, ids)

    def node_enclaves(self, node: str, limit: int) -> list[EnclaveInfo]:
        """The enclaves a node registered, newest first."""
        ids = enclave_reads.enclave_ids_of_node(self._store, node, limit)
        found = enclave_reads.enclaves(self._store, ids)
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

    def receipt_ids_for_output(self, output_hash: str, limit: int) -> list[str]:
        return trail.receipt_ids_for_output(self._store, output_hash, limit)

    def proof_mixes(self, provider: str | None = None) -> list[ProofMix]:
        """Every model's (or one provider's models') receipts by proof type."""
        return stats.proof_mixes(self._store, provider)

    def incidents_after(self, position: tuple[int, str], limit: int) -> list[Incident]:
        """Incidents committed after ``position`` (ingest batch, id), in commit order."""
        return incidents.incidents_after(self._store, position, limit, self._trusted())


def _kinds(kind: EntityKind | None) -> list[EntityKind]:
    return list(EntityKind) if kind is None else [kind]
