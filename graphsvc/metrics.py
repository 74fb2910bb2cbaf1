"""Prometheus metrics, in a registry of their own per app (no global state).

Every path counts here: the records counter is fed by the ingestor (``POST /records``,
``submitRecords`` and the CLI alike), GraphQL operations by a schema extension, store
calls by the store's observer hook, recomputes by the reputation service.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.gc_collector import GCCollector
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector

# Recomputes take from milliseconds (demo) to tens of seconds (millions of edges).
RECOMPUTE_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)
# Store transactions: a cached read is a millisecond, a large ingest batch seconds.
STORE_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
BATCH_BUCKETS = (1, 10, 100, 500, 1_000, 5_000, 10_000)

# GraphQL operation names come from clients: only plain names are labels, and at most
# this many distinct ones, so a client cannot grow the registry without bound.
MAX_OPERATION_NAMES = 200
_OPERATION_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
OTHER_OPERATION = "other"
ANONYMOUS_OPERATION = "anonymous"


@dataclass
class Metrics:
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)
    _operation_names: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        # The process's CPU, memory and file descriptors, Python's GC and version, in
        # this registry (prometheus_client registers them only in its global one).
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        GCCollector(registry=self.registry)
        self.records = Counter(
            "graphsvc_records_total",
            "Records submitted on any path (HTTP, GraphQL, CLI), by outcome.",
            ["status"],
            registry=self.registry,
        )
        self.requests = Histogram(
            "graphsvc_http_request_seconds",
            "HTTP request latency, by route.",
            ["route"],
            registry=self.registry,
        )
        self.answer_cache = Counter(
            "graphsvc_answer_cache_total",
            "GraphQL requests over HTTP by what the answer cache did: hit, miss (computed, "
            "kept if it succeeded), uncacheable (live data, a mutation, no snapshot).",
            ["outcome"],
            registry=self.registry,
        )
        self.recomputes = Counter(
            "graphsvc_recomputes_total",
            "Reputation recomputes, by outcome (ok, failed).",
            ["outcome"],
            registry=self.registry,
        )
        self.recompute_seconds = Histogram(
            "graphsvc_recompute_seconds",
            "Time of each phase of a recompute (load, compute, explain, persist).",
            ["phase"],
            buckets=RECOMPUTE_BUCKETS,
            registry=self.registry,
        )
        self.snapshot_entities = Gauge(
            "graphsvc_snapshot_entities",
            "Entities scored by the newest recompute of this process.",
            registry=self.registry,
        )
        self.log_publications = Counter(
            "graphsvc_log_checkpoints_total",
            "Evidence-log checkpoint publications, by outcome (ok, failed).",
            ["outcome"],
            registry=self.registry,
        )
        self.graphql_cost = Histogram(
            "graphsvc_graphql_operation_cost",
            "Estimated cost of each GraphQL operation, refused ones included.",
            buckets=(1, 10, 100, 1_000, 10_000, 50_000, 100_000, 1_000_000, 10_000_000),
            registry=self.registry,
        )
        self.log_rebuilds = Counter(
            "graphsvc_log_tree_rebuilds_total",
            "Times the evidence log's tree files disagreed with the store and were rebuilt.",
            registry=self.registry,
        )
        self.log_size = Gauge(
            "graphsvc_log_size",
            "Leaves in the newest checkpoint this process published.",
            registry=self.registry,
        )
        self.snapshot_edges = Gauge(
            "graphsvc_snapshot_edges",
            "Evidence edges the newest recompute of this process scored.",
            registry=self.registry,
        )
        self.ingest_batches = Histogram(
            "graphsvc_ingest_batch_records",
            "Records in each ingest batch (one transaction).",
            buckets=BATCH_BUCKETS,
            registry=self.registry,
        )
        self.store_calls = Histogram(
            "graphsvc_store_transaction_seconds",
            "Store transactions that completed, by kind (read, write), with their time.",
            ["kind"],
            buckets=STORE_BUCKETS,
            registry=self.registry,
        )
        self.graphql_operations = Histogram(
            "graphsvc_graphql_operation_seconds",
            "GraphQL operations by type, name and outcome (ok; error: a field failed; "
            "invalid: the request did not parse, validate or coerce), with duration.",
            ["type", "name", "outcome"],
            registry=self.registry,
        )
        self.ingest_process_exits = Counter(
            "graphsvc_ingest_process_exits_total",
            "Times the ingest process died or stopped answering and was replaced "
            "(docs/decisions/0090-ingest-in-its-own-process.md).",
            registry=self.registry,
        )
        self.store_failures = Counter(
            "graphsvc_store_failures_total",
            "Store calls that failed: the store did not answer in time or was unreachable.",
            registry=self.registry,
        )

    def operation_label(self, name: object) -> str:
        """A bounded label for a client's operation name (whatever JSON it sent)."""
        if name is None or name == "":
            return ANONYMOUS_OPERATION
        if not isinstance(name, str):
            return OTHER_OPERATION
        if name in self._operation_names:
            return name
        if len(self._operation_names) >= MAX_OPERATION_NAMES or not _OPERATION_NAME.fullmatch(name):
            return OTHER_OPERATION
        self._operation_names.add(name)
        return name


class StoreCallMetrics:
    """The store's observer (``graphsvc.store.graph_store.StoreObserver``): times every
    transaction into :attr:`Metrics.store_calls`."""

    def __init__(self, metrics: Metrics) -> None:
        self._read = metrics.store_calls.labels("read")
        self._write = metrics.store_calls.labels("write")

    def statement(self, query: str, rows: int, seconds: float) -> None:
        pass  # transactions are what callers wait for; statements would be labels galore

    def transaction(self, *, write: bool, seconds: float) -> None:
        (self._write if write else self._read).observe(seconds)
