"""Publish a checkpoint every few seconds while serving: integrate what committed
batches appended and sign the new tree head. Failures are logged and counted, and the
next attempt comes at the next tick (docs/auditors.md)."""

from __future__ import annotations

import logging
import threading

from graphsvc.evidence_log.log import EvidenceLog
from graphsvc.metrics import Metrics

log = logging.getLogger(__name__)


class CheckpointPublisher:
    def __init__(self, evidence_log: EvidenceLog, interval: float, metrics: Metrics) -> None:
        self._log = evidence_log
        self._interval = interval
        self._metrics = metrics
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.consecutive_failures = 0
        self.last_error: str | None = None

    def __enter__(self) -> CheckpointPublisher:
        if self._interval > 0:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="log-publisher", daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def run_once(self) -> bool:
        """One publication; a failure is logged and counted, never raised."""
        try:
            signed = self._log.publish()
        except Exception as error:
            self.consecutive_failures += 1
            self.last_error = f"{type(error).__name__}: {error}"
            self._metrics.log_publications.labels("failed").inc()
            log.error(
                "checkpoint publication failed (%d in a row): %s: %s",
                self.consecutive_failures,
                type(error).__name__,
                error,
            )
            return False
        self.consecutive_failures = 0
        self.last_error = None
        self._metrics.log_publications.labels("ok").inc()
        self._metrics.log_size.set(signed.checkpoint.size)
        return True

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self.run_once()
