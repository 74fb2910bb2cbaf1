"""Make signed records of every type from actors' keys: for tools, seed data and tests.

Keys can be derived from a name and a secret, so a generator with a fixed seed makes
the same identities and records every run.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from typing import Any

from nacl.signing import SigningKey

from graphsvc.domain import EntityKind, FaultParty, ProofType, RecordType, Verdict
from graphsvc.records.canonical import record_id
from graphsvc.records.keys import signer_id
from graphsvc.records.signing import cosign, sign

Signed = dict[str, Any]


@dataclass(frozen=True)
class Actor:
    """A key that signs records: a provider, node, witness or requester."""

    key: SigningKey
    name: str
    kind: EntityKind

    @property
    def id(self) -> str:
        return signer_id(self.key)

    @classmethod
    def derived(cls, name: str, kind: EntityKind, secret: str = "graphsvc") -> Actor:
        """A deterministic key from ``secret`` and ``name``; for demos and tests only."""
        seed = hashlib.sha256(f"{secret}/{kind}/{name}".encode()).digest()
        return cls(SigningKey(seed), name, kind)

    @classmethod
    def generated(cls, name: str, kind: EntityKind) -> Actor:
        return cls(SigningKey.generate(), name, kind)


def register(actor: Actor, ts: int) -> Signed:
    return sign(
        {"type": RecordType.REGISTER.value, "kind": actor.kind.value, "name": actor.name, "ts": ts},
        actor.key,
    )


def publish_model(provider: Actor, model: str, digest: str, ts: int) -> Signed:
    return sign(
        {"type": RecordType.MODEL.value, "model": model, "digest": digest, "ts": ts},
        provider.key,
    )


def receipt(
    node: Actor,
    model: str,
    input_hash: str,
    output_hash: str,
    ts: int,
    *,
    proof: ProofType = ProofType.TEE,
    measurement: str | None = None,
    requester: Actor | None = None,
    enclave: tuple[str, str] | None = None,
) -> Signed:
    """``enclave``: (enclave id, its signature over the hashes) for a verified tee proof."""
    proof_body: dict[str, Any] = {"type": proof.value}
    if measurement is not None:
        proof_body["measurement"] = measurement
    if enclave is not None:
        proof_body["enclave"], proof_body["signature"] = enclave
    body: dict[str, Any] = {
        "type": RecordType.RECEIPT.value,
        "signer": node.id,
        "ts": ts,
        "model": model,
        "input_hash": input_hash,
        "output_hash": output_hash,
        "proof": proof_body,
    }
    if requester is not None:
        body = cosign(body, requester.key)
    return sign(body, node.key)


def attestation(
    witness: Actor,
    receipt_id: str,
    verdict: Verdict,
    ts: int,
    *,
    fault: FaultParty | None = None,
    note: str | None = None,
    score: float | None = None,
) -> Signed:
    body: dict[str, Any] = {
        "type": RecordType.ATTESTATION.value,
        "receipt": receipt_id,
        "verdict": verdict.value,
        "ts": ts,
    }
    if fault is not None:
        body["fault"] = fault.value
    if score is not None:
        body["score"] = score
    if note is not None:
        body["note"] = note
    return sign(body, witness.key)


def dispute(requester: Actor, receipt_id: str, reason: str, ts: int) -> Signed:
    return sign(
        {"type": RecordType.DISPUTE.value, "receipt": receipt_id, "reason": reason, "ts": ts},
        requester.key,
    )


def image(provider: Actor, name: str, pcrs: dict[str, str], ts: int) -> Signed:
    """A provider publishes an enclave image's PCR0-2 (lowercase hex)."""
    body = {"type": RecordType.IMAGE.value, "platform": "aws-nitro", "name": name, "pcrs": pcrs}
    return sign({**body, "ts": ts}, provider.key)


def enclave(node: Actor, attestation_document: bytes, key_der: bytes, ts: int) -> Signed:
    """A node registers an enclave: its attestation document and its signing key."""
    return sign(
        {
            "type": RecordType.ENCLAVE.value,
            "platform": "aws-nitro",
            "attestation": base64.b64encode(attestation_document).decode("ascii"),
            "key": base64.b64encode(key_der).decode("ascii"),
            "ts": ts,
        },
        node.key,
    )


def sha256_hex(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


__all__ = [
    "Actor",
    "attestation",
    "dispute",
    "enclave",
    "image",
    "publish_model",
    "receipt",
    "record_id",
    "register",
    "sha256_hex",
]
