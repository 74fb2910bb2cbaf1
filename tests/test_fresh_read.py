"""Live reads shared by concurrent callers (graphsvc/fresh_read.py,
docs/decisions/0091-live-reads-shared.md): at most one computation runs and one waits, and
no caller is answered from a computation that began before it asked."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest

from graphsvc.fresh_read import FreshRead


class Gate:
    """A computation that counts its starts and waits to be let through, each start
    returning the state of the world (a counter the test advances) when it began."""

    def __init__(self) -> None:
        self.world = 0
        self.started = threading.Semaphore(0)
        self.release = threading.Semaphore(0)

    def __call__(self) -> int:
        seen = self.world
        self.started.release()
        self.release.acquire()
        return seen


def _in_thread(call: Callable[[], int], into: list[int]) -> threading.Thread:
    thread = threading.Thread(target=lambda: into.append(call()))
    thread.start()
    return thread


def _waiting(read: FreshRead[int], callers: int) -> bool:
    """Whether ``callers`` threads wait on ``read`` (checked without sleeping blindly)."""
    done = threading.Event()
    for _ in range(400):
        with read._changed:
            if len(read._changed._waiters) == callers:  # type: ignore[attr-defined]
                return True
        done.wait(0.005)
    return False


def test_callers_during_a_read_share_the_next_one_which_sees_what_came_before_them() -> None:
    gate = Gate()
    read = FreshRead(gate)
    first: list[int] = []
    later: list[int] = []

    leader = _in_thread(read.read, first)
    assert gate.started.acquire(timeout=5)  # the first computation runs, seeing world 0
    gate.world = 1  # a record is acknowledged; then five more callers ask
    followers = [_in_thread(read.read, later) for _ in range(5)]
    assert _waiting(read, 5)

    gate.release.release()  # the first computation ends
    leader.join(5)
    assert first == [0]
    assert gate.started.acquire(timeout=5)  # one computation for the five, begun after them
    gate.release.release()
    for thread in followers:
        thread.join(5)

    assert later == [1] * 5  # nobody was answered from the computation begun before it asked
    assert read.computations == 2


def test_a_failure_reaches_every_caller_of_its_round_and_the_next_round_runs() -> None:
    calls = 0

    def failing_once() -> int:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("store unavailable")
        return calls

    read = FreshRead(failing_once)
    with pytest.raises(RuntimeError, match="store unavailable"):
        read.read()
    assert read.read() == 2


def test_alone_each_call_computes() -> None:
    counter = iter(range(100))
    read = FreshRead(lambda: next(counter))
    assert [read.read() for _ in range(3)] == [0, 1, 2]
