"""Unpadded base64url, decoded strictly.

Keys and signatures travel inside signed records, so every value must have exactly one
spelling: otherwise two byte-different records would carry the same key or signature and
the record id would stop identifying the record. Hence no padding, no foreign
characters and no stray bits in the last character.
"""

from __future__ import annotations

import base64
import binascii
import re

_NOT_URLSAFE = re.compile(r"[^A-Za-z0-9_-]")


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Decode unpadded base64url, raising ``ValueError`` on any non-canonical spelling."""
    bad = _NOT_URLSAFE.search(text)
    if bad is not None:
        char = bad.group()
        if char == "=":
            raise ValueError("base64url must be unpadded ('=' found)")
        raise ValueError(f"invalid base64url character {char!r} at position {bad.start()}")
    if len(text) % 4 == 1:
        # No byte count encodes to 4n+1 characters.
        raise ValueError(f"invalid base64url length {len(text)}")
    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except binascii.Error as exc:  # unreachable after the checks above; kept as a guard
        raise ValueError(f"invalid base64url: {exc}") from None
    # The last character may carry unused low bits; only the all-zero form is canonical.
    if b64url_encode(data) != text:
        raise ValueError("non-canonical base64url: unused trailing bits are not zero")
    return data
