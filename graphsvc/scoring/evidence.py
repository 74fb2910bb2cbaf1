"""The scorer's input: every piece of evidence as flat arrays over entity indices.

A row ``(ref_ms, amount)`` weighs ``amount * 2 ** (-(T - ref_ms) / H)`` at scoring time
``T``. A single event is a row with ``ref_ms`` = its time and ``amount`` = its weight; a
running sum kept at ingest is a row with ``ref_ms`` = its newest event and
``amount = sum(q * 2 ** ((t - ref_ms) / H))`` (every exponent <= 0, so no overflow for any
H). Rows whose amount was aggregated with a half-life carry it in
``aggregated_half_life_ms`` so a scorer with another H refuses them instead of
silently mixing half-lives.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import IntEnum

import numpy as np
import numpy.typing as npt

from graphsvc.domain import EntityKind

# Fixed codes so arrays, exports and digests do not depend on enum declaration order.
KIND_CODES: dict[EntityKind, int] = {
    EntityKind.PROVIDER: 0,
    EntityKind.MODEL: 1,
    EntityKind.NODE: 2,
    EntityKind.WITNESS: 3,
    EntityKind.REQUESTER: 4,
}
KINDS_BY_CODE: dict[int, EntityKind] = {code: kind for kind, code in KIND_CODES.items()}


class Channel(IntEnum):
    """Why a positive evidence edge exists."""

    COSIGN = 0  # requester -> model / node: a receipt the requester co-signed
    ATTEST = 1  # witness -> node / model: a `valid` attestation
    RATING = 2  # rater -> ratee: a positive rating (trust-network replay)


class FaultCause(IntEnum):
    """Why a fault row exists; its source is the party that reported or caused it."""

    ATTESTED_INVALID = 0  # a witness attested `invalid` naming this node or model
    WITNESS_MINORITY = 1  # this witness voted against the majority on a receipt
    REJECTED_DISPUTE = 2  # this requester disputed a receipt all witnesses found valid
    NEGATIVE_RATING = 3  # a rater gave this entity a negative rating (replay)


IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


def weighted_counts(index: IntArray, weights: FloatArray, n: int) -> FloatArray:
    """``out[i] = sum weights[index == i]`` for ``i < n``: a sequential, fixed-order sum."""
    out: FloatArray = np.bincount(index, weights=weights, minlength=n).astype(
        np.float64, copy=False
    )
    return out


def distinct(index: IntArray, n: int) -> IntArray:
    """The distinct entity indices in ``index``, ascending (``np.unique``'s answer, found
    by counting over the ``n`` entities instead of hashing: a replay asks at every
    checkpoint, with a quarter of a million raters)."""
    found: IntArray = np.flatnonzero(np.bincount(index, minlength=n)).astype(np.int64)
    return found


def _ints(values: object = ()) -> IntArray:
    return np.asarray(values, dtype=np.int64)


def _floats(values: object = ()) -> FloatArray:
    return np.asarray(values, dtype=np.float64)


@dataclass(frozen=True, eq=False)
class Evidence:
    """All evidence as of one instant; entity indices point into ``entity_ids``.

    ``entity_ids`` are sorted, so two stores holding the same evidence build identical
    arrays whatever order it arrived in.
    """

    entity_ids: tuple[str, ...]
    entity_kinds: IntArray  # KIND_CODES per entity

    # Positive, decaying evidence edges.
    edge_src: IntArray = field(default_factory=_ints)
    edge_dst: IntArray = field(default_factory=_ints)
    edge_channel: IntArray = field(default_factory=_ints)  # Channel
    edge_ref_ms: IntArray = field(default_factory=_ints)
    edge_amount: FloatArray = field(default_factory=_floats)

    # Structural, non-decaying edges: model -> provider and provider -> model.
    struct_src: IntArray = field(default_factory=_ints)
    struct_dst: IntArray = field(default_factory=_ints)

    # Faults: decaying weight on `fault_party`, reported by or caused by `fault_source`.
    fault_party: IntArray = field(default_factory=_ints)
    fault_source: IntArray = field(default_factory=_ints)
    fault_cause: IntArray = field(default_factory=_ints)  # FaultCause
    fault_ref_ms: IntArray = field(default_factory=_ints)
    fault_amount: FloatArray = field(default_factory=_floats)

    # Trusted entities the personalization vector's seed part spreads over.
    seeds: IntArray = field(default_factory=_ints)

    # Half-life (ms) the aggregated amounts were summed with; None when rows are events.
    aggregated_half_life_ms: int | None = None

    @property
    def entity_count(self) -> int:
        return len(self.entity_ids)


# How far ahead of the clock that accepts it a record may be stamped (equal to
# records.validation.MAX_FUTURE_MS; tests/test_attacks.py keeps them equal).
AHEAD_TOLERANCE_MS = 5 * 60 * 1000


def counted_at_most_at(evidence: Evidence, as_of_ms: int) -> Evidence:
    """``evidence`` with rows stamped after ``as_of_ms``, by at most
    ``AHEAD_TOLERANCE_MS``, counted as of ``as_of_ms`` (age 0: a running sum is then
    weighed at most 2^(5 min / H) too little, 0.008 % at 30 days). A record stamped a
    little ahead of the clock that accepted it must neither move a snapshot's time ahead
    of that clock nor be refused at the clock's time. Rows further ahead are left as
    they are, for validation to refuse. Deterministic, so reproduction gives the same."""

    def clamped(ref: IntArray) -> IntArray:
        ahead = (ref > as_of_ms) & (ref <= as_of_ms + AHEAD_TOLERANCE_MS)
        return np.where(ahead, np.int64(as_of_ms), ref) if ahead.any() else ref

    edge, fault = clamped(evidence.edge_ref_ms), clamped(evidence.fault_ref_ms)
    if edge is evidence.edge_ref_ms and fault is evidence.fault_ref_ms:
        return evidence
    return replace(evidence, edge_ref_ms=edge, fault_ref_ms=fault)
