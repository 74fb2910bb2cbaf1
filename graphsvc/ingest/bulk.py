"""Ingest many records at once: dependency-ordered, chunked, with a progress bar."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from graphsvc.domain import DEPENDENCY_ORDER, RecordType
from graphsvc.domain.outcomes import RecordResult, RecordStatus
from graphsvc.progress import Progress

CHUNK = 2_000

# Submits batches in turn, yielding each batch's results (indices within the batch):
# ``Ingestor.submit_many`` in this process, or a running server's ``POST /records``.
SubmitMany = Callable[[Iterable[Sequence[object]]], Iterator[list[RecordResult]]]


@dataclass
class IngestSummary:
    accepted: int = 0
    duplicate: int = 0
    rejected: list[RecordResult] = field(default_factory=list)

    def line(self) -> str:
        return f"accepted={self.accepted} duplicate={self.duplicate} rejected={len(self.rejected)}"


def _dependency_rank(raw: object) -> int:
    kind = raw.get("type") if isinstance(raw, dict) else None
    try:
        return DEPENDENCY_ORDER[RecordType(str(kind))]
    except ValueError:
        return len(DEPENDENCY_ORDER)


def ingest_records(
    submit_many: SubmitMany,
    records: Sequence[object],
    *,
    progress: bool = True,
    chunk: int = CHUNK,
    description: str = "ingest",
) -> IngestSummary:
    """Submit ``records`` in chunks; results keep the caller's indices.

    Records are sent in dependency order (registrations, models, receipts, then
    attestations and disputes), so a file may list them in any order.
    """
    order = sorted(range(len(records)), key=lambda i: (_dependency_rank(records[i]), i))
    summary = IngestSummary()
    with Progress(description, len(records), enabled=progress) as bar:
        chunks = [order[start : start + chunk] for start in range(0, len(order), chunk)]
        # Ingestor.submit_many checks the next chunk's signatures while this one is written.
        batches = ([records[i] for i in indices] for indices in chunks)
        for indices, results in zip(chunks, submit_many(batches), strict=True):
            for result in results:
                original = indices[result.index]
                if result.status is RecordStatus.ACCEPTED:
                    summary.accepted += 1
                elif result.status is RecordStatus.DUPLICATE:
                    summary.duplicate += 1
                else:
                    summary.rejected.append(
                        RecordResult(original, result.id, result.status, result.reason)
                    )
            bar.update(len(indices))
    summary.rejected.sort(key=lambda r: r.index)
    return summary
