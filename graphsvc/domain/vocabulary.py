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
    # A provider publishes an enclave image's measurements
    # (docs/reference.md#checked-proofs-enclaves-and-images).
    IMAGE = "image"
    # A node registers an attested enclave: its attestation document and signing key.
    ENCLAVE = "enclave"
    # A response of the OpenGradient TEE gateway, signed by a registered enclave; stored
    # without its prompt and answer (docs/reference.md#opengradient-gateway-responses).
    OPENGRADIENT = "opengradient"


class ProofType(StrEnum):
    TEE = "tee"
    ZK = "zk"
    NONE = "none"


class ProofStatus(StrEnum):
    """Whether graphsvc checked a receipt's proof (docs/decisions/0071-proof-status.md)."""

    # The enclave's signature over the receipt's hashes verified with a key that an
    # attestation document bound; the enclave was registered by the receipt's node.
    VERIFIED = "verified"
    # The node's word: a tee or zk type with nothing graphsvc could check, or none.
    CLAIMED = "claimed"


class ImageStatus(StrEnum):
    """Whether an enclave's measurements match an image a provider published."""

    KNOWN = "known"
    UNKNOWN = "unknown"
    # A debug-mode enclave: its measurements are zero and prove nothing.
    DEBUG = "debug"


# Weakest to strongest. ZK ranks above TEE: anyone can check a zk proof without
# trusting a hardware vendor's attestation keys.
PROOF_STRENGTH = {ProofType.NONE: 0, ProofType.TEE: 1, ProofType.ZK: 2}


class Verdict(StrEnum):
    VALID = "valid"
    INVALID = "invalid"


class FaultParty(StrEnum):
    NODE = "node"
    MODEL = "model"


# Which kind must sign each record type (docs/reference.md#records); register is signed by the key
# itself.
SIGNER_KIND: dict[RecordType, EntityKind | None] = {
    RecordType.REGISTER: None,
    RecordType.MODEL: EntityKind.PROVIDER,
    RecordType.RECEIPT: EntityKind.NODE,
    RecordType.ATTESTATION: EntityKind.WITNESS,
    RecordType.DISPUTE: EntityKind.REQUESTER,
    RecordType.IMAGE: EntityKind.PROVIDER,
    RecordType.ENCLAVE: EntityKind.NODE,
    # Signed by an enclave's key, not an entity's; the enclave's node answers for it.
    RecordType.OPENGRADIENT: None,
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
    RecordType.IMAGE: 1,
    RecordType.ENCLAVE: 2,
    RecordType.RECEIPT: 3,
    RecordType.OPENGRADIENT: 3,
    RecordType.ATTESTATION: 4,
    RecordType.DISPUTE: 4,
}
