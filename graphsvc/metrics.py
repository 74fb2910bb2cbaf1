"""Prometheus metrics, in a registry of their own per app (no global state)."""

from __future__ import annotations

from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Histogram


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
            "graphsvc_recomputes_total", "Reputation recomputes.", registry=self.registry
        )
