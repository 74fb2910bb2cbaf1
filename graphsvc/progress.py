"""Progress of a long task: a bar on a terminal, a log line every few seconds elsewhere
(a service's log, a pipe), and a figure ``/readyz`` can report meanwhile."""

from __future__ import annotations

import logging
import sys
import threading
import time
from typing import IO

from tqdm import tqdm

log = logging.getLogger("graphsvc.progress")

LOG_EVERY_SECONDS = 5.0


class Progress:
    def __init__(
        self,
        what: str,
        total: int,
        *,
        unit: str = "rec",
        enabled: bool = True,
        stream: IO[str] | None = None,
        every: float = LOG_EVERY_SECONDS,
    ) -> None:
        self.what = what
        self.total = total
        self.unit = unit
        self._done = 0
        self._lock = threading.Lock()
        stream = stream or sys.stderr
        terminal = stream.isatty()
        self._bar = (
            tqdm(total=total, unit=unit, desc=what, file=stream) if enabled and terminal else None
        )
        self._log_lines = enabled and not terminal
        self._every = every
        self._last_line = time.monotonic()

    @property
    def done(self) -> int:
        return self._done

    def describe(self) -> str:
        return f"{self.what}: {self._done:,} of {self.total:,} {self.unit}"

    def update(self, count: int) -> None:
        with self._lock:
            self._done += count
        if self._bar is not None:
            self._bar.update(count)
        elif self._log_lines and time.monotonic() - self._last_line >= self._every:
            self._last_line = time.monotonic()
            log.info("%s", self.describe())

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
