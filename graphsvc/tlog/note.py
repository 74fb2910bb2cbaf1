"""C2SP ``signed-note``: text signed by one or more named Ed25519 keys.

A note is its text (ending in a newline), a blank line, then one line per signature:
``— <key name> <base64(key hash || signature)>``. The key hash is the first four bytes
of SHA-256(name || 0x0A || 0x01 || public key); a verifier key is written
``<name>+<hex key hash>+<base64(0x01 || public key)>``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import ClassVar, Self

from nacl.exceptions import BadSignatureError
from nacl.signing import SigningKey, VerifyKey

ED25519 = b"\x01"  # the signature type byte of an Ed25519 note key
_DASH = "\u2014 "  # em dash and a space open each signature line
_MAX_SIGNATURES = 100


class NoteError(ValueError):
    """A malformed note or key, or a note no trusted key signed."""


def _b64decode(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise NoteError(f"{what} is not valid base64") from None


def _check_name(name: str) -> None:
    if not name or any(c.isspace() or c == "+" for c in name):
        raise NoteError(f"key name {name!r} must be non-empty, without spaces or '+'")


def key_hash(name: str, public_key: bytes, key_type: bytes = ED25519) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + key_type + public_key).digest()[:4]


@dataclass(frozen=True)
class VerifierKey:
    """A named Ed25519 public key of one signature type (``KEY_TYPE``), written
    ``<name>+<hex key hash>+<base64(type || key)>``."""

    KEY_TYPE: ClassVar[bytes] = ED25519

    name: str
    public_key: bytes

    @property
    def key_hash(self) -> bytes:
        return key_hash(self.name, self.public_key, self.KEY_TYPE)

    def encode(self) -> str:
        key = base64.b64encode(self.KEY_TYPE + self.public_key).decode()
        return f"{self.name}+{self.key_hash.hex()}+{key}"

    @classmethod
    def parse(cls, text: str) -> Self:
        parts = text.strip().split("+", 2)  # base64 may hold "+" too
        if len(parts) != 3:
            raise NoteError("a verifier key is <name>+<hex key hash>+<base64 key>")
        name, hash_hex, key_b64 = parts
        _check_name(name)
        key = _b64decode(key_b64, "the verifier key")
        if len(key) != 33 or key[:1] != cls.KEY_TYPE:
            raise NoteError(
                f"the verifier key is not an Ed25519 key of type 0x{cls.KEY_TYPE.hex()}"
            )
        verifier = cls(name, key[1:])
        if hash_hex != verifier.key_hash.hex():
            raise NoteError(f"the verifier key's hash {hash_hex} does not match its key")
        return verifier


@dataclass(frozen=True)
class NoteVerifier(VerifierKey):
    """A trusted Ed25519 note key (signature type 0x01)."""

    def verifies(self, text: bytes, signature: bytes) -> bool:
        try:
            VerifyKey(self.public_key).verify(text, signature)
        except BadSignatureError:
            return False
        return True


class NoteSigner:
    """A named Ed25519 key that signs notes. Its seed never leaves this object."""

    def __init__(self, name: str, key: SigningKey) -> None:
        _check_name(name)
        self.name = name
        self._key = key

    def verifier(self) -> NoteVerifier:
        return NoteVerifier(self.name, bytes(self._key.verify_key))

    def __repr__(self) -> str:  # never the seed
        return f"NoteSigner({self.name!r})"

    def signature_line(self, text: str) -> str:
        signature = self._key.sign(text.encode()).signature
        blob = base64.b64encode(self.verifier().key_hash + signature).decode()
        return f"{_DASH}{self.name} {blob}\n"


@dataclass(frozen=True)
class Signature:
    name: str
    key_hash: bytes
    signature: bytes

    def line(self) -> str:
        return f"{_DASH}{self.name} {base64.b64encode(self.key_hash + self.signature).decode()}\n"


def sign_note(text: str, signers: Iterable[NoteSigner]) -> str:
    _check_text(text)
    return text + "\n" + "".join(signer.signature_line(text) for signer in signers)


def _check_text(text: str) -> None:
    if not text.endswith("\n"):
        raise NoteError("a note's text must end with a newline")


def parse_note(note: str) -> tuple[str, list[Signature]]:
    """A note's text and its signature lines, unverified."""
    split = note.rfind("\n\n")
    if split < 0:
        raise NoteError("a note needs a blank line between its text and its signatures")
    text, lines = note[: split + 1], note[split + 2 :]
    if not lines.endswith("\n"):
        raise NoteError("a note's last signature line must end with a newline")
    signatures = []
    for line in lines[:-1].split("\n"):
        if not line.startswith(_DASH):
            raise NoteError(f"signature line {line!r} does not start with an em dash")
        fields = line[len(_DASH) :].split(" ")
        if len(fields) != 2:
            raise NoteError(f"signature line {line!r} is not '— <name> <signature>'")
        name, blob_b64 = fields
        _check_name(name)
        blob = _b64decode(blob_b64, f"the signature of {name}")
        if len(blob) < 5:
            raise NoteError(f"the signature of {name} is too short")
        signatures.append(Signature(name, blob[:4], blob[4:]))
    if len(signatures) > _MAX_SIGNATURES:
        raise NoteError(f"a note may carry at most {_MAX_SIGNATURES} signatures")
    return text, signatures


def open_note(note: str, verifiers: Iterable[NoteVerifier]) -> tuple[str, list[str]]:
    """The note's text and the names of the trusted keys that signed it.

    Signatures by unknown keys are ignored; a signature claiming a trusted key that does
    not verify, or no trusted signature at all, is an error.
    """
    text, signatures = parse_note(note)
    known = {(v.name, v.key_hash): v for v in verifiers}
    verified: list[str] = []
    for signature in signatures:
        verifier = known.get((signature.name, signature.key_hash))
        if verifier is None:
            continue
        if not verifier.verifies(text.encode(), signature.signature):
            raise NoteError(f"the signature of {signature.name} does not verify")
        if signature.name in verified:
            raise NoteError(f"{signature.name} signed the note twice")
        verified.append(signature.name)
    if not verified:
        raise NoteError("no trusted key signed the note")
    return text, verified
