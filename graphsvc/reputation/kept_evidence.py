"""The evidence a process keeps between recomputes (docs/design.md §3.6).

Each recompute brings the kept evidence up to the store's newest ingest batch by reading
only the batches since the last one, and saves it beside the store (content-addressed,
``graphsvc.blobs``), so a restart reads the file and then only what it missed. A check
compares it with a full re-read, for tests and operators (``graphsvc check-evidence``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Collection
from dataclasses import dataclass

from graphsvc.blobs import BlobStore
from graphsvc.scoring.digest import EVIDENCE_ARRAYS, evidence_digest
from graphsvc.scoring.evidence import Evidence
from graphsvc.scoring.kept import KeptEvidence, KeptEvidenceMismatch
from graphsvc.scoring.params import ScoringParams
from graphsvc.store.evidence_loader import (
    read_all,
    read_changes,
    stamp_legacy_batches,
    store_id,
)
from graphsvc.store.graph_store import GraphStore
from graphsvc.store.stats import ingest_counter

log = logging.getLogger(__name__)

KEPT_REF = "kept-evidence"


@dataclass(frozen=True)
class EvidenceCheck:
    """The kept evidence against a full re-read of the store, both at ``batch``."""

    batch: int
    entities: int
    edges: int
    faults: int
    kept_digest: str
    store_digest: str
    differing: tuple[str, ...]  # the evidence fields that differ

    @property
    def matches(self) -> bool:
        return self.kept_digest == self.store_digest


class EvidenceKeeper:
    def __init__(
        self, store: GraphStore, params: ScoringParams, *, blobs: BlobStore | None = None
    ) -> None:
        self._store = store
        self._params = params
        self._blobs = blobs
        self._kept: KeptEvidence | None = None
        self._saved_batch: int | None = None
        self._lock = threading.Lock()

    def evidence(self, seeds: Collection[str] = ()) -> tuple[Evidence, int]:
        """The store's evidence now (caught up first), and the time of its newest row."""
        with self._lock:
            return self._caught_up().evidence(self._params, seeds=seeds)

    def save(self) -> str | None:
        """Keep the current state in the blob store (if any); returns its digest."""
        with self._lock:
            kept = self._kept
            if self._blobs is None or kept is None or kept.batch == self._saved_batch:
                return None
            previous = self._blobs.ref(KEPT_REF)
            digest = self._blobs.put(kept.to_bytes())
            self._blobs.set_ref(KEPT_REF, digest)
            if previous is not None and previous != digest:
                self._blobs.delete(previous)
            self._saved_batch = kept.batch
            return digest

    def check(self, seeds: Collection[str] = ()) -> EvidenceCheck:
        """Compare the kept evidence with a full re-read of the store at one batch."""
        with self._lock:
            kept = self._caught_up()
            fresh = read_all(self._store, kept.batch)
        ours, _ = kept.evidence(self._params, seeds=seeds)
        theirs, _ = fresh.evidence(self._params, seeds=seeds)
        differing = tuple(
            name
            for name in ("entity_ids", *(name for name, _ in EVIDENCE_ARRAYS))
            if _field_bytes(ours, name) != _field_bytes(theirs, name)
        )
        return EvidenceCheck(
            batch=kept.batch,
            entities=len(theirs.entity_ids),
            edges=len(theirs.edge_src),
            faults=len(theirs.fault_party),
            kept_digest=evidence_digest(ours, self._params, 0),
            store_digest=evidence_digest(theirs, self._params, 0),
            differing=differing,
        )

    def _caught_up(self) -> KeptEvidence:
        counter = ingest_counter(self._store)
        if counter.records and counter.largest_batch is None:
            stamped = stamp_legacy_batches(self._store)
            log.info("stamped %d records of a store from before ingest batches", stamped)
            counter = ingest_counter(self._store)
        identity = store_id(self._store)
        kept = self._kept if self._kept is not None else self._load()
        if kept is None or kept.store_id != identity or kept.batch > counter.batches:
            kept = KeptEvidence(identity)
        if kept.batch < counter.batches:
            try:
                kept.apply(
                    read_changes(
                        self._store,
                        kept.batch,
                        counter.batches,
                        largest_batch=counter.largest_batch or 1,
                    )
                )
            except KeptEvidenceMismatch as error:
                log.warning("kept evidence does not follow the store (%s): reading it all", error)
                kept = read_all(self._store, counter.batches)
        self._kept = kept
        return kept

    def _load(self) -> KeptEvidence | None:
        """The saved state, if there is one this version can read."""
        if self._blobs is None:
            return None
        digest = self._blobs.ref(KEPT_REF)
        if digest is None:
            return None
        try:
            kept = KeptEvidence.from_bytes(self._blobs.get(digest))
        except (KeyError, ValueError, OSError) as error:
            log.warning("kept evidence %s unreadable (%s): reading the store", digest, error)
            return None
        self._saved_batch = kept.batch
        return kept


def _field_bytes(evidence: Evidence, name: str) -> bytes:
    if name == "entity_ids":
        return "\x00".join(evidence.entity_ids).encode()
    return bytes(getattr(evidence, name).tobytes())
