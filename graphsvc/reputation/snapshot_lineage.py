"""What each snapshot stores of its evidence: a base or a delta on its parent's.

A snapshot stores the changes applied since the last snapshot this process stored (its
parent), or the whole evidence state (a base) when the deltas since the last base would
outweigh a new one, or nothing links them. Reproducing a snapshot rebuilds its evidence
from that lineage (:func:`evidence_of`); removing one folds its evidence into its child's
(:func:`folded`).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from functools import reduce

from graphsvc.domain.score_snapshots import SnapshotEvidence
from graphsvc.scoring.evidence import Evidence
from graphsvc.scoring.evidence_state import EvidenceChanges, EvidenceState
from graphsvc.scoring.params import ScoringParams

# A new base once the deltas since the last one outweigh it (and never for less).
MIN_BASE_BYTES = 256 * 1024


@dataclass(frozen=True)
class LineageEntry:
    """How one snapshot stores its evidence, and how many of the changes followed since
    the parent it folds in (those are dropped once the snapshot is stored)."""

    evidence: SnapshotEvidence
    changes: int


class SnapshotLineage:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: list[EvidenceChanges] = []
        self._parent: str | None = None
        self._base_bytes = 0
        self._chain_bytes = 0

    def follow(self, changes: EvidenceChanges | None) -> None:
        """The kept evidence state applied ``changes``; None: it was read afresh, so the
        next snapshot stores a base."""
        with self._lock:
            if changes is None:
                self._pending.clear()
                self._parent = None
            else:
                self._pending.append(changes)

    def entry(self, state: EvidenceState, seeds: Sequence[str]) -> LineageEntry:
        """How a snapshot of ``state`` (every change followed so far applied) stores it."""
        with self._lock:
            mark = len(self._pending)
            delta = self._delta(state, tuple(seeds))
        if delta is None:
            delta = SnapshotEvidence("base", state.to_bytes(), None, tuple(seeds))
        return LineageEntry(delta, mark)

    def _delta(self, state: EvidenceState, seeds: tuple[str, ...]) -> SnapshotEvidence | None:
        if self._parent is None:
            return None
        if self._pending:
            changes = reduce(EvidenceChanges.then, self._pending)
        else:  # nothing new since the parent (a recompute because it aged): an empty delta
            changes = EvidenceChanges(from_batch=state.batch, to_batch=state.batch)
        data = changes.to_bytes()
        if self._chain_bytes + len(data) > max(self._base_bytes, MIN_BASE_BYTES):
            return None
        return SnapshotEvidence("delta", data, self._parent, seeds)

    def last_stored(self) -> str | None:
        """The snapshot this process stored last, if any."""
        with self._lock:
            return self._parent

    def stored(self, snapshot_id: str, entry: LineageEntry) -> None:
        """A snapshot storing ``entry`` was written: it is the next one's parent."""
        with self._lock:
            del self._pending[: entry.changes]
            self._parent = snapshot_id
            if entry.evidence.form == "base":
                self._base_bytes, self._chain_bytes = len(entry.evidence.data), 0
            else:
                self._chain_bytes += len(entry.evidence.data)


def evidence_of(lineage: Sequence[SnapshotEvidence], params: ScoringParams) -> Evidence:
    """The evidence a snapshot was computed from, rebuilt from its stored lineage (a base
    and the deltas after it)."""
    state = EvidenceState.from_bytes(lineage[0].data)
    for delta in lineage[1:]:
        state.apply(EvidenceChanges.from_bytes(delta.data))
    evidence, _ = state.evidence(params, seeds=lineage[-1].seeds)
    return evidence


def folded(parent: SnapshotEvidence, child: SnapshotEvidence) -> SnapshotEvidence:
    """A child's evidence (a delta on ``parent``'s) once the parent goes: both deltas as
    one on the grandparent's, or, when the parent was a base, a base of its own."""
    if parent.form == "delta":
        changes = EvidenceChanges.from_bytes(parent.data).then(
            EvidenceChanges.from_bytes(child.data)
        )
        return SnapshotEvidence("delta", changes.to_bytes(), parent.parent, child.seeds)
    state = EvidenceState.from_bytes(parent.data)
    state.apply(EvidenceChanges.from_bytes(child.data))
    return SnapshotEvidence("base", state.to_bytes(), None, child.seeds)
