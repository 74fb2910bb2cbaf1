"""Ingest in a process of its own (docs/decisions/0090-ingest-in-its-own-process.md).

Checking a record (its schema, its signatures, its proofs) and resolving a batch against
the store cost a few hundred microseconds of Python per record. In the serving process
they held the interpreter lock most of the time at the design rates, so reads queued
behind writes while the second core idled. ``graphsvc serve`` therefore runs its
:class:`~graphsvc.ingest.ingestor.Ingestor` in a child process: the same class, the same
store, one batch at a time, while the serving process answers reads.

:class:`IngestProcess` has the ingestor's interface (``submit``, ``submit_many``,
``trust``). A batch's results come back after its commit in the child, so a record is
durable before anyone hears it was accepted, as in process. If the child dies or stops
answering, the batches it held fail with :class:`StoreUnavailable` (nothing of them was
acknowledged; a client sends them again and the stored ones come back duplicate), the
death is logged and counted, and the next batch starts a new child.

Inside the child, one thread checks batch k+1 while another stores batch k (libsodium
releases the lock), so batches from concurrent requests overlap as ``submit_many``'s do.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import queue
import signal
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from graphsvc.domain.failures import DiskFull, StoreUnavailable
from graphsvc.domain.outcomes import RecordResult
from graphsvc.ingest.ingestor import CheckedBatch, Ingestor, count_outcomes
from graphsvc.ingest.resolution import EvidenceRules
from graphsvc.logs import LogFormat, configure_logging
from graphsvc.metrics import Metrics
from graphsvc.proofs import TrustedRoots
from graphsvc.store.endpoint import BoltEndpoint
from graphsvc.store.graph_store import GraphStore, refused_by_store

# Connections the child keeps to the store: one batch is written at a time.
CHILD_POOL = 4
# At close, the batch being stored gets this long to end (a healthy store commits one in
# well under 0.1 s; the batches queued behind it are refused: their requests have ended and
# nobody hears their answers); then the child is killed, which loses nothing acknowledged.
# Short, because shutdown has a budget (docs/decisions/0052-bounded-shutdown.md).
STOP_SECONDS = 1.0

log = logging.getLogger(__name__)


class IngestFailed(RuntimeError):
    """The ingest process failed a batch for a reason other than the store's."""


@dataclass(frozen=True)
class IngestConfig:
    """What the child needs to ingest as the serving process would (picklable)."""

    endpoint: BoltEndpoint
    rules: EvidenceRules
    roots: TrustedRoots
    log_format: LogFormat
    connect_timeout: float
    call_timeout: float
    transaction_timeout: float


@dataclass(frozen=True)
class _Report:
    """What the child observed of the store while it worked on one message."""

    transactions: tuple[tuple[bool, float], ...] = ()  # (write, seconds)
    failures: int = 0


class _Child:
    """One child process, its end of the pipe and the calls it has not answered."""

    def __init__(self, config: IngestConfig, on_exit: Callable[[_Child], None]) -> None:
        context = multiprocessing.get_context("spawn")
        self.connection, child_end = context.Pipe()
        self.process = context.Process(
            target=_child_main, args=(child_end, config), name="graphsvc-ingest", daemon=True
        )
        self.process.start()
        child_end.close()
        self.pending: dict[int, Future[Any]] = {}
        self.reports: queue.SimpleQueue[_Report] = queue.SimpleQueue()
        self.alive = True
        self._on_exit = on_exit
        self._reader = threading.Thread(target=self._read, name="ingest-replies", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        while True:
            try:
                kind, number, value, report = self.connection.recv()
            except (EOFError, OSError):
                break
            self.reports.put(report)
            future = self.pending.pop(number, None)
            # None or cancelled: its caller gave up (its request was cancelled).
            if future is None or not future.set_running_or_notify_cancel():
                continue
            if kind == "done":
                future.set_result(value)
            else:
                future.set_exception(value)
        self._on_exit(self)

    def stop(self, seconds: float) -> None:
        """Ask the child to end its batch and exit; kill it after ``seconds``."""
        with contextlib.suppress(OSError):
            self.connection.send(("stop", 0, None))
        self.process.join(seconds)
        self.kill()

    def kill(self) -> None:
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
        self.connection.close()


class IngestProcess:
    """The ingestor's interface, served by a child process started on first use."""

    def __init__(
        self,
        config: IngestConfig,
        *,
        metrics: Metrics,
        answer_seconds: float,
        disk_full: Callable[[], str | None] | None = None,
    ) -> None:
        """``answer_seconds`` bounds the wait for one batch (the child's own store calls
        are bounded too; this catches a child that hangs); ``disk_full`` says whether the
        store's disk is full when the child reports a refused write."""
        self._config = config
        self._metrics = metrics
        self._answer_seconds = answer_seconds
        self._disk_full = disk_full
        self._lock = threading.Lock()
        self._child: _Child | None = None
        self._numbers = 0
        self._closed = False

    def start(self) -> None:
        """Start the child now rather than on the first batch."""
        with self._lock:
            self._running()

    def close(self) -> None:
        """Let the child end the batch it is storing (those queued behind it are refused),
        then stop it; later calls fail."""
        with self._lock:
            self._closed = True
            child, self._child = self._child, None
        if child is not None:
            child.stop(STOP_SECONDS)

    def child_pid(self) -> int | None:
        """The child's process id, while one runs (for tests and operators)."""
        with self._lock:
            child = self._child
        return child.process.pid if child is not None and child.alive else None

    def trust(self, roots: TrustedRoots) -> None:
        """Trust these attestation roots as well from now on, in this child and the next."""
        with self._lock:
            self._config = _with_roots(self._config, roots)
        self._answer(self._send("trust", roots))

    def submit(self, raws: Sequence[object]) -> list[RecordResult]:
        """Ingest one batch in one transaction; one result per record, in input order,
        once it has committed."""
        return self._results(self._send("submit", list(raws)))

    async def submit_async(self, raws: Sequence[object]) -> list[RecordResult]:
        """:meth:`submit` for the event loop: no thread waits while the child works, so
        writes queued behind a slow batch never take the threads reads need."""
        loop = asyncio.get_running_loop()
        future = await loop.run_in_executor(None, self._send, "submit", list(raws))
        waiting = asyncio.wrap_future(future)
        # Never left unretrieved when the wait below gives up first.
        waiting.add_done_callback(lambda done: done.cancelled() or done.exception())
        await asyncio.wait({waiting}, timeout=self._answer_seconds)
        return self._results(future, wait_seconds=0.0)

    def submit_many(self, batches: Iterable[Sequence[object]]) -> Iterator[list[RecordResult]]:
        """:meth:`submit` each batch in turn, the next one sent while one is stored."""
        sent: list[Future[Any]] = []
        for batch in batches:
            sent.append(self._send("submit", list(batch)))
            if len(sent) > 1:
                yield self._results(sent.pop(0))
        for future in sent:
            yield self._results(future)

    def _results(
        self, future: Future[Any], wait_seconds: float | None = None
    ) -> list[RecordResult]:
        results: list[RecordResult] = self._answer(future, wait_seconds)
        count_outcomes(self._metrics, results)
        return results

    def _send(self, kind: str, value: object) -> Future[Any]:
        future: Future[Any] = Future()
        with self._lock:
            child = self._running()
            self._numbers += 1
            child.pending[self._numbers] = future
            try:
                child.connection.send((kind, self._numbers, value))
            except OSError as error:
                child.pending.pop(self._numbers, None)
                raise StoreUnavailable(f"the ingest process is gone: {error}") from None
        return future

    def _answer(self, future: Future[Any], wait_seconds: float | None = None) -> Any:
        """The child's answer, waited for ``wait_seconds`` (default: the answer bound)."""
        try:
            return future.result(self._answer_seconds if wait_seconds is None else wait_seconds)
        except FutureTimeout:
            with self._lock:
                child, self._child = self._child, None
            if child is not None:
                log.error(
                    "the ingest process did not answer within %g s: stopping it; the next "
                    "batch starts a new one",
                    self._answer_seconds,
                )
                self._metrics.ingest_process_exits.inc()
                child.kill()
            raise StoreUnavailable(
                f"the ingest process did not answer within {self._answer_seconds:g} s"
            ) from None
        except _RefusedWrite as refused:
            full = self._disk_full() if self._disk_full is not None else None
            if full is not None:
                raise DiskFull(f"disk full: {full}") from None
            raise IngestFailed(str(refused)) from None
        finally:
            self._observe_reports()

    def _observe_reports(self) -> None:
        """Count in this process's /metrics the store calls the child made."""
        child = self._child
        if child is None:
            return
        calls = self._metrics.store_calls
        while True:
            try:
                report = child.reports.get_nowait()
            except queue.Empty:
                return
            for write, seconds in report.transactions:
                calls.labels("write" if write else "read").observe(seconds)
            if report.failures:
                self._metrics.store_failures.inc(report.failures)

    def _running(self) -> _Child:
        if self._closed:
            raise StoreUnavailable("the ingest process is stopped: the service is closing")
        if self._child is None or not self._child.alive:
            self._child = _Child(self._config, self._exited)
        return self._child

    def _exited(self, child: _Child) -> None:
        """The child's pipe closed: fail what it held; the next batch starts a new one."""
        with self._lock:
            child.alive = False
            pending, child.pending = child.pending, {}
            expected = self._closed or self._child is not child
        child.process.join(STOP_SECONDS)
        code = child.process.exitcode
        for future in pending.values():
            if future.set_running_or_notify_cancel():
                future.set_exception(
                    StoreUnavailable(f"the ingest process stopped (exit code {code}); send again")
                )
        if not expected:
            self._metrics.ingest_process_exits.inc()
            log.error(
                "the ingest process stopped (exit code %s) holding %d batch(es); the next "
                "batch starts a new one",
                code,
                len(pending),
            )


class _RefusedWrite(Exception):
    """The store refused one of the child's writes (the parent asks if the disk is full)."""


def _with_roots(config: IngestConfig, extra: TrustedRoots) -> IngestConfig:
    return IngestConfig(**{**config.__dict__, "roots": config.roots.with_extra(extra.roots)})


# --- the child --------------------------------------------------------------------------


class _Recorder:
    """The child's store observer: what to report with the next answer."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._transactions: list[tuple[bool, float]] = []
        self._failures = 0

    def statement(self, query: str, rows: int, seconds: float) -> None:
        pass

    def transaction(self, *, write: bool, seconds: float) -> None:
        with self._lock:
            self._transactions.append((write, seconds))

    def failed(self) -> None:
        with self._lock:
            self._failures += 1

    def report(self) -> _Report:
        with self._lock:
            report = _Report(tuple(self._transactions), self._failures)
            self._transactions, self._failures = [], 0
        return report


def _child_main(connection: Connection, config: IngestConfig) -> None:
    # Ctrl-C reaches the whole process group; the parent stops this child in order.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    configure_logging(config.log_format)
    recorder = _Recorder()
    with GraphStore(
        config.endpoint,
        max_pool=CHILD_POOL,
        observer=recorder,
        connect_timeout=config.connect_timeout,
        call_timeout=config.call_timeout,
        transaction_timeout=config.transaction_timeout,
    ) as store:
        store.hooks.on_failure = recorder.failed
        ingestor = Ingestor(store, config.rules, roots=config.roots)
        _serve(connection, ingestor, recorder)


_Message = tuple[str, int, Any]


def _serve(connection: Connection, ingestor: Ingestor, recorder: _Recorder) -> None:
    """Check on one thread, store on another, in the order the messages came. Once told to
    stop (or the parent is gone), the batch being stored ends and the others are refused."""
    to_check: queue.SimpleQueue[_Message | None] = queue.SimpleQueue()
    to_store: queue.SimpleQueue[tuple[int, Callable[[], Any]] | None] = queue.SimpleQueue()
    stopping = threading.Event()

    def check() -> None:
        while (message := to_check.get()) is not None:
            kind, number, value = message
            to_store.put((number, _checked_step(ingestor, kind, value)))
        to_store.put(None)

    def store() -> None:
        while (item := to_store.get()) is not None:
            number, step = item
            try:
                if stopping.is_set():
                    raise StoreUnavailable("the ingest process is stopping; send again")
                reply: tuple[str, int, Any, _Report] = ("done", number, step(), recorder.report())
            except Exception as error:
                reply = ("failed", number, _portable(error), recorder.report())
            try:
                connection.send(reply)
            except OSError:
                return  # the parent is gone

    threads = [threading.Thread(target=check), threading.Thread(target=store)]
    for thread in threads:
        thread.start()
    try:
        while True:
            message = connection.recv()
            if message[0] == "stop":
                break
            to_check.put(message)
    except (EOFError, OSError):
        pass  # the parent is gone: nobody hears an answer
    stopping.set()
    to_check.put(None)
    for thread in threads:
        thread.join()


def _checked_step(ingestor: Ingestor, kind: str, value: Any) -> Callable[[], Any]:
    """Do the stateless part of a message now; return the part the storing thread does."""
    if kind == "trust":
        ingestor.trust(value)
        return lambda: None
    try:
        checked: CheckedBatch = ingestor.check(value)
    except Exception as error:
        failure = error
        return lambda: _raise(failure)
    return lambda: ingestor.store_checked(checked)


def _raise(error: Exception) -> None:
    raise error


def _portable(error: Exception) -> Exception:
    """The error as the parent raises it: the store's failures keep their kind, a refused
    write is checked against the disk there, anything else is named."""
    if isinstance(error, StoreUnavailable):
        return type(error)(str(error))
    if refused_by_store(error):
        return _RefusedWrite(f"the store refused the batch: {error}")
    return IngestFailed(f"ingest failed in the ingest process: {type(error).__name__}: {error}")
