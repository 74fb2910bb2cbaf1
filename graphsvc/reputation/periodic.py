"""Recompute in the background while serving."""

from __future__ import annotations

import sys
import threading

from graphsvc.reputation.service import ReputationService

DAY_MS = 86_400_000


class PeriodicRecompute:
    """Recompute in a background thread while serving; reads never wait for it.

    A recompute runs when records arrived since the newest snapshot, or it is a day old.
    """

    def __init__(self, reputation: ReputationService, interval: float) -> None:
        self._reputation = reputation
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="recompute", daemon=True)

    def __enter__(self) -> PeriodicRecompute:
        if self._interval > 0:
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def _run(self) -> None:
        reputation = self._reputation
        while not self._stop.wait(self._interval):
            try:
                if reputation.needs_recompute(max_age_ms=DAY_MS):
                    reputation.recompute()
            except Exception as error:
                print(f"graphsvc: background recompute failed: {error!r}", file=sys.stderr)
