"""C2SP ``tlog-cosignature`` (Ed25519, ``cosignature/v1``): a witness's statement that
a checkpoint is the largest consistent tree it has seen of the log, at a time.

The note signature line is ``— <witness> base64(key ID || u64 timestamp || signature)``,
the key ID SHA-256(name || 0x0A || 0x04 || public key)[:4], and the signed message
``cosignature/v1\\ntime <timestamp>\\n`` followed by the checkpoint's note text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from nacl.exceptions import BadSignatureError
from nacl.signing import SigningKey, VerifyKey

from graphsvc.tlog.note import NoteError, Signature, VerifierKey, key_hash

COSIGNATURE = b"\x04"  # the signature type byte of an Ed25519 cosignature/v1 key


def signed_message(text: str, timestamp: int) -> bytes:
    return f"cosignature/v1\ntime {timestamp}\n{text}".encode()


@dataclass(frozen=True)
class CosignerKey(VerifierKey):
    """A witness trusted to cosign the log's checkpoints (signature type 0x04)."""

    KEY_TYPE: ClassVar[bytes] = COSIGNATURE

    def timestamp_of(self, signature: Signature, text: str) -> int:
        """The time this witness cosigned ``text`` at; :class:`NoteError` if the line is
        not this witness's valid cosignature of it."""
        if signature.name != self.name or signature.key_hash != self.key_hash:
            raise NoteError(f"{signature.name} is not the witness {self.name}")
        if len(signature.signature) != 8 + 64:
            raise NoteError(f"the cosignature of {self.name} is not a timestamped signature")
        timestamp = int.from_bytes(signature.signature[:8], "big")
        if timestamp >= 2**63:
            raise NoteError(f"the cosignature of {self.name} has an impossible timestamp")
        try:
            VerifyKey(self.public_key).verify(
                signed_message(text, timestamp), signature.signature[8:]
            )
        except BadSignatureError:
            raise NoteError(f"the cosignature of {self.name} does not verify") from None
        return timestamp


def cosign(text: str, name: str, key: SigningKey, timestamp: int) -> Signature:
    """A witness's cosignature of a checkpoint's note text (what a witness runs)."""
    signature = key.sign(signed_message(text, timestamp)).signature
    return Signature(
        name,
        key_hash(name, bytes(key.verify_key), COSIGNATURE),
        timestamp.to_bytes(8, "big") + signature,
    )
