"""The domain: the vocabulary and the plain data types every layer shares.

The vocabulary (kinds, record types, proofs, verdicts) is re-exported here; the data
types live in their modules (``entities``, ``trail``, ``snapshots``, ``outcomes``). Pure:
nothing here reads a store or a clock.
"""

from graphsvc.domain.vocabulary import (
    DEPENDENCY_ORDER,
    PROOF_STRENGTH,
    REGISTRABLE_KINDS,
    SIGNER_KIND,
    EntityKind,
    FaultParty,
    ImageStatus,
    ProofStatus,
    ProofType,
    RecordType,
    Verdict,
)

__all__ = [
    "DEPENDENCY_ORDER",
    "PROOF_STRENGTH",
    "REGISTRABLE_KINDS",
    "SIGNER_KIND",
    "EntityKind",
    "FaultParty",
    "ImageStatus",
    "ProofStatus",
    "ProofType",
    "RecordType",
    "Verdict",
]
