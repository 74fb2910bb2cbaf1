"""The vocabulary shared by records, store, scoring and API: kinds, record types,
proofs, verdicts, and the tables that relate them."""

from __future__ import annotations

from enum import StrEnum


class EntityKind(StrEnum):
    PROVIDER = "provider"
    MODEL = "model"
    NODE = "node"
    WITNESS = "witness"
    REQUESTER = "requester"


class RecordType(StrEnum):
    REGISTER = "register"
    MODEL = "model"
    RECEIPT = "receipt"
    ATTESTATION = "attestation"
    DISPUTE = "dispute"


class ProofType(StrEnum):
    TEE = "tee"
    ZK = "zk"
    NONE = "none"


# Weakest to strongest. ZK ranks above TEE: anyone can check a zk proof without
# trusting a hardware vendor's attestation keys.
PROOF_STRENGTH = {ProofType.NONE: 0, ProofType.TEE: 1, ProofType.ZK: 2}


class Verdict(StrEnum):
    VALID = "valid"
    INVALID = "invalid"


class FaultParty(StrEnum):
    NODE = "node"
    MODEL = "model"


# Which kind must sign each record type (docs/design.md §1); register is signed by the key itself.
SIGNER_KIND: dict[RecordType, EntityKind | None] = {
    RecordType.REGISTER: None,
    RecordType.MODEL: EntityKind.PROVIDER,
    RecordType.RECEIPT: EntityKind.NODE,
    RecordType.ATTESTATION: EntityKind.WITNESS,
    RecordType.DISPUTE: EntityKind.REQUESTER,
}

# Kinds a key may register as (models are named by provider records, not keys).
REGISTRABLE_KINDS = (
    EntityKind.PROVIDER,
    EntityKind.NODE,
    EntityKind.WITNESS,
    EntityKind.REQUESTER,
)

# Records reference earlier records only along this order, so sorting a batch by it
# resolves every in-batch reference in one pass.
DEPENDENCY_ORDER: dict[RecordType, int] = {
    RecordType.REGISTER: 0,
    RecordType.MODEL: 1,
    RecordType.RECEIPT: 2,
    RecordType.ATTESTATION: 3,
    RecordType.DISPUTE: 3,
}
