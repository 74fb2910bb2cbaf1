"""Prometheus metrics, in a registry of their own per app (no global state)."""

from __future__ import annotations

from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

# Recomputes take from milliseconds (demo) to tens of seconds (millions of edges).
RECOMPUTE_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)


@dataclass
class Metrics:
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        self.records = Counter(
            "graphsvc_records_total",
            "Records submitted, by outcome.",
            ["status"],
            registry=self.registry,
        )
        self.requests = Histogram(
            "graphsvc_http_request_seconds",
            "HTTP request latency, by route.",
            ["route"],
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
        self.store_failures = Counter(
            "graphsvc_store_failures_total",
            "Store calls that failed: the store did not answer in time or was unreachable.",
            registry=self.registry,
        )
