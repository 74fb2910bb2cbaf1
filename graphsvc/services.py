"""The running service, assembled in one place: store, ingest, attribution reads,
reputation. The CLI, the server, the tests and the benchmarks all start here."""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from graphsvc.activity import EntityActivity
from graphsvc.attribution import AttributionService
from graphsvc.clock import Clock, now_ms
from graphsvc.evidence_log.log import EvidenceLog
from graphsvc.evidence_log.publisher import CheckpointPublisher
from graphsvc.ingest.ingest_process import IngestConfig, IngestProcess
from graphsvc.ingest.ingestor import Ingestor, RecordIngest
from graphsvc.ingest.resolution import EvidenceRules
from graphsvc.metrics import Metrics, StoreCallMetrics
from graphsvc.progress import Progress
from graphsvc.reputation.kept_evidence import KEPT_FILE
from graphsvc.reputation.maker import SeedSource, SnapshotMaker
from graphsvc.reputation.periodic import PeriodicRecompute
from graphsvc.reputation.reader import SnapshotReader
from graphsvc.reputation.retention import RetentionPolicy
from graphsvc.settings import Settings
from graphsvc.store.connect import open_store
from graphsvc.store.graph_store import GraphStore
from graphsvc.store.store_format import ensure_store_format
from graphsvc.tlog.cosignature import CosignerKey

log = logging.getLogger(__name__)


@dataclass
class Services:
    """Long-lived objects shared by every request of one process."""

    settings: Settings
    # None when the store answers within the given seconds, else why not (/readyz): the
    # service's health, without handing the store itself to the API.
    store_unavailable: Callable[[float], str | None]
    ingestor: RecordIngest  # in this process, or serve's ingest process
    attribution: AttributionService
    activity: EntityActivity  # what one entity did and was blamed for, paged
    reputation: SnapshotReader  # the snapshots reads are answered from
    scorer: SnapshotMaker  # seeds, recompute, reproduce, prune
    # Started by `serve` (`with services.background:`); idle in commands and tests.
    background: PeriodicRecompute
    metrics: Metrics  # the one registry every part counts in
    # The evidence log and its checkpoint publisher (started by `serve`, like background).
    log: EvidenceLog
    publisher: CheckpointPublisher
    # A task the service must finish before it is ready (loading the demo); /readyz
    # answers 503 with its progress meanwhile.
    loading: Progress | None = None


@contextmanager
def running_services(
    settings: Settings,
    *,
    store: GraphStore | None = None,
    clock: Clock = now_ms,
    kept_file: Path | None = None,
    log_dir: Path | None = None,
    ingest_process: bool = False,
) -> Iterator[Services]:
    """The service over ``store`` (default: the one the settings name, opened here and
    closed on exit), with every clock reading ``clock``.

    ``kept_file`` is where the scorer's kept evidence is saved beside the store: in the
    data directory for a store opened here; for a caller's store, only if given.
    ``log_dir`` holds the evidence log's key and tree: the data directory's ``log`` for a
    store opened here; for a caller's store, a temporary one unless given.
    ``ingest_process``: ingest in a child process (``serve``), if the settings allow it.
    """
    with ExitStack() as stack:
        if store is None:
            store = stack.enter_context(open_store(settings))
            kept_file = kept_file or settings.data / KEPT_FILE
            log_dir = log_dir or settings.data / "log"
        else:
            store.apply_schema()
            if log_dir is None:
                log_dir = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        ensure_store_format(store)
        metrics = Metrics()
        store.hooks.on_failure = metrics.store_failures.inc
        store_metrics = StoreCallMetrics(metrics)
        store.hooks.observers.append(store_metrics)
        stack.callback(store.hooks.observers.remove, store_metrics)
        rules = EvidenceRules.of(settings.scoring)
        in_process = Ingestor(
            store, rules, clock=clock, metrics=metrics, roots=settings.trusted_roots()
        )
        in_process.ensure_rules()
        ingestor: RecordIngest = in_process
        if ingest_process and settings.ingest_process:
            child = _ingest_process(settings, store, rules, metrics)
            stack.callback(child.close)  # before the store closes
            ingestor = child
        evidence_log = EvidenceLog(
            store,
            log_dir,
            settings.log_origin,
            publish_on_request=not settings.log_interval,
            witnesses=[CosignerKey.parse(key) for key in settings.log_witnesses],
            rotate_key=settings.log_rotate_key,
            on_rebuild=metrics.log_rebuilds.inc,
        )
        stack.callback(evidence_log.close)
        reputation = SnapshotReader(
            store, seeds=settings.seeds, clock=clock, refresh_seconds=settings.snapshot_refresh
        )
        scorer = SnapshotMaker(
            store,
            settings.scoring,
            reputation,
            seeds=settings.seeds,
            clock=clock,
            kept_file=kept_file,
            metrics=metrics,
            retention=RetentionPolicy(
                all_hours=settings.retain_all_hours,
                hourly_days=settings.retain_hourly_days,
                daily_days=settings.retain_daily_days,
            ),
            log_checkpoint=evidence_log.checkpoint_after_batch,
        )
        stack.callback(scorer.close)
        if scorer.seeds()[1] is SeedSource.NONE:
            log.warning(
                "no trusted seeds: no witness has standing, so no attestation counts and "
                "every mass is 0; name the witnesses you trust in GRAPHSVC_SEEDS or with "
                "the setSeeds mutation (docs/decisions/0070-standing.md)"
            )
        yield Services(
            settings=settings,
            store_unavailable=store.unavailable,
            ingestor=ingestor,
            attribution=AttributionService(store, trusted=reputation.trusted),
            activity=EntityActivity(store, trusted=reputation.trusted),
            reputation=reputation,
            scorer=scorer,
            background=PeriodicRecompute(scorer, settings.score_interval),
            metrics=metrics,
            log=evidence_log,
            publisher=CheckpointPublisher(evidence_log, settings.log_interval, metrics),
        )


def _ingest_process(
    settings: Settings, store: GraphStore, rules: EvidenceRules, metrics: Metrics
) -> IngestProcess:
    """``serve``'s ingest process over ``store``, started now so that the first batch does
    not wait for it (docs/decisions/0090-ingest-in-its-own-process.md)."""
    config = IngestConfig(
        endpoint=store.endpoint,
        rules=rules,
        roots=settings.trusted_roots(),
        log_format=settings.log_format,
        connect_timeout=settings.store_connect_timeout,
        call_timeout=settings.store_call_timeout,
        transaction_timeout=settings.store_transaction_timeout,
    )
    process = IngestProcess(
        config,
        metrics=metrics,
        # The child bounds each of its store calls; this only catches a child that hangs.
        answer_seconds=settings.store_transaction_timeout + settings.store_call_timeout,
        disk_full=store.hooks.disk_full,
    )
    process.start()
    return process
