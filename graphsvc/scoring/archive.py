"""Evidence to bytes and back, exactly: what a snapshot keeps to be reproduced later."""

from __future__ import annotations

import io
import json
import zlib

import numpy as np

from graphsvc.scoring.digest import EVIDENCE_ARRAYS
from graphsvc.scoring.evidence import Evidence

_MAGIC = b"graphsvc-evidence-v1\n"


def evidence_to_bytes(evidence: Evidence) -> bytes:
    """A compressed, self-describing encoding; equal evidence gives equal bytes."""
    buffer = io.BytesIO()
    header = {
        "ids": list(evidence.entity_ids),
        "aggregated_half_life_ms": evidence.aggregated_half_life_ms,
        "arrays": [
            [name, dtype, int(getattr(evidence, name).size)] for name, dtype in EVIDENCE_ARRAYS
        ],
    }
    encoded = json.dumps(header, separators=(",", ":")).encode()
    buffer.write(len(encoded).to_bytes(8, "little"))
    buffer.write(encoded)
    for name, dtype in EVIDENCE_ARRAYS:
        buffer.write(np.ascontiguousarray(getattr(evidence, name), dtype=dtype).tobytes())
    return _MAGIC + zlib.compress(buffer.getvalue(), level=6)


def evidence_from_bytes(data: bytes) -> Evidence:
    if not data.startswith(_MAGIC):
        raise ValueError("not a graphsvc evidence archive")
    raw = zlib.decompress(data[len(_MAGIC) :])
    size = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8 : 8 + size])
    offset = 8 + size
    arrays: dict[str, np.ndarray] = {}
    for name, dtype, count in header["arrays"]:
        width = np.dtype(dtype).itemsize * count
        arrays[name] = np.frombuffer(raw, dtype=dtype, count=count, offset=offset).astype(
            np.float64 if dtype.endswith("f8") else np.int64
        )
        offset += width
    return Evidence(
        entity_ids=tuple(header["ids"]),
        aggregated_half_life_ms=header["aggregated_half_life_ms"],
        **arrays,
    )
