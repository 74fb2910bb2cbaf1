"""Reading reputation: the snapshots the service answers from, kept fast.

Reads are served from an in-memory view of a snapshot (the current one, and a few past
ones on demand), so a recompute never blocks them: the maker
(:mod:`graphsvc.reputation.maker`) builds the next view aside and hands it over. Each
process checks the store for a newer snapshot, so API replicas agree.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Collection

from graphsvc.clock import Clock
from graphsvc.domain.score_snapshots import ScoreRow, SnapshotInfo
from graphsvc.reputation.snapshot_lineage import evidence_of
from graphsvc.reputation.views import SnapshotView
from graphsvc.scoring.engine import compute_scores
from graphsvc.scoring.evidence import Evidence
from graphsvc.scoring.params import ScoringParams
from graphsvc.scoring.scores import Scores
from graphsvc.scoring.table import ScoreTable
from graphsvc.store import snapshots
from graphsvc.store.graph_store import GraphStore

VIEW_CACHE = 8

log = logging.getLogger(__name__)


def rescored(store: GraphStore, info: SnapshotInfo) -> tuple[Scores, Evidence]:
    """Score a stored snapshot again from the evidence and parameters it recorded."""
    params = ScoringParams.from_dict(info.params)
    evidence = evidence_of(snapshots.evidence_lineage(store, info.id), params)
    return compute_scores(evidence, params, info.as_of_ms), evidence


class SnapshotReader:
    def __init__(
        self,
        store: GraphStore,
        *,
        seeds: Collection[str] = (),
        clock: Clock,
        refresh_seconds: float = 2.0,
    ) -> None:
        """``seeds`` are the configured ones, trusted until the first snapshot; a newer
        snapshot is looked for at most every ``refresh_seconds``."""
        self._store = store
        self._seeds = tuple(seeds)
        self._clock = clock
        self._refresh_seconds = refresh_seconds
        self._views: OrderedDict[str, SnapshotView] = OrderedDict()
        self._views_lock = threading.Lock()
        self._loaders: dict[str, threading.Thread] = {}
        self._current: SnapshotView | None = None
        self._checked_at = float("-inf")

    def now_ms(self) -> int:
        """The service's clock."""
        return self._clock()

    def trusted(self) -> frozenset[str]:
        """The witnesses whose votes decide the verdicts shown: the seeds of the snapshot
        in force, so a verdict agrees with the scores served beside it (a setSeeds shows
        from the next snapshot on); before the first snapshot, the configured ones. It
        reads nothing from the store: every trail and listing asks."""
        view = self._current
        return frozenset(view.info.seeds if view is not None else self._seeds)

    # ------------------------------------------------------------------ snapshots

    def has_snapshot(self, as_of_ms: int) -> bool:
        """Whether a snapshot was taken for exactly ``as_of_ms``."""
        return bool(snapshots.snapshots_at(self._store, as_of_ms))

    def snapshot_info(self, snapshot_id: str) -> SnapshotInfo | None:
        return snapshots.snapshot_by_id(self._store, snapshot_id)

    def snapshot_info_at(self, as_of_ms: int) -> SnapshotInfo | None:
        """The snapshot in force at ``as_of_ms`` (the newest taken for it, or before)."""
        return snapshots.snapshot_in_force(self._store, as_of_ms)

    def snapshots(self, limit: int | None) -> list[SnapshotInfo]:
        """Stored snapshots, newest first (all of them when ``limit`` is None)."""
        return snapshots.list_snapshots(self._store, limit)

    def history(self, entity: str, from_ms: int, to_ms: int, limit: int) -> list[ScoreRow]:
        """The entity's figures in the retained snapshots from ``from_ms`` to ``to_ms``,
        oldest first, at most ``limit`` of them (the next page starts after the last)."""
        return snapshots.score_history(self._store, entity, from_ms, to_ms, limit)

    # ------------------------------------------------------------------ views

    def view(self, as_of_ms: int | None = None) -> SnapshotView | None:
        """The snapshot in force at a time (default: the newest)."""
        if as_of_ms is None:
            return self._current_view()
        info = snapshots.snapshot_in_force(self._store, as_of_ms)
        return self._view_of(info) if info else None

    def view_by_id(self, snapshot_id: str) -> SnapshotView | None:
        info = snapshots.snapshot_by_id(self._store, snapshot_id)
        return self._view_of(info) if info else None

    def known_current_view(self) -> tuple[bool, SnapshotView | None]:
        """``(True, newest view)`` when it is known without asking the store (checked
        less than the refresh interval ago), else ``(False, None)``: lets the event loop
        skip a thread hop on most reads."""
        if time.monotonic() - self._checked_at < self._refresh_seconds:
            return True, self._current
        return False, None

    def served_view(self) -> SnapshotView | None:
        """The view reads are answered from now, without asking the store for a newer
        one (the answer cache checks an answer was computed from one view only)."""
        return self._current

    def stored(self, view: SnapshotView) -> None:
        """This process stored ``view``'s snapshot: keep it, and serve it if it is the
        newest."""
        self._remember(view)
        current = self._current
        if current is None or view.info.as_of_ms >= current.info.as_of_ms:
            self._current = view

    def forget(self, snapshot_id: str) -> None:
        """The snapshot was deleted: drop its view."""
        with self._views_lock:
            self._views.pop(snapshot_id, None)

    def settle(self, timeout: float | None = None) -> None:
        """Wait for views being loaded in the background (tests, orderly shutdown)."""
        with self._views_lock:
            loaders = list(self._loaders.values())
        for loader in loaders:
            loader.join(timeout)

    def _current_view(self) -> SnapshotView | None:
        current = self._current
        now = time.monotonic()
        if now - self._checked_at >= self._refresh_seconds:
            self._checked_at = now
            latest = snapshots.latest_snapshot(self._store)
            if latest is not None and (current is None or latest.id != current.info.id):
                if current is None:
                    current = self._current = self._view_of(latest)  # nothing to serve yet
                else:
                    self._load_in_background(latest)
        return current

    def _load_in_background(self, info: SnapshotInfo) -> None:
        """Load a newer snapshot (another replica's) while reads keep being answered from
        the current one; it is served once loaded."""
        with self._views_lock:
            if info.id in self._loaders:
                return

            def load() -> None:
                try:
                    view = self._view_of(info)
                    current = self._current
                    if current is None or view.info.as_of_ms >= current.info.as_of_ms:
                        self._current = view
                except Exception:
                    log.exception("loading snapshot %s failed; serving the previous one", info.id)
                finally:
                    with self._views_lock:
                        self._loaders.pop(info.id, None)

            loader = threading.Thread(target=load, name=f"load-{info.id}", daemon=True)
            self._loaders[info.id] = loader
            loader.start()  # under the lock, so settle() never joins an unstarted thread

    def _view_of(self, info: SnapshotInfo) -> SnapshotView:
        with self._views_lock:
            cached = self._views.get(info.id)
            if cached is not None:
                self._views.move_to_end(info.id)
                return cached
        table = snapshots.snapshot_table(self._store, info)
        if table is None:  # an older snapshot: explained again from its evidence
            scores, _ = rescored(self._store, info)
            table = ScoreTable.of(scores)
        view = SnapshotView.of(info, table)
        self._remember(view)
        return view

    def _remember(self, view: SnapshotView) -> None:
        with self._views_lock:
            self._views[view.info.id] = view
            self._views.move_to_end(view.info.id)
            while len(self._views) > VIEW_CACHE:
                self._views.popitem(last=False)
