"""Reading a document or key a user names: raw bytes, standard base64, or PEM."""

from __future__ import annotations

import base64
import binascii
from pathlib import Path

from graphsvc.proofs.errors import ProofFailure

_COSE_SIGN1_ARRAY = 0x84  # CBOR: an array of four items
_COSE_SIGN1_TAG = 0xD2  # CBOR: tag 18


def read_document(path: Path, *, pem_label: str | None = None) -> bytes:
    """The bytes in ``path``: as they are when they look like CBOR or DER, else decoded
    from PEM (``pem_label``) or standard base64; :class:`ProofFailure` when neither."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ProofFailure("file", f"cannot read {path}: {error.strerror or error}") from None
    return decode_document(data, pem_label=pem_label, where=str(path))


def decode_document(data: bytes, *, pem_label: str | None = None, where: str = "input") -> bytes:
    if data[:1] in (bytes([_COSE_SIGN1_ARRAY]), bytes([_COSE_SIGN1_TAG]), b"\x30"):
        return data  # raw CBOR (COSE_Sign1) or DER
    text = data.decode("ascii", errors="replace").strip()
    if pem_label is not None and text.startswith(f"-----BEGIN {pem_label}-----"):
        text = "".join(line for line in text.splitlines() if not line.startswith("-----"))
    try:
        return base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError):
        raise ProofFailure("encoding", f"{where} is neither raw bytes nor base64") from None
