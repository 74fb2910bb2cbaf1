"""Evidence to bytes and back, exactly: what a snapshot keeps to be reproduced later."""

from __future__ import annotations

from graphsvc.scoring import columns
from graphsvc.scoring.digest import EVIDENCE_ARRAYS
from graphsvc.scoring.evidence import Evidence

_MAGIC = b"graphsvc-evidence-v1\n"


def evidence_to_bytes(evidence: Evidence) -> bytes:
    """A compressed, self-describing encoding; equal evidence gives equal bytes."""
    header = {
        "ids": list(evidence.entity_ids),
        "aggregated_half_life_ms": evidence.aggregated_half_life_ms,
    }
    arrays = [(name, dtype, getattr(evidence, name)) for name, dtype in EVIDENCE_ARRAYS]
    return columns.pack(_MAGIC, header, arrays)
