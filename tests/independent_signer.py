"""A second, independent implementation of docs/reference.md#records signing, for cross-checking.

It shares no code with ``graphsvc.records``: Ed25519 comes from ``cryptography``
(OpenSSL) instead of PyNaCl, base64url from the standard library, and canonical bytes
from ``json.dumps`` with sorted keys and no whitespace. For records made only of
strings, integers and objects with ASCII keys, that is exactly RFC 8785: the escaping of
strings matches, integers print the same, and sorting by code point equals JCS's UTF-16
order when no key has characters outside the Basic Multilingual Plane. Records with
floats would need a real JCS implementation; none of the record types has floats.

Store and API tests may import these helpers (``from tests.independent_signer import ...``) to
produce records without trusting the code under test.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def key_from_seed(seed: bytes) -> Ed25519PrivateKey:
    """A deterministic key: the same 32-byte seed gives the same key in PyNaCl."""
    return Ed25519PrivateKey.from_private_bytes(seed)


def key_for(label: str) -> Ed25519PrivateKey:
    """A deterministic key named by a label, so tests read as ``key_for("node-1")``."""
    return key_from_seed(hashlib.sha256(label.encode()).digest())


def signer_of(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return "ed25519:" + b64url(public.public_bytes(Encoding.Raw, PublicFormat.Raw))


def canonical(record: Mapping[str, Any], without: tuple[str, ...] = ("sig",)) -> bytes:
    body = {k: v for k, v in record.items() if k not in without}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def record_id(record: Mapping[str, Any]) -> str:
    return "sha256:" + hashlib.sha256(canonical(record)).hexdigest()


def sign_record(record: Mapping[str, Any], key: Ed25519PrivateKey) -> dict[str, Any]:
    """Set ``signer`` and ``sig``; ``record`` must already carry ``type`` and ``ts``."""
    signed = {k: v for k, v in record.items() if k != "sig"}
    signed["signer"] = signer_of(key)
    signed["sig"] = b64url(key.sign(canonical(signed)))
    return signed


def cosign_record(record: Mapping[str, Any], requester: Ed25519PrivateKey) -> dict[str, Any]:
    """Add ``requester`` and ``requester_sig``; ``record`` needs the node's signer and ts."""
    both_sigs = ("sig", "requester_sig")
    cosigned = {k: v for k, v in record.items() if k not in both_sigs}
    cosigned["requester"] = signer_of(requester)
    cosigned["requester_sig"] = b64url(requester.sign(canonical(cosigned, both_sigs)))
    return cosigned


def verifies(record: Mapping[str, Any]) -> bool:
    """Whether ``sig`` (and ``requester_sig``, if present) verify independently."""
    checks = [(record["signer"], record["sig"], canonical(record))]
    if "requester_sig" in record:
        message = canonical(record, ("sig", "requester_sig"))
        checks.append((record["requester"], record["requester_sig"], message))
    for signer, sig, message in checks:
        public = Ed25519PublicKey.from_public_bytes(unb64url(signer.removeprefix("ed25519:")))
        try:
            public.verify(unb64url(sig), message)
        except InvalidSignature:
            return False
    return True
