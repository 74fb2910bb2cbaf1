"""COSE_Sign1 (RFC 9052 §4.2) as AWS Nitro uses it: one ES384 signature over a CBOR
payload, the protected header naming the algorithm. Parsing and the signature check
only; what the payload means is the platform's business."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import cbor2
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, utils

from graphsvc.proofs.errors import ProofFailure

COSE_SIGN1_TAG = 18
ES384 = -35  # COSE algorithm id (RFC 9053 §2.1): ECDSA with SHA-384 on P-384
_ES384_COMPONENT = 48


@dataclass(frozen=True)
class CoseSign1:
    protected: bytes  # the serialized protected header, as signed
    algorithm: int
    payload: bytes
    signature: bytes

    def signed_bytes(self) -> bytes:
        """The Sig_structure the signature covers (RFC 9052 §4.4), no external data."""
        return cbor2.dumps(["Signature1", self.protected, b"", self.payload])

    def verify_es384(self, key: ec.EllipticCurvePublicKey) -> None:
        if self.algorithm != ES384:
            raise ProofFailure(
                "algorithm", f"COSE algorithm {self.algorithm} is not ES384 ({ES384})"
            )
        if not isinstance(key.curve, ec.SECP384R1):
            raise ProofFailure("certificate", f"the signing key is on {key.curve.name}, not P-384")
        if len(self.signature) != 2 * _ES384_COMPONENT:
            raise ProofFailure(
                "signature", f"an ES384 signature is 96 bytes, this one {len(self.signature)}"
            )
        r = int.from_bytes(self.signature[:_ES384_COMPONENT], "big")
        s = int.from_bytes(self.signature[_ES384_COMPONENT:], "big")
        try:
            key.verify(
                utils.encode_dss_signature(r, s), self.signed_bytes(), ec.ECDSA(hashes.SHA384())
            )
        except InvalidSignature:
            raise ProofFailure(
                "signature", "the COSE_Sign1 signature does not verify with the certificate's key"
            ) from None


def decode_cbor(data: bytes, what: str) -> Any:
    """One CBOR item that fills ``data`` exactly."""
    try:
        return cbor2.loads(data)
    except (cbor2.CBORDecodeError, ValueError, TypeError, RecursionError) as error:
        raise ProofFailure("cbor", f"{what} is not well-formed CBOR: {error}") from None


def parse_cose_sign1(data: bytes) -> CoseSign1:
    """The four parts of a COSE_Sign1 message, tagged (18) or not; its algorithm from the
    protected header. Raises :class:`ProofFailure` (``cbor``, ``structure``, ``algorithm``)."""
    item = decode_cbor(data, "the document")
    if isinstance(item, cbor2.CBORTag):
        if item.tag != COSE_SIGN1_TAG:
            raise ProofFailure("structure", f"CBOR tag {item.tag} is not COSE_Sign1 (18)")
        item = item.value
    if not isinstance(item, list) or len(item) != 4:
        raise ProofFailure("structure", "a COSE_Sign1 message is an array of four items")
    protected, unprotected, payload, signature = item
    if not isinstance(protected, bytes) or not isinstance(unprotected, dict):
        raise ProofFailure("structure", "COSE_Sign1 headers: a byte string and a map expected")
    if not isinstance(payload, bytes) or not isinstance(signature, bytes):
        raise ProofFailure("structure", "COSE_Sign1 payload and signature must be byte strings")
    header = decode_cbor(protected, "the protected header") if protected else {}
    if not isinstance(header, dict) or not isinstance(header.get(1), int):
        raise ProofFailure("algorithm", "the protected header names no algorithm (label 1)")
    return CoseSign1(protected, header[1], payload, signature)
