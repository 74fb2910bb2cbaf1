"""Whether an attestation document binds a signing key, and the enclave id of a key."""

from __future__ import annotations

import hashlib
from enum import StrEnum

from graphsvc.proofs.errors import ProofFailure
from graphsvc.proofs.keccak import keccak256
from graphsvc.proofs.report import AttestationReport

_SHA256_MULTIHASH = b"\x12\x20"  # multihash prefix: sha2-256, 32 bytes
_MULTIHASH_SIZE = len(_SHA256_MULTIHASH) + 32


class KeyBinding(StrEnum):
    """How the document names the key."""

    PUBLIC_KEY = "public_key"  # the document's public_key is the key's DER
    USER_DATA = "user_data"  # SHA-256 of the key's DER in user_data (nitriding's layout)


def bind_key(report: AttestationReport, key_der: bytes) -> KeyBinding:
    """How ``report`` binds ``key_der``, or :class:`ProofFailure` (``binding``).

    user_data binds a key when it is the key's SHA-256, or a run of sha2-256
    multihashes one of which is (nitriding puts its TLS certificate's hash first and
    the application key's, registered through /enclave/hash, second).
    """
    if report.public_key is not None and report.public_key == key_der:
        return KeyBinding.PUBLIC_KEY
    digest = hashlib.sha256(key_der).digest()
    if report.user_data is not None and digest in _user_data_hashes(report.user_data):
        return KeyBinding.USER_DATA
    raise ProofFailure(
        "binding",
        "the key is not bound by the document: it is not its public_key, and its SHA-256 "
        "is not in its user_data",
    )


def _user_data_hashes(user_data: bytes) -> list[bytes]:
    if len(user_data) == 32:
        return [user_data]
    if len(user_data) % _MULTIHASH_SIZE:
        return []
    chunks = [user_data[i : i + _MULTIHASH_SIZE] for i in range(0, len(user_data), _MULTIHASH_SIZE)]
    return [c[2:] for c in chunks if c.startswith(_SHA256_MULTIHASH)]


def enclave_id(key_der: bytes) -> str:
    """``0x`` + hex keccak256 of the key's DER SubjectPublicKeyInfo: the gateway's tee_id."""
    return "0x" + keccak256(key_der).hex()
