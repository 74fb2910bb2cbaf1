"""The evidence a process keeps between recomputes (docs/reference.md#snapshots-and-reproduction).

Each recompute brings the kept evidence up to the store's newest ingest batch by reading
only the batches since the last one, and saves it beside the store (one file, replaced
atomically), so a restart reads the file and then only what it missed. A check
compares it with a full re-read, for tests and operators (``graphsvc check-evidence``).
"""

from __future__ import annotations

import logging
import threading
import time
import zipfile
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

from graphsvc.files import write_atomically
from graphsvc.reputation.snapshot_lineage import LineageEntry, SnapshotLineage
from graphsvc.scoring.digest import EVIDENCE_ARRAYS, evidence_digest
from graphsvc.scoring.evidence import Evidence
from graphsvc.scoring.evidence_state import EvidenceChanges, EvidenceState, EvidenceStateMismatch
from graphsvc.scoring.params import ScoringParams
from graphsvc.store.evidence_loader import (
    read_all,
    read_changes,
    store_id,
)
from graphsvc.store.graph_store import GraphStore
from graphsvc.store.stats import ingest_counter

log = logging.getLogger(__name__)

KEPT_FILE = "kept-evidence.npz"  # in the data directory
SAVE_EVERY_S = 300.0


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


@dataclass(frozen=True)
class Capture:
    """The kept evidence as a recompute takes it: caught up, and as its snapshot stores it."""

    evidence: Evidence
    newest_ms: int  # the time of its newest row
    # The ingest batch it is caught up to (the evidence log names the records it covered
    # by it).
    batch: int
    stored_as: LineageEntry


class KeptEvidence:
    """The evidence state this process keeps between recomputes: caught up from the
    store, saved beside it, checked against it."""

    def __init__(
        self,
        store: GraphStore,
        params: ScoringParams,
        lineage: SnapshotLineage,
        *,
        kept_file: Path | None = None,
    ) -> None:
        """``lineage`` follows every change applied, for the next snapshot's delta."""
        self._store = store
        self._params = params
        self._lineage = lineage
        self._kept_file = kept_file
        self._kept: EvidenceState | None = None
        self._saved_batch: int | None = None
        self._saved_at = float("-inf")
        self._lock = threading.Lock()

    def evidence(self, seeds: Collection[str] = ()) -> tuple[Evidence, int]:
        """The store's evidence now (caught up first), and the time of its newest row."""
        with self._lock:
            return self._caught_up(self._store).evidence(self._params, seeds=seeds)

    def capture(self, store: GraphStore, seeds: Collection[str] = ()) -> Capture:
        """:meth:`evidence`, with how a snapshot of it stores it, read through ``store``
        (the recompute's patient view of this keeper's store)."""
        with self._lock:
            kept = self._caught_up(store)
            evidence, newest = kept.evidence(self._params, seeds=seeds)
            return Capture(evidence, newest, kept.batch, self._lineage.entry(kept, tuple(seeds)))

    def save(self, *, force: bool = False) -> int | None:
        """Keep the current state in the kept file (if any); returns the batch it is
        current to, or None when nothing was written. Unless ``force``, at most once
        every ``SAVE_EVERY_S`` after this process's first save: the file (hundreds of MB
        at 10M edges) only spares a restart the reads of the batches since, a few
        minutes of them."""
        with self._lock:
            kept = self._kept
            if self._kept_file is None or kept is None or kept.batch == self._saved_batch:
                return None
            recent = time.monotonic() - self._saved_at < SAVE_EVERY_S
            if recent and not force:
                return None
            write_atomically(self._kept_file, kept.to_bytes(compress=False))
            self._saved_batch = kept.batch
            self._saved_at = time.monotonic()
            return kept.batch

    def check(self, seeds: Collection[str] = ()) -> EvidenceCheck:
        """Compare the kept evidence with a full re-read of the store at one batch."""
        with self._lock:
            kept = self._caught_up(self._store)
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

    def _caught_up(self, store: GraphStore) -> EvidenceState:
        counter = ingest_counter(store)
        identity = store_id(store)
        kept = self._kept if self._kept is not None else self._load()
        if kept is None or kept.store_id != identity or kept.batch > counter.batches:
            kept = EvidenceState(identity)
        applied: EvidenceChanges | None = None
        if kept.batch < counter.batches:
            changes = read_changes(
                store, kept.batch, counter.batches, largest_batch=counter.largest_batch or 1
            )
            try:
                kept.apply(changes)
            except EvidenceStateMismatch as error:
                log.warning("kept evidence does not follow the store (%s): reading it all", error)
                kept = read_all(store, counter.batches)
            else:
                applied = changes
        if kept is not self._kept:  # a new lineage: the next snapshot stores a base
            self._lineage.follow(None)
        elif applied is not None:
            self._lineage.follow(applied)
        self._kept = kept
        return kept

    def _load(self) -> EvidenceState | None:
        """The saved state, if there is one this version can read."""
        if self._kept_file is None or not self._kept_file.exists():
            return None
        try:
            kept = EvidenceState.from_bytes(self._kept_file.read_bytes())
        except (KeyError, ValueError, OSError, zipfile.BadZipFile) as error:
            # A damaged file fails its zip CRC or its header check: the store has it all.
            log.warning(
                "kept evidence %s unreadable (%s): reading the store", self._kept_file, error
            )
            return None
        self._saved_batch = kept.batch
        return kept


def _field_bytes(evidence: Evidence, name: str) -> bytes:
    if name == "entity_ids":
        return "\x00".join(evidence.entity_ids).encode()
    return bytes(getattr(evidence, name).tobytes())
