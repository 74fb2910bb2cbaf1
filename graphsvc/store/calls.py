"""Calls a caller can stop waiting for: each runs on a daemon thread of a small pool.

The Bolt driver has no read timeout: on a database that accepts connections and never
answers (a stopped JVM) a call blocks forever. The caller waits for the answer with a
timeout instead, and an abandoned call finishes (or fails, when the connection breaks)
on its own thread. The threads are daemons, so a stuck one never holds up the exit.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class CallTimedOut(Exception):
    """The call did not finish within the caller's timeout; it was abandoned."""


class CallAbandoned(Exception):
    """Raised inside an abandoned call that had not started: its work is not done."""


class _Job(Generic[T]):
    def __init__(self, call: Callable[[], T], abandoned: threading.Event) -> None:
        self.call = call
        self.abandoned = abandoned
        self.done = threading.Event()
        self.value: T | None = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            if not self.abandoned.is_set():
                self.value = self.call()
        except BaseException as error:  # handed to the caller, who may still wait
            self.error = error
        finally:
            self.done.set()


class DaemonCalls:
    """Run calls on at most ``size`` daemon threads, started as needed and kept."""

    def __init__(self, size: int, *, name: str) -> None:
        self._size = size
        self._name = name
        self._jobs: queue.SimpleQueue[_Job[object]] = queue.SimpleQueue()
        self._lock = threading.Condition()
        self._threads = 0
        self._idle = 0
        self._running = 0  # calls being run, abandoned ones included

    def run(
        self, call: Callable[[], T], timeout: float, abandoned: threading.Event | None = None
    ) -> T:
        """``call()``'s value or exception; :class:`CallTimedOut` after ``timeout`` s
        (``abandoned`` is then set, so that the call can stop before doing anything)."""
        job: _Job[T] = _Job(call, abandoned or threading.Event())
        self._jobs.put(job)  # type: ignore[arg-type]
        with self._lock:
            if self._idle == 0 and self._threads < self._size:
                self._threads += 1
                number = self._threads
            else:
                number = 0
        if number:
            threading.Thread(target=self._work, name=f"{self._name}-{number}", daemon=True).start()
        if not job.done.wait(timeout):
            job.abandoned.set()
            raise CallTimedOut
        if job.error is not None:
            raise job.error
        return job.value  # type: ignore[return-value]

    def wait_idle(self, timeout: float) -> bool:
        """Wait (at most ``timeout`` s) until no call runs, abandoned ones included."""
        with self._lock:
            return self._lock.wait_for(lambda: self._running == 0, timeout)

    def _work(self) -> None:
        while True:
            with self._lock:
                self._idle += 1
            job = self._jobs.get()
            with self._lock:
                self._idle -= 1
                self._running += 1
            try:
                job.run()
            finally:
                with self._lock:
                    self._running -= 1
                    self._lock.notify_all()
