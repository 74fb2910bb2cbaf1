"""One read shared by the callers who ask at once, each answer computed after its caller
asked (docs/decisions/0091-live-reads-shared.md).

Dashboards poll the same live figures (``networkStats``) many times a second. Each
computation reads the store; under load the copies queue for connections and threads and
feed on each other. Callers who arrive while a computation runs wait for the next one,
which starts when it ends and serves all of them: at most two computations are under way
(one running, one waiting to start), and no caller gets an answer computed before it asked,
so an answer never hides a record acknowledged before the request.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class _Round(Generic[T]):
    """One computation and the callers it answers."""

    def __init__(self) -> None:
        self.led = False  # a caller has taken it on
        self.done = False
        self.value: T | None = None
        self.error: BaseException | None = None

    def answer(self) -> T:
        if self.error is not None:
            raise self.error
        return self.value  # type: ignore[return-value]


class FreshRead(Generic[T]):
    """``read()`` computes ``compute()`` once for the callers who ask at the same time."""

    def __init__(self, compute: Callable[[], T]) -> None:
        self._compute = compute
        self._changed = threading.Condition()
        self._running: _Round[T] | None = None
        self._next: _Round[T] | None = None
        self.computations = 0  # for tests and metrics

    def read(self) -> T:
        with self._changed:
            if self._running is None:
                turn = self._running = _Round()
            else:
                if self._next is None:
                    self._next = _Round()
                turn = self._next
                # Wait for this round to start (then lead it) or to be answered.
                while not turn.done and (self._running is not turn or turn.led):
                    self._changed.wait()
                if turn.done:
                    return turn.answer()
            turn.led = True
            self.computations += 1
        try:
            turn.value = self._compute()
        except BaseException as error:  # every caller of this round gets it
            turn.error = error
        with self._changed:
            turn.done = True
            self._running, self._next = self._next, None
            self._changed.notify_all()
        return turn.answer()
