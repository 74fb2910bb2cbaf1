"""The bytes a record's signatures and id are computed over (docs/reference.md#records)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Mapping
from typing import Any

import rfc8785

SIG_FIELDS = ("sig",)

# For JSON made only of objects with ASCII keys, arrays, strings, integers of at most
# 2^53 - 1, booleans and null, RFC 8785 is exactly what json.dumps writes with sorted
# keys, no spaces and no \u escapes beyond the control characters: JCS sorts keys by
# UTF-16 code units, which is code point order for ASCII; its string escapes are
# json's; such integers print the same. The C encoder does that about five times faster
# than rfc8785 (pure Python), and every record is canonicalised once or twice at ingest.
# Anything else (floats, larger integers, non-ASCII keys) goes to rfc8785.
_MAX_EXACT_INT = 2**53 - 1
_ENCODER = json.JSONEncoder(
    ensure_ascii=False, separators=(",", ":"), sort_keys=True, allow_nan=False
)


def is_plain(value: object) -> bool:
    """Whether ``value`` is JSON the C encoder writes exactly as RFC 8785 does (above)."""
    # Exact types: a subclass (an enum member, say) may print otherwise; rfc8785 decides.
    if type(value) is str or type(value) is bool or value is None:
        return True
    if type(value) is int:
        return -_MAX_EXACT_INT <= value <= _MAX_EXACT_INT
    if type(value) is dict:
        return all(type(k) is str and k.isascii() and is_plain(v) for k, v in value.items())
    if type(value) is list:
        return all(is_plain(item) for item in value)
    return False


def canonical_bytes(
    record: Mapping[str, Any],
    *,
    without: Collection[str] = SIG_FIELDS,
    plain: bool | None = None,
) -> bytes:
    """RFC 8785 (JCS) serialisation of ``record`` minus the top-level fields ``without``.
    ``plain``: ``is_plain(record)`` when the caller knows it (a record canonicalised in
    several forms is checked once: leaving fields out keeps it plain)."""
    # rfc8785 accepts only real dicts, and a fresh one leaves the caller's record alone.
    body = {k: v for k, v in record.items() if k not in without}
    if plain if plain is not None else is_plain(body):
        try:
            return _ENCODER.encode(body).encode("utf-8")
        except UnicodeEncodeError:
            pass  # a lone surrogate: rfc8785 refuses it with its own error
    return rfc8785.dumps(body)


def id_of_canonical(canonical: bytes) -> str:
    return "sha256:" + hashlib.sha256(canonical).hexdigest()


def record_id(record: Mapping[str, Any]) -> str:
    return id_of_canonical(canonical_bytes(record))
