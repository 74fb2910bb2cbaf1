"""A content digest of what a score was computed from: evidence, parameters and T.

Equal inputs give equal digests; any change to an id, a row, a parameter or T changes
it. Arrays are hashed in a fixed little-endian layout with their names and lengths, so
the digest does not depend on the platform or on how the arrays were allocated.
"""

from __future__ import annotations

import hashlib
import json

import numpy as np

from graphsvc.scoring.evidence import Evidence
from graphsvc.scoring.params import ScoringParams

_VERSION = b"graphsvc-evidence-digest-v1\n"

# Field name -> canonical dtype; order is part of the format.
EVIDENCE_ARRAYS: tuple[tuple[str, str], ...] = (
    ("entity_kinds", "<i8"),
    ("edge_src", "<i8"),
    ("edge_dst", "<i8"),
    ("edge_channel", "<i8"),
    ("edge_ref_ms", "<i8"),
    ("edge_amount", "<f8"),
    ("struct_src", "<i8"),
    ("struct_dst", "<i8"),
    ("fault_party", "<i8"),
    ("fault_source", "<i8"),
    ("fault_cause", "<i8"),
    ("fault_ref_ms", "<i8"),
    ("fault_amount", "<f8"),
    ("seeds", "<i8"),
)


# Parameters added after digests were first stored: they enter a digest only when set
# away from their default, so snapshots stored before them keep their digest.
LATER_PARAMS = ("risk_prior_strength",)


def _digested_params(params: ScoringParams) -> dict[str, float | int]:
    defaults = ScoringParams().to_dict()
    return {
        name: value
        for name, value in params.to_dict().items()
        if name not in LATER_PARAMS or value != defaults[name]
    }


def evidence_digest(evidence: Evidence, params: ScoringParams, as_of_ms: int) -> str:
    """``"sha256:" + hex`` over ids, every evidence array, the parameters and ``as_of_ms``."""
    h = hashlib.sha256(_VERSION)
    ids = evidence.entity_ids
    joined = "\x00".join(ids)
    if joined.count("\x00") != max(len(ids) - 1, 0):
        # An id itself contains NUL: fall back to an escaping encoding to stay unambiguous.
        joined = json.dumps(list(ids))
    encoded = joined.encode("utf-8")
    h.update(f"ids {len(ids)} {len(encoded)}\n".encode())
    h.update(encoded)
    for name, dtype in EVIDENCE_ARRAYS:
        array = np.ascontiguousarray(getattr(evidence, name), dtype=dtype)
        h.update(f"\n{name} {dtype} {array.size}\n".encode())
        # hashlib releases the GIL and reads the buffer in place: no copy of large arrays.
        h.update(array.data.cast("B"))
    meta = {
        "aggregated_half_life_ms": evidence.aggregated_half_life_ms,
        "as_of_ms": int(as_of_ms),
        "params": _digested_params(params),
    }
    h.update(b"\nmeta ")
    h.update(json.dumps(meta, sort_keys=True, separators=(",", ":")).encode())
    return "sha256:" + h.hexdigest()
