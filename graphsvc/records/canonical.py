"""The bytes a record's signatures and id are computed over (DESIGN §1)."""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Mapping
from typing import Any

import rfc8785

SIG_FIELDS = ("sig",)


def canonical_bytes(record: Mapping[str, Any], *, without: Collection[str] = SIG_FIELDS) -> bytes:
    """RFC 8785 (JCS) serialisation of ``record`` minus the top-level fields ``without``."""
    # rfc8785 accepts only real dicts, and a fresh one leaves the caller's record alone.
    return rfc8785.dumps({k: v for k, v in record.items() if k not in without})


def id_of_canonical(canonical: bytes) -> str:
    return "sha256:" + hashlib.sha256(canonical).hexdigest()


def record_id(record: Mapping[str, Any]) -> str:
    return id_of_canonical(canonical_bytes(record))
