"""Ingest many records at once: dependency-ordered, chunked, with a progress bar."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from tqdm import tqdm

from graphsvc.domain import DEPENDENCY_ORDER, RecordType
from graphsvc.domain.outcomes import RecordResult, RecordStatus
from graphsvc.ingest.ingestor import Ingestor

CHUNK = 2_000


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
    ingestor: Ingestor,
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
    # disable=None: a bar on a terminal, silence in logs and pipes.
    with tqdm(
        total=len(records), unit="rec", desc=description, disable=None if progress else True
    ) as bar:
        chunks = [order[start : start + chunk] for start in range(0, len(order), chunk)]
        # submit_many checks the next chunk's signatures while this one is written.
        batches = ([records[i] for i in indices] for indices in chunks)
        for indices, results in zip(chunks, ingestor.submit_many(batches), strict=True):
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
