"""Supervision of the embedded database: notice when its JVM dies, say so, and start it
again with backoff on the same data directory and ports (docs/decisions/0051-supervised-jvm.md).

The restart runs on the supervisor's own thread, which lives as long as the server: the
JVM's parent-death signal is tied to the thread that started it (see ``embedded``).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from graphsvc.store.embedded import EmbeddedArcadeDB, EmbeddedStoreError

log = logging.getLogger(__name__)


class Supervisor:
    """Watch ``server``'s JVM; restart it after ``first_backoff`` s, doubling up to
    ``max_backoff``. A JVM that stays up ``stable_seconds`` resets the count; after
    ``max_restarts`` failures in a row the supervisor gives up and calls ``on_give_up``
    with the cause (the service then exits non-zero)."""

    def __init__(
        self,
        server: EmbeddedArcadeDB,
        *,
        max_restarts: int = 5,
        first_backoff: float = 1.0,
        max_backoff: float = 30.0,
        stable_seconds: float = 60.0,
        on_give_up: Callable[[str], None] | None = None,
        on_restart: Callable[[], None] | None = None,
    ) -> None:
        self._server = server
        self._max_restarts = max_restarts
        self._first_backoff = first_backoff
        self._max_backoff = max_backoff
        self._stable_seconds = stable_seconds
        self._on_give_up = on_give_up
        self._on_restart = on_restart
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._down: str | None = None  # why the JVM is not serving, while it is not
        self._relaunching = False
        self.gave_up: str | None = None
        self.restarts = 0  # successful restarts, for tests and /metrics
        self._thread = threading.Thread(target=self._watch, name="store-supervisor", daemon=True)

    def __enter__(self) -> Supervisor:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self, timeout: float = 20.0) -> None:
        """Stop supervising and stop the JVM (bounded: SIGTERM, then SIGKILL)."""
        self._stopping.set()
        if self._relaunching:
            self._server.kill_now()  # a JVM still starting up: do not wait for it
        self._server.stop(timeout=timeout)
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def disk_full(self) -> str | None:
        """Why a write failed, if the database reported a full disk (else None)."""
        return self._server.disk_full()

    def describe(self) -> str | None:
        """None while the JVM runs normally; otherwise its state in words."""
        with self._lock:
            down = self._down
        if self.gave_up:
            return f"the embedded database is down for good: {self.gave_up}"
        return down or self._server.state()

    def _watch(self) -> None:
        failures = 0
        started = time.monotonic()
        while not self._stopping.is_set():
            try:
                status = self._server.wait()
            except RuntimeError:
                return  # stopped meanwhile
            if self._stopping.is_set():
                return
            if time.monotonic() - started >= self._stable_seconds:
                failures = 0
            failures += 1
            cause = f"the embedded database process exited with status {status}"
            while not self._stopping.is_set():
                if failures > self._max_restarts:
                    self._give_up(f"{cause}; {self._max_restarts} restarts failed")
                    return
                backoff = min(self._max_backoff, self._first_backoff * 2.0 ** (failures - 1))
                self._set_down(f"{cause}; restart {failures} in {backoff:g} s")
                log.error("%s; restarting it (attempt %d) in %g s", cause, failures, backoff)
                if self._stopping.wait(backoff):
                    return
                self._set_down(f"{cause}; restarting (attempt {failures})")
                self._relaunching = True
                try:
                    self._server.relaunch()
                except (EmbeddedStoreError, OSError) as error:
                    cause = f"restarting the embedded database failed: {error}"
                    failures += 1
                    continue
                except RuntimeError:
                    return  # stopped while relaunching
                finally:
                    self._relaunching = False
                break
            else:
                return
            self.restarts += 1
            self._set_down(None)
            started = time.monotonic()
            log.warning("the embedded database is back (pid %s)", self._server.pid)
            if self._on_restart is not None:
                self._on_restart()

    def _set_down(self, cause: str | None) -> None:
        with self._lock:
            self._down = cause

    def _give_up(self, cause: str) -> None:
        self.gave_up = cause
        log.critical("giving up on the embedded database: %s", cause)
        if self._on_give_up is not None:
            self._on_give_up(cause)
