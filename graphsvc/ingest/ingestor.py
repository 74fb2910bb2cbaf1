"""Batch ingest: validate, resolve against the store, write in one transaction, answer.

A batch is acknowledged only after its transaction has committed, so an accepted
record is durable before anyone hears it was accepted.
"""

from __future__ import annotations

import asyncio
import collections
import random
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Protocol

from graphsvc.clock import Clock, now_ms
from graphsvc.domain.outcomes import RecordResult, RecordStatus
from graphsvc.ingest.resolution import EvidenceRules, Resolver
from graphsvc.metrics import Metrics
from graphsvc.proofs import TrustedRoots
from graphsvc.records import Record, RecordError, record_id, validate_record
from graphsvc.store import ingest_state
from graphsvc.store.graph_store import GraphStore, WriteConflict
from graphsvc.store.meta import get_meta, set_meta

_RULES_META = "evidence_rules"
# Every batch takes the next leaf indexes of the evidence log, so concurrent writers
# (other processes) collide on them and retry (docs/auditors.md).
_WRITE_ATTEMPTS = 12
_BACKOFF_SECONDS = 0.02


class EvidenceRulesMismatch(RuntimeError):
    """The store's evidence sums were made with other rules than the ones configured."""


def _best_effort_id(raw: object) -> str | None:
    if not isinstance(raw, Mapping):
        return None
    try:
        return record_id(raw)
    except Exception:
        return None


@dataclass
class CheckedBatch:
    """A batch after the stateless checks, before resolution against the store."""

    size: int
    now: int
    results: dict[int, RecordResult] = field(default_factory=dict)  # rejected here
    valid: list[tuple[int, Record]] = field(default_factory=list)
    repeats: dict[int, int] = field(default_factory=dict)  # index -> its first index


class RecordIngest(Protocol):
    """What the service ingests through: an :class:`Ingestor` in this process, or
    ``graphsvc serve``'s ingest process (graphsvc/ingest/ingest_process.py)."""

    def submit(self, raws: Sequence[object]) -> list[RecordResult]: ...

    async def submit_async(self, raws: Sequence[object]) -> list[RecordResult]: ...

    def submit_many(self, batches: Iterable[Sequence[object]]) -> Iterator[list[RecordResult]]: ...

    def trust(self, roots: TrustedRoots) -> None: ...


class Ingestor:
    def __init__(
        self,
        store: GraphStore,
        rules: EvidenceRules,
        *,
        clock: Clock = now_ms,
        metrics: Metrics | None = None,
        roots: TrustedRoots | None = None,
    ) -> None:
        self._store = store
        self._rules = rules
        # Roots trusted for enclaves' attestation documents (the pinned AWS root alone
        # unless the settings add some).
        self._roots = roots or TrustedRoots.default()
        self._clock = clock
        # Every path that ingests comes through here, so outcomes are counted here once.
        self._metrics = metrics
        # Resolution reads then writes; one batch at a time per process keeps that
        # consistent. Other processes are caught by the unique constraints (retry).
        self._lock = threading.Lock()

    def trust(self, roots: TrustedRoots) -> None:
        """Trust these attestation roots as well from now on (``serve --demo``'s own root)."""
        self._roots = self._roots.with_extra(roots.roots)

    def ensure_rules(self) -> None:
        """Record the evidence rules on first use; refuse a store summed with others."""
        wanted = _rules_value(self._rules)
        stored = get_meta(self._store, _RULES_META)
        if stored is None:
            set_meta(self._store, _RULES_META, wanted)
        elif stored != wanted:
            raise EvidenceRulesMismatch(
                f"the store's evidence was summed with {stored}, but the settings say "
                f"{wanted}; use the store's half-life and proof weights"
            )

    def submit(self, raws: Sequence[object]) -> list[RecordResult]:
        """Ingest one batch in one transaction; one result per record, in input order.

        The results come back after the commit: an accepted record is durable.
        """
        return self.store_checked(self.check(raws))

    async def submit_async(self, raws: Sequence[object]) -> list[RecordResult]:
        """:meth:`submit` from the event loop, on a worker thread."""
        return await asyncio.to_thread(self.submit, raws)

    def submit_many(self, batches: Iterable[Sequence[object]]) -> Iterator[list[RecordResult]]:
        """:meth:`submit` each batch in turn, checking the next batch while one is stored.

        Each batch is still its own transaction, resolved after the previous one has
        committed, and its results are yielded after its commit, so the outcome is the
        same as calling :meth:`submit` batch by batch. Only the stateless checks
        (schemas, signatures) of batch k+1 run in a worker thread while batch k is
        resolved and written: libsodium releases the GIL, and the database works on the
        other core.
        """
        with ThreadPoolExecutor(1, thread_name_prefix="graphsvc-check") as pool:
            pending: Future[CheckedBatch] | None = None
            for batch in batches:
                upcoming = pool.submit(self.check, batch)
                if pending is not None:
                    yield self.store_checked(pending.result())
                pending = upcoming
            if pending is not None:
                yield self.store_checked(pending.result())

    def check(self, raws: Sequence[object]) -> CheckedBatch:
        """The stateless checks: validate each record on its own (schema, signatures,
        proofs) and drop repeats within the batch. Safe on any thread, concurrently with
        :meth:`store_checked` of an earlier batch."""
        checked = CheckedBatch(size=len(raws), now=self._clock())
        first_index: dict[str, int] = {}
        for index, raw in enumerate(raws):
            try:
                record = validate_record(raw, now_ms=checked.now, roots=self._roots)
            except RecordError as error:
                checked.results[index] = RecordResult(
                    index, _best_effort_id(raw), RecordStatus.REJECTED, str(error)
                )
                continue
            if record.id in first_index:
                checked.repeats[index] = first_index[record.id]
                continue
            first_index[record.id] = index
            checked.valid.append((index, record))
        return checked

    def store_checked(self, checked: CheckedBatch) -> list[RecordResult]:
        """Resolve a checked batch against the store and write it in one transaction
        (one batch at a time); its results, in input order, after the commit."""
        results = checked.results
        if checked.valid:
            for result in self._resolve_and_write(checked.valid, checked.now):
                results[result.index] = result
        for index, first in checked.repeats.items():
            results[index] = _repeat_of(results[first], index)
        answers = [results[index] for index in range(checked.size)]
        if self._metrics is not None:
            count_outcomes(self._metrics, answers)
        return answers

    def _resolve_and_write(self, records: list[tuple[int, Record]], now: int) -> list[RecordResult]:
        with self._lock:
            for attempt in range(_WRITE_ATTEMPTS):
                state = ingest_state.known_state(self._store, [r for _, r in records])
                resolver = Resolver(state, self._rules)
                results = resolver.resolve(records)
                try:
                    ingest_state.write_plan(
                        self._store,
                        resolver.plan,
                        now_ms=now,
                        half_life_ms=self._rules.half_life_ms,
                    )
                except WriteConflict:
                    # Another process wrote one of these records, or took the same leaf
                    # indexes, meanwhile: resolve again against what it wrote, after a
                    # short random pause so that writers colliding again is unlikely.
                    if attempt == _WRITE_ATTEMPTS - 1:
                        raise
                    time.sleep(random.uniform(0, _BACKOFF_SECONDS * (attempt + 1)))
                    continue
                return results
        raise AssertionError("unreachable")


def count_outcomes(metrics: Metrics, answers: Sequence[RecordResult]) -> None:
    """Count one stored batch's answers in /metrics (every ingest path comes here)."""
    metrics.ingest_batches.observe(len(answers))
    for status, count in collections.Counter(a.status for a in answers).items():
        metrics.records.labels(str(status)).inc(count)


def _repeat_of(first: RecordResult, index: int) -> RecordResult:
    """A record repeated within a batch shares its first copy's fate: a duplicate of it
    when it was stored (or already was), rejected with it when it was rejected."""
    if first.status is RecordStatus.REJECTED:
        reason = f"same record as index {first.index}, rejected: {first.reason}"
        return RecordResult(index, first.id, RecordStatus.REJECTED, reason)
    return RecordResult(
        index, first.id, RecordStatus.DUPLICATE, f"same record as index {first.index}"
    )


def _rules_value(rules: EvidenceRules) -> str:
    weights = ",".join(f"{k}={v!r}" for k, v in sorted(rules.proof_weights.items()))
    return f"half_life_ms={float(rules.half_life_ms)!r};proof_weights={weights}"
