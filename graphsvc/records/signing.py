"""Producing signed records: the node's (or any signer's) ``sig`` and a requester's co-signature.

A co-signed receipt is made in this order: the node builds the record with ``type``,
``signer``, ``ts`` and its fields; the requester co-signs it (:func:`cosign`); the node signs
last (:func:`sign`), so its ``sig`` also covers ``requester`` and ``requester_sig``.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from nacl.signing import SigningKey

from graphsvc.records.canonical import canonical_bytes
from graphsvc.records.encoding import b64url_encode
from graphsvc.records.keys import signer_id

# What the requester's signature leaves out: both signatures (docs/reference.md#records).
REQUESTER_UNSIGNED = ("sig", "requester_sig")


def _signature(key: SigningKey, message: bytes) -> str:
    return b64url_encode(key.sign(message).signature)


def sign(
    record: Mapping[str, Any], key: SigningKey, *, now_ms: int | None = None
) -> dict[str, Any]:
    """Return a copy of ``record`` with ``signer``, ``ts`` (if absent) and ``sig`` set."""
    signer = signer_id(key)
    existing = record.get("signer")
    if existing is not None and existing != signer:
        raise ValueError(f"record names signer {existing!r} but the key is {signer}")
    signed = dict(record)
    signed["signer"] = signer
    if "ts" not in signed:
        signed["ts"] = time.time_ns() // 1_000_000 if now_ms is None else now_ms
    signed.pop("sig", None)
    signed["sig"] = _signature(key, canonical_bytes(signed))
    return signed


def cosign(record: Mapping[str, Any], requester_key: SigningKey) -> dict[str, Any]:
    """Return a copy of ``record`` with the requester's ``requester`` and ``requester_sig``.

    Any ``sig`` already present is dropped: the requester fields change the bytes the
    node signs, so an earlier node signature could no longer verify.
    """
    missing = [name for name in ("signer", "ts") if name not in record]
    if missing:
        raise ValueError(
            f"cosign needs the node's {' and '.join(missing)} in the record first: "
            "the requester signs them"
        )
    requester = signer_id(requester_key)
    existing = record.get("requester")
    if existing is not None and existing != requester:
        raise ValueError(f"record names requester {existing!r} but the key is {requester}")
    cosigned = {k: v for k, v in record.items() if k not in REQUESTER_UNSIGNED}
    cosigned["requester"] = requester
    cosigned["requester_sig"] = _signature(
        requester_key, canonical_bytes(cosigned, without=REQUESTER_UNSIGNED)
    )
    return cosigned
