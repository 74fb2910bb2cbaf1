"""What ingest answers for each submitted record."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class RecordStatus(StrEnum):
    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"
    REJECTED = "rejected"


@dataclass(frozen=True)
class RecordResult:
    index: int
    id: str | None
    status: RecordStatus
    reason: str | None = None
