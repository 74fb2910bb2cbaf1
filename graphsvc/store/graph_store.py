"""The one boundary between graphsvc and the graph database: Cypher over Bolt.

Serves Neo4j 5 and the embedded ArcadeDB alike; callers pass statements from
:mod:`graphsvc.store.cypher` and parameters, never strings built from input.
"""

from __future__ import annotations

import itertools
import re
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import neo4j
from neo4j import GraphDatabase

from graphsvc.resources import schema_dir
from graphsvc.store import cypher
from graphsvc.store.endpoint import BoltEndpoint

Row = dict[str, Any]


@dataclass(frozen=True)
class Statement:
    query: str
    params: Mapping[str, Any]


class StoreUnavailable(RuntimeError):
    """The graph database cannot be reached or refused the connection."""


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
    ) -> None:
        """``connect_timeout`` bounds opening a connection and waiting for a free one;
        ``transaction_timeout`` bounds a transaction on the server and the driver's
        retries of a transient failure, so no call holds a caller (or a lock) forever."""
        self.endpoint = endpoint
        self.observer = observer
        self._transaction_timeout = transaction_timeout
        self._calls = threading.Condition()
        self._active = 0  # calls in flight
        self._closing = False
        self._driver = GraphDatabase.driver(
            endpoint.uri,
            auth=(endpoint.user, endpoint.password),
            max_connection_pool_size=max_pool,
            connection_timeout=connect_timeout,
            connection_acquisition_timeout=connect_timeout,
            max_transaction_retry_time=transaction_timeout,
        )

    def close(self, drain_seconds: float = 5.0) -> None:
        """Refuse new calls, wait (at most ``drain_seconds``) for the calls in flight, then
        close the driver: closing it under a call another thread is making breaks that
        call's connection mid-message."""
        deadline = time.monotonic() + drain_seconds
        with self._calls:
            self._closing = True
            while self._active and (left := deadline - time.monotonic()) > 0:
                self._calls.wait(left)
        self._driver.close()

    def __enter__(self) -> GraphStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _session(self) -> neo4j.Session:
        return self._driver.session(database=self.endpoint.database)

    def ping(self) -> bool:
        try:
            return self.read(cypher.PING) == [{"ok": 1}]
        except (
            StoreUnavailable,
            neo4j.exceptions.Neo4jError,
            neo4j.exceptions.DriverError,
            OSError,
        ):
            return False

    def apply_schema(self) -> None:
        """Create constraints and indexes; each statement is idempotent (IF NOT EXISTS)."""
        for statement in schema_statements():
            try:
                with self._session() as session:
                    session.run(statement).consume()
            except neo4j.exceptions.ServiceUnavailable as exc:
                raise StoreUnavailable(str(exc)) from exc

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

    def _transaction(self, statements: Sequence[Statement], *, write: bool) -> list[list[Row]]:
        observer = self.observer

        @neo4j.unit_of_work(timeout=self._transaction_timeout)
        def work(tx: neo4j.ManagedTransaction) -> list[list[Row]]:
            if observer is None:
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
                    observer.statement(s.query, _row_count(part), time.perf_counter() - started)
                answers.append(rows)
            return answers

        started = time.perf_counter()
        with self._calls:
            if self._closing:
                raise StoreUnavailable("the store connection is closed")
            self._active += 1
        try:
            with self._session() as session:
                answers = session.execute_write(work) if write else session.execute_read(work)
        except neo4j.exceptions.ServiceUnavailable as exc:
            raise StoreUnavailable(str(exc)) from exc
        except neo4j.exceptions.ConstraintError as exc:
            raise WriteConflict(str(exc)) from exc
        finally:
            with self._calls:
                self._active -= 1
                self._calls.notify_all()
        if observer is not None:
            observer.transaction(write=write, seconds=time.perf_counter() - started)
        return answers

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
