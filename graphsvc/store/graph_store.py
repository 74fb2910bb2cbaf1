"""The one boundary between graphsvc and the graph database: Cypher over Bolt.

Serves Neo4j 5 and the embedded ArcadeDB alike; callers pass statements from
:mod:`graphsvc.store.cypher` and parameters, never strings built from input.
"""

from __future__ import annotations

import copy
import functools
import itertools
import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeVar

import neo4j
from neo4j import GraphDatabase

from graphsvc.domain.failures import DiskFull, StoreUnavailable
from graphsvc.resources import schema_dir
from graphsvc.store import cypher
from graphsvc.store.calls import CallAbandoned, CallTimedOut, DaemonCalls
from graphsvc.store.endpoint import BoltEndpoint

Row = dict[str, Any]
T = TypeVar("T")

__all__ = [
    "DiskFull",
    "GraphStore",
    "Row",
    "Statement",
    "StoreHooks",
    "StoreUnavailable",
    "WriteConflict",
]

# What the driver raises when the database is out of reach or the connection broke.
_UNREACHABLE = (
    neo4j.exceptions.ServiceUnavailable,
    neo4j.exceptions.SessionExpired,
    OSError,
)


@dataclass(frozen=True)
class Statement:
    query: str
    params: Mapping[str, Any]


class WriteConflict(RuntimeError):
    """A write broke a uniqueness constraint: another writer stored the same thing
    first. Nothing of the transaction was committed; read again and retry."""


class StoreObserver(Protocol):
    """Sees every statement and transaction the store runs, with its wall time: how
    benchmarks time the production path, and where store metrics come from."""

    def statement(self, query: str, rows: int, seconds: float) -> None:
        """One run of ``query`` (a part of its rows, see ``MAX_RUN_BYTES``) returned."""

    def transaction(self, *, write: bool, seconds: float) -> None:
        """A transaction ended (committed, for writes): all its statements and commit."""


@dataclass
class StoreHooks:
    """What the service and whoever runs the database attach to a store; one set for the
    store and its views (:meth:`GraphStore.patient`)."""

    # Each sees every statement and transaction: the service's metrics, and whatever a
    # benchmark or test adds (each adds its own and removes it when done).
    observers: list[StoreObserver] = field(default_factory=list)
    # Set by whoever runs the database (the embedded supervisor): a sentence on why it may
    # not answer, added to StoreUnavailable messages and /readyz.
    diagnose: Callable[[], str | None] | None = None
    # Set by whoever runs the database: asked when a write fails, names a full disk (the
    # write then raises DiskFull), else None.
    disk_full: Callable[[], str | None] | None = None
    # Called once per failed call (the service counts them in /metrics).
    on_failure: Callable[[], None] | None = None


class _InFlight:
    """The calls a store and its views are making, and whether it is closing."""

    def __init__(self) -> None:
        self.changed = threading.Condition()
        self.active = 0
        self.closing = False


def refused_by_store(error: BaseException) -> bool:
    """Whether ``error`` is the database refusing a statement (as opposed to a failure
    to reach it, which is :class:`StoreUnavailable`), for callers outside the store."""
    return isinstance(error, neo4j.exceptions.Neo4jError)


def schema_statements(folder: Path | None = None) -> list[str]:
    """The constraint and index statements of ``schema/neo4j/*.cypher``, in file order."""
    folder = folder or schema_dir() / "neo4j"
    statements: list[str] = []
    for path in sorted(folder.glob("*.cypher")):
        text = re.sub(r"//[^\n]*", "", path.read_text(encoding="utf-8"))
        statements.extend(part.strip() for part in text.split(";") if part.strip())
    return statements


class GraphStore:
    def __init__(
        self,
        endpoint: BoltEndpoint,
        *,
        max_pool: int = 32,
        observer: StoreObserver | None = None,
        connect_timeout: float = 5.0,
        transaction_timeout: float = 60.0,
        call_timeout: float | None = None,
    ) -> None:
        """``connect_timeout`` bounds opening a connection and waiting for a free one;
        ``call_timeout`` (default: ``transaction_timeout``) is how long a caller waits for
        one call, retries of transient failures included, before it gets
        :class:`StoreUnavailable`; ``transaction_timeout`` bounds a transaction on the
        server and the calls of its :meth:`patient` view. So no call holds a caller (or
        a lock) forever, even on a database that accepts connections and never answers (a
        stopped process): the driver has no read timeout of its own, so the call runs on a
        daemon thread and the caller stops waiting
        (docs/decisions/0050-bounded-store-calls.md)."""
        self.endpoint = endpoint
        self.hooks = StoreHooks(observers=[] if observer is None else [observer])
        self._transaction_timeout = transaction_timeout
        self._call_timeout = call_timeout or transaction_timeout
        self._in_flight = _InFlight()
        # A few more threads than connections: a call waiting for a free connection is
        # bounded by connect_timeout and then gives its thread back.
        self._threads = DaemonCalls(max_pool + 4, name="graphsvc-store")
        self._driver = GraphDatabase.driver(
            endpoint.uri,
            auth=(endpoint.user, endpoint.password),
            max_connection_pool_size=max_pool,
            connection_timeout=connect_timeout,
            connection_acquisition_timeout=connect_timeout,
            # The driver retries a broken connection (a dead database) for this long: no
            # longer than a caller waits, so an abandoned call stops retrying soon.
            max_transaction_retry_time=self._call_timeout,
        )

    def close(self, drain_seconds: float = 5.0) -> None:
        """Refuse new calls, wait (at most ``drain_seconds``) for the calls in flight, then
        close the driver: closing it under a call another thread is making breaks that
        call's connection mid-message."""
        deadline = time.monotonic() + drain_seconds
        calls = self._in_flight
        with calls.changed:
            calls.closing = True
            while calls.active and (left := deadline - time.monotonic()) > 0:
                calls.changed.wait(left)
        # Calls whose callers gave up may still run on their threads: let them end too.
        self._threads.wait_idle(max(0.0, deadline - time.monotonic()))
        self._driver.close()

    def __enter__(self) -> GraphStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def patient(self) -> GraphStore:
        """This store for long background work (a recompute reading millions of edges):
        its calls wait up to the transaction timeout rather than the call timeout, so
        they are still bounded. It shares everything else with this store: the driver,
        the calls in flight, the hooks."""
        view = copy.copy(self)
        view._call_timeout = self._transaction_timeout
        return view

    def _session(self) -> neo4j.Session:
        return self._driver.session(database=self.endpoint.database)

    def ping(self, timeout: float | None = None) -> bool:
        return self.unavailable(timeout) is None

    def unavailable(self, timeout: float | None = None) -> str | None:
        """None when the store answers a trivial query within ``timeout`` s (default:
        the call timeout); otherwise why not, in a sentence for /readyz."""
        try:
            if self._transaction([Statement(cypher.PING, {})], write=False, timeout=timeout) == [
                [{"ok": 1}]
            ]:
                return None
            return "the store answered a ping wrongly"
        except StoreUnavailable as error:
            return str(error)
        except neo4j.exceptions.Neo4jError as error:
            return f"the store refused a ping: {error}"

    def apply_schema(self) -> None:
        """Create constraints and indexes; each statement is idempotent (IF NOT EXISTS)
        and bounded by the transaction timeout."""

        def apply(statement: str) -> None:
            with self._session() as session:
                session.run(statement).consume()

        for statement in schema_statements():
            self._bounded(functools.partial(apply, statement), self._transaction_timeout)

    def read(self, query: str, **params: Any) -> list[Row]:
        return self.read_many([Statement(query, params)])[0]

    def read_many(self, statements: Sequence[Statement]) -> list[list[Row]]:
        """Run read statements in one transaction, so they see one consistent state."""
        return self._transaction(statements, write=False)

    def write(self, statements: Iterable[Statement]) -> list[list[Row]]:
        """Run statements in one transaction: all of them commit, or none.

        Returns each statement's rows. The commit has happened when this returns, so
        callers acknowledge only after it.
        """
        return self._transaction(list(statements), write=True)

    def _transaction(
        self, statements: Sequence[Statement], *, write: bool, timeout: float | None = None
    ) -> list[list[Row]]:
        observers = tuple(self.hooks.observers)
        if timeout is None:
            timeout = self._call_timeout
        abandoned = threading.Event()

        @neo4j.unit_of_work(timeout=self._transaction_timeout)
        def work(tx: neo4j.ManagedTransaction) -> list[list[Row]]:
            if abandoned.is_set():  # the caller has given up: no retry runs anything
                raise CallAbandoned
            if not observers:
                return [
                    [r.data() for part in _parts(s) for r in tx.run(s.query, dict(part.params))]
                    for s in statements
                ]
            answers: list[list[Row]] = []
            for s in statements:
                rows: list[Row] = []
                for part in _parts(s):
                    started = time.perf_counter()
                    rows.extend(r.data() for r in tx.run(s.query, dict(part.params)))
                    seconds, count = time.perf_counter() - started, _row_count(part)
                    for observer in observers:
                        observer.statement(s.query, count, seconds)
                answers.append(rows)
            return answers

        def run() -> list[list[Row]]:
            with self._session() as session:
                return session.execute_write(work) if write else session.execute_read(work)

        started = time.perf_counter()
        try:
            answers = self._bounded(run, timeout, abandoned)
        except neo4j.exceptions.ConstraintError as exc:
            raise WriteConflict(str(exc)) from exc
        except neo4j.exceptions.Neo4jError as exc:
            disk_full = self.hooks.disk_full
            full = disk_full() if write and disk_full is not None else None
            if full is None:
                raise
            self._failed()
            raise DiskFull(f"disk full: {full}") from exc
        seconds = time.perf_counter() - started
        for observer in observers:
            observer.transaction(write=write, seconds=seconds)
        return answers

    def _bounded(
        self, call: Callable[[], T], timeout: float, abandoned: threading.Event | None = None
    ) -> T:
        """Run ``call`` on a store thread; wait at most ``timeout`` s for it.

        A call that takes longer is abandoned (its transaction, if it ever commits, was
        never acknowledged) and the caller gets :class:`StoreUnavailable`."""
        calls = self._in_flight
        with calls.changed:
            if calls.closing:
                raise StoreUnavailable("the store connection is closed")
            calls.active += 1
        try:
            return self._threads.run(call, timeout, abandoned)
        except CallTimedOut:
            self._failed()
            raise StoreUnavailable(
                self._explained(f"the store did not answer within {timeout:g} s")
            ) from None
        except _UNREACHABLE as exc:
            self._failed()
            raise StoreUnavailable(self._explained(f"the store is unreachable: {exc}")) from exc
        finally:
            with calls.changed:
                calls.active -= 1
                calls.changed.notify_all()

    def _failed(self) -> None:
        if self.hooks.on_failure is not None:
            self.hooks.on_failure()

    def _explained(self, message: str) -> str:
        cause = self.hooks.diagnose() if self.hooks.diagnose is not None else None
        return f"{message} ({cause})" if cause else message

    def write_one(self, query: str, **params: Any) -> list[Row]:
        return self.write([Statement(query, params)])[0]


# ArcadeDB refuses a Bolt message over 16 MiB and then never answers (the client waits
# forever), and a batch of records near their size limits can pass that in one UNWIND.
# So a statement's `rows` are sent in parts whose parameters stay under this bound, as
# runs of the same statement in the same transaction: each row is independent of the
# others, so the outcome is the same.
MAX_RUN_BYTES = 8 * 1024 * 1024


def _parts(statement: Statement) -> list[Statement]:
    """``statement`` as runs with at most ``MAX_RUN_BYTES`` of rows; none for no rows."""
    rows = statement.params.get("rows")
    if not isinstance(rows, list):
        return [statement]
    bounds = [0]  # where each part starts, then where the last one ends
    size = 0
    for index, row in enumerate(rows):
        row_size = _size_bound(row)
        if size + row_size > MAX_RUN_BYTES and index > bounds[-1]:
            bounds.append(index)
            size = 0
        size += row_size
    if len(bounds) == 1:
        return [statement] if rows else []
    bounds.append(len(rows))
    return [
        Statement(statement.query, {**statement.params, "rows": rows[start:end]})
        for start, end in itertools.pairwise(bounds)
    ]


def _row_count(statement: Statement) -> int:
    rows = statement.params.get("rows")
    return len(rows) if isinstance(rows, list) else 1


def _size_bound(value: object) -> int:
    """An upper bound of ``value``'s PackStream size: 4 bytes a character, 9 a scalar."""
    if type(value) is str:
        return 5 + 4 * len(value)
    if isinstance(value, Mapping):
        # Rows are maps of scalars: count their strings without a call per value.
        total = 5
        for key, item in value.items():
            total += 5 + 4 * len(key)
            total += 5 + 4 * len(item) if type(item) is str else _size_bound(item)
        return total
    if isinstance(value, str):
        return 5 + 4 * len(value)
    if isinstance(value, list | tuple):
        return 5 + sum(_size_bound(item) for item in value)
    return 9
