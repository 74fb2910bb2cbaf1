"""Opaque page cursors: a tagged payload in URL-safe base64, so a cursor of one list
is refused by another instead of being misread."""

from __future__ import annotations

import base64


def encode(tag: str, payload: str) -> str:
    return base64.urlsafe_b64encode(f"{tag}:{payload}".encode()).decode()


def decode(tag: str, cursor: str) -> str:
    """The payload of ``cursor``; ``ValueError`` naming it when it is not a ``tag`` cursor."""
    try:
        text = base64.urlsafe_b64decode(cursor.encode()).decode()
    except (ValueError, UnicodeDecodeError):
        text = ""
    found, colon, payload = text.partition(":")
    if found != tag or not colon:
        raise ValueError(f"invalid cursor {cursor!r}")
    return payload
