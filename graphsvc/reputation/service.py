"""Reputation as a service: recompute, snapshot, reproduce, and answer reads fast.

Reads are served from an in-memory view of a snapshot (the current one, and a few past
ones on demand), so a recompute never blocks them: it builds the next view aside and
swaps it in. Each process checks the store for a newer snapshot, so API replicas agree.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Collection
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from graphsvc.clock import Clock
from graphsvc.domain.snapshots import ScoreRow, SnapshotInfo
from graphsvc.metrics import Metrics
from graphsvc.reputation.kept_evidence import EvidenceCheck, EvidenceKeeper, evidence_of, folded
from graphsvc.reputation.retention import RetentionPolicy
from graphsvc.reputation.views import SnapshotView
from graphsvc.scoring.archive import evidence_to_bytes
from graphsvc.scoring.engine import compute_scores
from graphsvc.scoring.evidence import AHEAD_TOLERANCE_MS, Evidence
from graphsvc.scoring.params import ScoringParams
from graphsvc.scoring.scores import Scores
from graphsvc.scoring.table import ScoreTable
from graphsvc.store import snapshots
from graphsvc.store.graph_store import GraphStore, patient_calls
from graphsvc.store.seeds import store_seeds, stored_seeds
from graphsvc.store.stats import ingest_counter

VIEW_CACHE = 8
PHASES = ("load", "compute", "explain", "persist")

log = logging.getLogger(__name__)


class ScoringError(ValueError):
    """A recompute or reproduction that cannot be done as asked; the message says why."""


@dataclass(frozen=True)
class RecomputeReport:
    """What one recompute produced, and how long each of its phases took (seconds)."""

    snapshot: SnapshotInfo
    edges: int
    seconds: dict[str, float]
    stored: bool  # False when the same evidence was already scored for that time

    def line(self) -> str:
        phases = " ".join(f"{p}={self.seconds.get(p, 0.0):.3f}s" for p in PHASES)
        outcome = "stored" if self.stored else "unchanged"
        return (
            f"recompute {outcome} snapshot {self.snapshot.id}: {self.snapshot.entities} "
            f"entities, {self.edges} edges, {self.snapshot.records} records; {phases}"
        )


@dataclass(frozen=True)
class Reproduction:
    snapshot: SnapshotInfo
    identical: bool
    differing_entities: list[str]
    store_evidence_unchanged: bool


class SeedSource(StrEnum):
    ADMIN = "admin"  # set through the API (setSeeds), shared by every replica
    CONFIGURED = "configured"  # GRAPHSVC_SEEDS
    # The default: none, so no witness has standing and every mass is 0
    # (docs/decisions/0070-standing.md); the service warns at start.
    NONE = "none"


class ReputationService:
    def __init__(
        self,
        store: GraphStore,
        params: ScoringParams,
        *,
        seeds: Collection[str] = (),
        clock: Clock,
        refresh_seconds: float = 2.0,
        kept_file: Path | None = None,
        metrics: Metrics | None = None,
        retention: RetentionPolicy | None = None,
        log_checkpoint: Callable[[int], tuple[int, str] | None] | None = None,
    ) -> None:
        """``log_checkpoint`` gives the evidence log's (tree size, base64 root) after an
        ingest batch: each snapshot records the one of the evidence it was computed from."""
        self._store = store
        self.params = params
        self._seeds = tuple(seeds)
        self._clock = clock
        self._refresh_seconds = refresh_seconds
        self._metrics = metrics or Metrics()
        self.retention = retention or RetentionPolicy()
        self.last_report: RecomputeReport | None = None
        self._recompute_lock = threading.Lock()
        self._evidence = EvidenceKeeper(store, params, kept_file=kept_file)
        self._views: OrderedDict[str, SnapshotView] = OrderedDict()
        self._views_lock = threading.Lock()
        self._loaders: dict[str, threading.Thread] = {}
        self._current: SnapshotView | None = None
        self._checked_at = float("-inf")
        self._log_checkpoint = log_checkpoint

    # ------------------------------------------------------------------ computing

    def seeds(self) -> tuple[tuple[str, ...], SeedSource]:
        """The trusted entities the next recompute uses, and where they come from."""
        stored = stored_seeds(self._store)
        if stored is not None:
            return stored, SeedSource.ADMIN
        if self._seeds:
            return self._seeds, SeedSource.CONFIGURED
        return (), SeedSource.NONE

    def trusted(self) -> frozenset[str]:
        """The witnesses whose votes decide the verdicts shown: the seeds of the snapshot
        in force, so a verdict agrees with the scores served beside it (a setSeeds shows
        from the next snapshot on); before the first snapshot, the configured ones. It
        reads nothing from the store: every trail and listing asks."""
        view = self._current
        return frozenset(view.info.seeds if view is not None else self._seeds)

    def set_seeds(self, ids: Collection[str]) -> tuple[tuple[str, ...], SeedSource]:
        """Keep ``ids`` as the seeds for every replica (empty: back to the configured
        ones). Takes effect at the next recompute; snapshots record the seeds they used."""
        try:
            store_seeds(self._store, list(ids))
        except LookupError as error:
            raise ScoringError(str(error)) from None
        return self.seeds()

    def evidence(self) -> tuple[Evidence, int]:
        seeds, _ = self.seeds()
        return self._evidence.evidence(seeds)

    def check_evidence(self) -> EvidenceCheck:
        """Compare the evidence this process keeps with a full re-read of the store."""
        seeds, _ = self.seeds()
        return self._evidence.check(seeds)

    def compute(self, as_of_ms: int | None = None) -> tuple[Scores, Evidence]:
        """Score the store's evidence as of a time (default: now), without storing it.

        The store keeps decayed running sums, exact for any time at or after its newest
        evidence; earlier times are answered from the snapshots taken then.
        """
        evidence, newest = self.evidence()
        return self._score(evidence, newest, as_of_ms), evidence

    def _score(self, evidence: Evidence, newest: int, as_of_ms: int | None) -> Scores:
        # Records may be stamped up to five minutes ahead of the clock; scoring counts
        # them as of its time, so neither is a snapshot's time moved ahead of the clock
        # for them nor an administrator's "now" refused. (Evidence further ahead means a
        # clock set back: then the newest evidence's time, as before.)
        earliest = newest - AHEAD_TOLERANCE_MS
        if as_of_ms is None:
            now = self._clock()
            as_of_ms = now if now >= earliest else newest
        elif as_of_ms < earliest:
            raise ScoringError(
                f"the store holds evidence up to {newest} ms, after {as_of_ms}: its running "
                "sums cannot be wound back; scores for that time come from the snapshot "
                "taken then (graphsvc score --as-of reproduces stored snapshots)"
            )
        return compute_scores(evidence, self.params, as_of_ms)

    def recompute(self, as_of_ms: int | None = None) -> SnapshotInfo:
        """Compute and store a snapshot, and serve it if it is the newest. Counted and
        timed in the metrics, logged with its figures (or its cause when it fails)."""
        report = self._counted(lambda: self._recompute(as_of_ms))
        assert report is not None
        return report.snapshot

    def recompute_if_due(self, max_age_ms: int) -> SnapshotInfo | None:
        """:meth:`recompute` if records arrived since the newest snapshot or it is older
        than ``max_age_ms``; a failure to find out counts as a failed recompute."""
        report = self._counted(
            lambda: self._recompute(None) if self.needs_recompute(max_age_ms) else None
        )
        return None if report is None else report.snapshot

    def _counted(self, attempt: Callable[[], RecomputeReport | None]) -> RecomputeReport | None:
        try:
            report = attempt()
        except Exception as error:
            self._metrics.recomputes.labels("failed").inc()
            if not isinstance(error, ScoringError):
                log.exception("recompute failed: %r", error)
            raise
        if report is None:
            return None
        self._metrics.recomputes.labels("ok").inc()
        for phase, seconds in report.seconds.items():
            self._metrics.recompute_seconds.labels(phase).observe(seconds)
        self._metrics.snapshot_entities.set(report.snapshot.entities)
        self._metrics.snapshot_edges.set(report.edges)
        self.last_report = report
        log.info(report.line())
        return report

    def _recompute(self, as_of_ms: int | None) -> RecomputeReport:
        timer = _PhaseTimer()
        # Its calls may take the transaction timeout (a full read at scale), never longer: a
        # store that stops answering cannot hold the lock
        # (docs/decisions/0050-bounded-store-calls.md).
        with self._recompute_lock, patient_calls():
            records = self._records()
            seeds, _ = self.seeds()
            evidence, newest, kept_as, mark = self._evidence.capture(seeds)
            checkpoint = (
                self._log_checkpoint(self._evidence.captured_batch)
                if self._log_checkpoint
                else None
            )
            timer.lap("load")
            scores = self._score(evidence, newest, as_of_ms)
            timer.lap("compute")
            edges = len(evidence.edge_src)
            for existing in snapshots.snapshots_at(self._store, scores.as_of_ms):
                if existing.evidence_digest == scores.evidence_digest:
                    return RecomputeReport(existing, edges, timer.seconds, stored=False)
            info = SnapshotInfo(
                id=f"{scores.as_of_ms}-{scores.evidence_digest[7:19]}",
                as_of_ms=scores.as_of_ms,
                created_ms=self._clock(),
                params=self.params.to_dict(),
                evidence_digest=scores.evidence_digest,
                records=records,
                entities=len(scores.entity_ids),
                iterations=scores.iterations,
                residual=scores.residual,
                log_size=checkpoint[0] if checkpoint else None,
                log_root=checkpoint[1] if checkpoint else None,
                seeds=tuple(seeds),
            )
            # Every entity explained, in one pass over the evidence, as columns.
            table = ScoreTable.of(scores)
            timer.lap("explain")
            snapshots.save_snapshot(
                self._store, info, table, kept_as, supersedes=self._evidence.last_stored()
            )
            self._evidence.stored(info.id, kept_as, mark)
            self._evidence.save()
            timer.lap("persist")
            view = SnapshotView.of(info, table)
            self._remember(view)
            if self._current is None or info.as_of_ms >= self._current.info.as_of_ms:
                self._current = view
            return RecomputeReport(info, edges, timer.seconds, stored=True)

    def reproduce(self, as_of_ms: int) -> Reproduction:
        """Recompute the stored snapshot for ``as_of_ms`` from the evidence it recorded."""
        found = snapshots.snapshots_at(self._store, as_of_ms)
        if not found:
            raise ScoringError(f"no snapshot was taken for {as_of_ms}")
        info = found[0]
        scores, evidence = self._recompute_stored(info)
        recomputed = ScoreTable.of(scores, explain=False)
        stored = snapshots.stored_figures(self._store, info, recomputed.entity_ids)
        differing = stored.differing(recomputed)
        digest_ok = scores.evidence_digest == info.evidence_digest
        current, _ = self.evidence()
        unchanged = evidence_to_bytes(current) == evidence_to_bytes(evidence)
        return Reproduction(info, digest_ok and not differing, differing, unchanged)

    def _records(self) -> int:
        return ingest_counter(self._store).records

    def has_snapshot(self, as_of_ms: int) -> bool:
        """Whether a snapshot was taken for exactly ``as_of_ms``."""
        return bool(snapshots.snapshots_at(self._store, as_of_ms))

    def scores_as_of(self, as_of_ms: int | None = None) -> Scores:
        """The scores for a time: from the evidence of the snapshot taken for it if there
        is one (so an export shows what was published), else computed now."""
        found = [] if as_of_ms is None else snapshots.snapshots_at(self._store, as_of_ms)
        if not found:
            scores, _ = self.compute(as_of_ms)
            return scores
        scores, _ = self._recompute_stored(found[0])
        return scores

    def _recompute_stored(self, info: SnapshotInfo) -> tuple[Scores, Evidence]:
        """Score a stored snapshot again from the evidence and parameters it recorded."""
        params = ScoringParams.from_dict(info.params)
        evidence = evidence_of(snapshots.evidence_lineage(self._store, info.id), params)
        return compute_scores(evidence, params, info.as_of_ms), evidence

    def snapshot_info(self, snapshot_id: str) -> SnapshotInfo | None:
        return snapshots.snapshot_by_id(self._store, snapshot_id)

    def snapshot_info_at(self, as_of_ms: int) -> SnapshotInfo | None:
        """The snapshot in force at ``as_of_ms`` (the newest taken for it, or before)."""
        return snapshots.snapshot_in_force(self._store, as_of_ms)

    def snapshots(self, limit: int | None) -> list[SnapshotInfo]:
        """Stored snapshots, newest first (all of them when ``limit`` is None)."""
        return snapshots.list_snapshots(self._store, limit)

    def prune(self) -> list[str]:
        """Delete the snapshots the retention policy no longer keeps; returns their ids."""
        found = snapshots.list_snapshots(self._store, limit=None)
        keep = self.retention.keep(found, self._clock())
        pruned = [s.id for s in reversed(found) if s.id not in keep]  # oldest first
        for snapshot_id in pruned:
            child = snapshots.child_of(self._store, snapshot_id)
            if child is not None:  # its evidence is a delta on this one's: fold it in
                parent = snapshots.snapshot_evidence(self._store, snapshot_id)
                own = snapshots.snapshot_evidence(self._store, child)
                snapshots.replace_evidence(self._store, child, folded(parent, own))
            snapshots.delete_snapshot(self._store, snapshot_id)
            with self._views_lock:
                self._views.pop(snapshot_id, None)
        if pruned:
            log.info("retention removed %d snapshots, kept %d", len(pruned), len(keep))
        return pruned

    def needs_recompute(self, max_age_ms: int) -> bool:
        """New records since the newest snapshot, or the newest is older than max_age."""
        latest = snapshots.latest_snapshot(self._store)
        if latest is None:
            return self._records() > 0
        return self._records() != latest.records or (self._clock() - latest.as_of_ms > max_age_ms)

    def close(self) -> None:
        """Save the kept evidence now, so the next start catches up from here."""
        try:
            self._evidence.save(force=True)
        except OSError:
            log.exception("saving the kept evidence on close failed; the next start reads more")

    def now_ms(self) -> int:
        """The service's clock."""
        return self._clock()

    # ------------------------------------------------------------------ reading

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

    def history(self, entity: str, from_ms: int, to_ms: int, limit: int) -> list[ScoreRow]:
        """The entity's figures in the retained snapshots from ``from_ms`` to ``to_ms``,
        oldest first, at most ``limit`` of them (the next page starts after the last)."""
        return snapshots.score_history(self._store, entity, from_ms, to_ms, limit)

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
            scores, _ = self._recompute_stored(info)
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


class _PhaseTimer:
    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, phase: str) -> None:
        now = time.perf_counter()
        self.seconds[phase] = now - self._last
        self._last = now
