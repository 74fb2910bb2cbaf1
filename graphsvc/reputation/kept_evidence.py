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
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from functools import reduce
from pathlib import Path

from graphsvc.domain.snapshots import SnapshotEvidence
from graphsvc.files import write_atomically
from graphsvc.scoring.digest import EVIDENCE_ARRAYS, evidence_digest
from graphsvc.scoring.evidence import Evidence
from graphsvc.scoring.kept import EvidenceChanges, KeptEvidence, KeptEvidenceMismatch
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
# A new base once the deltas since the last one outweigh it (and never for less).
MIN_BASE_BYTES = 256 * 1024
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


class EvidenceKeeper:
    def __init__(
        self, store: GraphStore, params: ScoringParams, *, kept_file: Path | None = None
    ) -> None:
        self._store = store
        self._params = params
        self._kept_file = kept_file
        self._kept: KeptEvidence | None = None
        self._saved_batch: int | None = None
        self._saved_at = float("-inf")
        self._lock = threading.Lock()
        # What a snapshot stores of its evidence: the changes applied since the last
        # snapshot this keeper stored (its parent), or the whole state (a base) when the
        # deltas since the last base would outweigh a new one, or nothing links them.
        self._pending: list[EvidenceChanges] = []
        self._parent: str | None = None
        self._base_bytes = 0
        self._chain_bytes = 0
        # The ingest batch the last capture's evidence was caught up to (the evidence log
        # names the records it covered by it).
        self.captured_batch = 0

    def evidence(self, seeds: Collection[str] = ()) -> tuple[Evidence, int]:
        """The store's evidence now (caught up first), and the time of its newest row."""
        with self._lock:
            return self._caught_up().evidence(self._params, seeds=seeds)

    def capture(self, seeds: Collection[str] = ()) -> tuple[Evidence, int, SnapshotEvidence, int]:
        """:meth:`evidence`, with how a snapshot of it stores it, and a mark to pass to
        :meth:`stored` once the snapshot is written."""
        with self._lock:
            kept = self._caught_up()
            self.captured_batch = kept.batch
            evidence, newest = kept.evidence(self._params, seeds=seeds)
            stored = self._delta(kept, tuple(seeds))
            if stored is None:
                stored = SnapshotEvidence("base", kept.to_bytes(), None, tuple(seeds))
            return evidence, newest, stored, len(self._pending)

    def _delta(self, kept: KeptEvidence, seeds: tuple[str, ...]) -> SnapshotEvidence | None:
        if self._parent is None:
            return None
        if self._pending:
            changes = reduce(EvidenceChanges.then, self._pending)
        else:  # nothing new since the parent (a recompute because it aged): an empty delta
            changes = EvidenceChanges(from_batch=kept.batch, to_batch=kept.batch)
        data = changes.to_bytes()
        if self._chain_bytes + len(data) > max(self._base_bytes, MIN_BASE_BYTES):
            return None
        return SnapshotEvidence("delta", data, self._parent, seeds)

    def last_stored(self) -> str | None:
        """The snapshot this keeper stored last, if any."""
        with self._lock:
            return self._parent

    def stored(self, snapshot_id: str, evidence: SnapshotEvidence, mark: int) -> None:
        """A snapshot with ``evidence`` (from :meth:`capture`) was written."""
        with self._lock:
            del self._pending[:mark]
            self._parent = snapshot_id
            if evidence.form == "base":
                self._base_bytes, self._chain_bytes = len(evidence.data), 0
            else:
                self._chain_bytes += len(evidence.data)

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
        identity = store_id(self._store)
        kept = self._kept if self._kept is not None else self._load()
        if kept is None or kept.store_id != identity or kept.batch > counter.batches:
            kept = KeptEvidence(identity)
        if kept.batch < counter.batches:
            changes = read_changes(
                self._store, kept.batch, counter.batches, largest_batch=counter.largest_batch or 1
            )
            try:
                kept.apply(changes)
            except KeptEvidenceMismatch as error:
                log.warning("kept evidence does not follow the store (%s): reading it all", error)
                kept = read_all(self._store, counter.batches)
            else:
                self._pending.append(changes)
        if kept is not self._kept:  # a new lineage: the next snapshot stores a base
            self._pending.clear()
            self._parent = None
        self._kept = kept
        return kept

    def _load(self) -> KeptEvidence | None:
        """The saved state, if there is one this version can read."""
        if self._kept_file is None or not self._kept_file.exists():
            return None
        try:
            kept = KeptEvidence.from_bytes(self._kept_file.read_bytes())
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


def evidence_of(lineage: Sequence[SnapshotEvidence], params: ScoringParams) -> Evidence:
    """The evidence a snapshot was computed from, rebuilt from its stored lineage (a base
    and the deltas after it)."""
    kept = KeptEvidence.from_bytes(lineage[0].data)
    for delta in lineage[1:]:
        kept.apply(EvidenceChanges.from_bytes(delta.data))
    evidence, _ = kept.evidence(params, seeds=lineage[-1].seeds)
    return evidence


def folded(parent: SnapshotEvidence, child: SnapshotEvidence) -> SnapshotEvidence:
    """A child's evidence (a delta on ``parent``'s) once the parent goes: both deltas as
    one on the grandparent's, or, when the parent was a base, a base of its own."""
    if parent.form == "delta":
        changes = EvidenceChanges.from_bytes(parent.data).then(
            EvidenceChanges.from_bytes(child.data)
        )
        return SnapshotEvidence("delta", changes.to_bytes(), parent.parent, child.seeds)
    kept = KeptEvidence.from_bytes(parent.data)
    kept.apply(EvidenceChanges.from_bytes(child.data))
    return SnapshotEvidence("base", kept.to_bytes(), None, child.seeds)
