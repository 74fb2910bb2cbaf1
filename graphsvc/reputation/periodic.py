"""Recompute in the background while serving, visibly: failures are logged with their
cause, counted, retried with backoff and reported by /readyz
(docs/reference.md#snapshots-and-reproduction)."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from graphsvc.reputation.maker import SnapshotMaker

DAY_MS = 86_400_000
FIRST_RETRY_SECONDS = 5.0
JOIN_SECONDS = 5.0

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RecomputeStatus:
    """How the background recompute is doing, for /readyz."""

    running: bool
    consecutive_failures: int = 0
    last_error: str | None = None
    last_success_at: float | None = None  # wall-clock seconds
    next_attempt_in: float | None = None  # seconds from when the status was taken


class PeriodicRecompute:
    """Recompute in a background thread while serving; reads never wait for it.

    A recompute runs when records arrived since the newest snapshot, or it is a day old.
    After a failure the next attempt comes sooner than the interval, then later and later
    (5 s, 10 s, 20 s, ... up to the interval), so a store that comes back is caught up
    soon and one that stays down is not hammered.
    """

    def __init__(self, scorer: SnapshotMaker, interval: float) -> None:
        self._scorer = scorer
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="recompute", daemon=True)
        self._lock = threading.Lock()
        self._failures = 0
        self._last_error: str | None = None
        self._last_success: float | None = None
        self._next_attempt = 0.0

    def __enter__(self) -> PeriodicRecompute:
        self.start()
        return self

    def start(self) -> None:
        """Start recomputing (once; not after the exit has begun)."""
        with self._lock:
            if self._interval > 0 and not self._stop.is_set() and self._thread.ident is None:
                self._thread.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        """Stop: none starts after; one under way gets JOIN_SECONDS to end."""
        with self._lock:
            self._stop.set()
        if self._thread.is_alive():
            # A recompute under way ends within its store calls' timeouts; shutdown does
            # not wait that long (the thread is a daemon, its snapshot not yet stored).
            self._thread.join(JOIN_SECONDS)

    def status(self) -> RecomputeStatus:
        with self._lock:
            return RecomputeStatus(
                running=self._thread.is_alive(),
                consecutive_failures=self._failures,
                last_error=self._last_error,
                last_success_at=self._last_success,
                next_attempt_in=max(0.0, self._next_attempt - time.monotonic())
                if self._thread.is_alive()
                else None,
            )

    def delay(self) -> float:
        """Seconds until the next attempt: the interval, or the backoff after failures."""
        with self._lock:
            if not self._failures:
                return self._interval
            return min(self._interval, FIRST_RETRY_SECONDS * 2.0 ** (self._failures - 1))

    def run_once(self) -> None:
        """One attempt: recompute if due; a failure is recorded, never raised."""
        try:
            if self._scorer.recompute_if_due(max_age_ms=DAY_MS) is not None:
                self._scorer.prune()
        except Exception as error:
            with self._lock:
                self._failures += 1
                self._last_error = f"{type(error).__name__}: {error}"
                failures = self._failures
            log.error(
                "background recompute failed (%d in a row), next attempt in %.0f s: %s",
                failures,
                self.delay(),
                self._last_error,
            )
            return
        with self._lock:
            if self._failures:
                log.info("background recompute recovered after %d failures", self._failures)
            self._failures = 0
            self._last_error = None
            self._last_success = time.time()

    def _run(self) -> None:
        while True:
            delay = self.delay()
            with self._lock:
                self._next_attempt = time.monotonic() + delay
            if self._stop.wait(delay):
                return
            self.run_once()
