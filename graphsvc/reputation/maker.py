"""Making reputation: the seeds, the recompute that scores the evidence and stores a
snapshot, its reproduction, and the pruning of old snapshots.

Each snapshot made here is handed to the reader (:mod:`graphsvc.reputation.reader`),
which serves it; a recompute builds it aside, so it never blocks reads.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from graphsvc.clock import Clock
from graphsvc.domain.score_snapshots import SnapshotInfo
from graphsvc.metrics import Metrics
from graphsvc.reputation.kept_evidence import EvidenceCheck, KeptEvidence
from graphsvc.reputation.reader import SnapshotReader, rescored
from graphsvc.reputation.retention import RetentionPolicy
from graphsvc.reputation.snapshot_lineage import SnapshotLineage, folded
from graphsvc.reputation.views import SnapshotView
from graphsvc.scoring.archive import evidence_to_bytes
from graphsvc.scoring.engine import compute_scores
from graphsvc.scoring.evidence import AHEAD_TOLERANCE_MS, Evidence
from graphsvc.scoring.params import ScoringParams
from graphsvc.scoring.scores import Scores
from graphsvc.scoring.table import ScoreTable
from graphsvc.store import snapshots
from graphsvc.store.graph_store import GraphStore
from graphsvc.store.seeds import store_seeds, stored_seeds
from graphsvc.store.stats import ingest_counter

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


class SnapshotMaker:
    def __init__(
        self,
        store: GraphStore,
        params: ScoringParams,
        reader: SnapshotReader,
        *,
        seeds: Collection[str] = (),
        clock: Clock,
        kept_file: Path | None = None,
        metrics: Metrics | None = None,
        retention: RetentionPolicy | None = None,
        log_checkpoint: Callable[[int, GraphStore], tuple[int, str] | None] | None = None,
    ) -> None:
        """Snapshots made here are served by ``reader``. ``seeds`` are the configured
        ones. ``log_checkpoint`` gives the evidence log's (tree size, base64 root) after an
        ingest batch, read through the store given (the recompute's patient view): each
        snapshot records the one of the evidence it was computed from."""
        self._store = store
        # The recompute's calls may take the transaction timeout (a full read at scale),
        # never longer: a store that stops answering cannot hold the recompute lock
        # (docs/decisions/0050-bounded-store-calls.md).
        self._patient = store.patient()
        self.params = params
        self._reader = reader
        self._seeds = tuple(seeds)
        self._clock = clock
        self._metrics = metrics or Metrics()
        self.retention = retention or RetentionPolicy()
        self.last_report: RecomputeReport | None = None
        self._recompute_lock = threading.Lock()
        self._lineage = SnapshotLineage()
        self._evidence = KeptEvidence(store, params, self._lineage, kept_file=kept_file)
        self._log_checkpoint = log_checkpoint

    def seeds(self) -> tuple[tuple[str, ...], SeedSource]:
        """The trusted entities the next recompute uses, and where they come from."""
        return self._seeds_in(self._store)

    def _seeds_in(self, store: GraphStore) -> tuple[tuple[str, ...], SeedSource]:
        stored = stored_seeds(store)
        if stored is not None:
            return stored, SeedSource.ADMIN
        if self._seeds:
            return self._seeds, SeedSource.CONFIGURED
        return (), SeedSource.NONE

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
        store = self._patient
        with self._recompute_lock:
            records = ingest_counter(store).records
            seeds, _ = self._seeds_in(store)
            capture = self._evidence.capture(store, seeds)
            checkpoint = (
                self._log_checkpoint(capture.batch, store) if self._log_checkpoint else None
            )
            timer.lap("load")
            scores = self._score(capture.evidence, capture.newest_ms, as_of_ms)
            timer.lap("compute")
            edges = len(capture.evidence.edge_src)
            for existing in snapshots.snapshots_at(store, scores.as_of_ms):
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
                store,
                info,
                table,
                capture.stored_as.evidence,
                supersedes=self._lineage.last_stored(),
            )
            self._lineage.stored(info.id, capture.stored_as)
            self._evidence.save()
            timer.lap("persist")
            self._reader.stored(SnapshotView.of(info, table))
            return RecomputeReport(info, edges, timer.seconds, stored=True)

    def reproduce(self, as_of_ms: int) -> Reproduction:
        """Recompute the stored snapshot for ``as_of_ms`` from the evidence it recorded."""
        found = snapshots.snapshots_at(self._store, as_of_ms)
        if not found:
            raise ScoringError(f"no snapshot was taken for {as_of_ms}")
        info = found[0]
        scores, evidence = rescored(self._store, info)
        recomputed = ScoreTable.of(scores, explain=False)
        stored = snapshots.stored_figures(self._store, info, recomputed.entity_ids)
        differing = stored.differing(recomputed)
        digest_ok = scores.evidence_digest == info.evidence_digest
        current, _ = self.evidence()
        unchanged = evidence_to_bytes(current) == evidence_to_bytes(evidence)
        return Reproduction(info, digest_ok and not differing, differing, unchanged)

    def _records(self) -> int:
        return ingest_counter(self._store).records

    def scores_as_of(self, as_of_ms: int | None = None) -> Scores:
        """The scores for a time: from the evidence of the snapshot taken for it if there
        is one (so an export shows what was published), else computed now."""
        found = [] if as_of_ms is None else snapshots.snapshots_at(self._store, as_of_ms)
        if not found:
            scores, _ = self.compute(as_of_ms)
            return scores
        scores, _ = rescored(self._store, found[0])
        return scores

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
            self._reader.forget(snapshot_id)
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


class _PhaseTimer:
    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, phase: str) -> None:
        now = time.perf_counter()
        self.seconds[phase] = now - self._last
        self._last = now
