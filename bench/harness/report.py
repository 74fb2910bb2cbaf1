"""The report: progress lines, percentiles, latency rows, markdown tables."""

from __future__ import annotations

import math
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from harness.load import Result


def progress(message: str) -> None:
    """A progress line on stderr, so stdout stays the report."""
    print(f"[{Path(sys.argv[0]).stem} bench] {message}", file=sys.stderr, flush=True)


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Nearest rank: the smallest value with at least q of the values at or below it."""
    if not sorted_values:
        return math.nan
    return sorted_values[max(0, math.ceil(q * len(sorted_values)) - 1)]


@dataclass(frozen=True)
class LatencyRow:
    """Latency percentiles (ms) of a group of results, errors included."""

    name: str
    rate: float
    achieved: float  # answered without error per second
    n: int
    errors: int
    p50: float
    p90: float
    p99: float
    max: float
    lag99: float  # how late the client sent, p99
    target: float | None = None

    @classmethod
    def of(cls, name: str, rate: float, results: list[Result], target: float | None) -> LatencyRow:
        latencies = sorted(r.latency * 1e3 for r in results)
        lags = sorted(r.lag * 1e3 for r in results)
        ok = sum(r.ok for r in results)
        span = max(r.done for r in results) - min(r.scheduled for r in results)
        return cls(
            name, rate, ok / span if span > 0 else math.nan, len(results), len(results) - ok,
            percentile(latencies, 0.50), percentile(latencies, 0.90),
            percentile(latencies, 0.99), latencies[-1], percentile(lags, 0.99), target,
        )  # fmt: skip

    @property
    def met(self) -> str:
        """Whether the p99 target is met (only without errors); '' without a target."""
        if self.target is None:
            return ""
        return "yes" if self.p99 <= self.target and not self.errors else "NO"


def table(columns: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    """Print a markdown table; cells are printed as given (format them first)."""
    print("| " + " | ".join(columns) + " |")
    print("|" + "---|" * len(columns))
    for row in rows:
        print("| " + " | ".join(str(cell) for cell in row) + " |")
