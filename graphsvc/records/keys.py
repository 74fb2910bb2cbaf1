"""Ed25519 keys: signer ids and key files.

A key file holds the 32-byte seed as one line of base64url. It is created with mode 0600
and never overwritten, so a slip of ``keygen`` cannot destroy an identity.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from nacl.signing import SigningKey, VerifyKey

from graphsvc.records.encoding import b64url_decode, b64url_encode

SIGNER_PREFIX = "ed25519:"
_KEY_BYTES = 32


def generate_signing_key() -> SigningKey:
    return SigningKey.generate()


def signer_id(key: SigningKey | VerifyKey) -> str:
    verify_key = key.verify_key if isinstance(key, SigningKey) else key
    return SIGNER_PREFIX + b64url_encode(bytes(verify_key))


@lru_cache(maxsize=65_536)  # the same signers sign over and over; a key is 32 bytes
def verify_key_from_signer(signer: str) -> VerifyKey:
    if not signer.startswith(SIGNER_PREFIX):
        raise ValueError(f"signer must start with {SIGNER_PREFIX!r}")
    try:
        raw = b64url_decode(signer[len(SIGNER_PREFIX) :])
    except ValueError as exc:
        raise ValueError(f"signer public key is not valid base64url: {exc}") from None
    if len(raw) != _KEY_BYTES:
        raise ValueError(f"signer public key must be {_KEY_BYTES} bytes, got {len(raw)}")
    return VerifyKey(raw)


def write_signing_key(path: Path, key: SigningKey) -> None:
    """Write ``key``'s seed to a new file readable by its owner only."""
    try:
        # O_EXCL makes "does it exist?" and "create it" one step (it also refuses a
        # symlink), and the mode applies at creation: no moment where others can read it.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise FileExistsError(f"refusing to overwrite existing key file {path}") from None
    try:
        with os.fdopen(fd, "w", encoding="ascii") as out:
            out.write(b64url_encode(bytes(key)) + "\n")
            out.flush()
            os.fsync(out.fileno())
    except BaseException:
        # A half-written key file would later read as a broken identity.
        path.unlink(missing_ok=True)
        raise


def read_signing_key(path: Path) -> SigningKey:
    """Read a key file written by :func:`write_signing_key`."""
    text = path.read_text(encoding="ascii", errors="replace")
    # Error messages below never include the file's content: it is a secret.
    malformed = f"malformed key file {path}: expected one line of base64url of a 32-byte seed"
    try:
        seed = b64url_decode(text.strip())
    except ValueError:
        raise ValueError(malformed) from None
    if len(seed) != _KEY_BYTES:
        raise ValueError(malformed)
    return SigningKey(seed)
