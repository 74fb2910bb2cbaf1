"""The demo's enclaves: a private Nitro-shaped PKI that ``serve --demo`` trusts, its
attestation documents, and OpenGradient-format responses signed by the enclaves.

Real Nitro documents come from AWS hardware; the demo makes documents of the same shape
(COSE_Sign1, ES384, a root, an intermediate and a leaf certificate) under its own root,
so the whole verification path runs on them. Nothing here is trusted outside the demo:
the root is trusted only by a process that loaded the demo, or by an operator who puts
it in ``GRAPHSVC_TEE_ROOTS``.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from dataclasses import dataclass, field
from typing import Any

import cbor2
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils
from cryptography.x509.oid import NameOID

from graphsvc.proofs import enclave_id, gateway_message, keccak256, request_hash
from graphsvc.proofs.cose import ES384

_PSS = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _certificate(
    subject: str,
    key: ec.EllipticCurvePrivateKey,
    issuer: str,
    issuer_key: ec.EllipticCurvePrivateKey,
    *,
    ca: bool,
    start: dt.datetime,
    end: dt.datetime,
) -> x509.Certificate:
    return (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(_name(issuer))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .sign(issuer_key, hashes.SHA384())
    )


@dataclass
class EnclavePki:
    """A root, an intermediate and an enclave leaf certificate (P-384), the leaf valid
    for ``leaf_hours`` from ``start``, as AWS issues short-lived enclave certificates."""

    start: dt.datetime
    leaf_hours: float = 3.0
    name: str = "graphsvc-demo"
    root_key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP384R1())
    )

    def __post_init__(self) -> None:
        since, until = self.start - dt.timedelta(days=1), self.start + dt.timedelta(days=3650)
        root_name, mid_name = f"{self.name}-root", f"{self.name}-intermediate"
        self.root = _certificate(
            root_name, self.root_key, root_name, self.root_key, ca=True, start=since, end=until
        )
        self.mid_key = ec.generate_private_key(ec.SECP384R1())
        self.mid = _certificate(
            mid_name, self.mid_key, root_name, self.root_key, ca=True, start=since, end=until
        )
        self.leaf_key = ec.generate_private_key(ec.SECP384R1())
        leaf_end = self.start + dt.timedelta(hours=self.leaf_hours)
        self.leaf = _certificate(
            f"{self.name}-enclave", self.leaf_key, mid_name, self.mid_key, ca=False,
            start=self.start, end=leaf_end,
        )  # fmt: skip

    def root_pem(self) -> bytes:
        return self.root.public_bytes(serialization.Encoding.PEM)

    def document(
        self,
        *,
        at: dt.datetime | None = None,
        pcrs: dict[int, bytes] | None = None,
        public_key: bytes | None = None,
        user_data: bytes | None = None,
        algorithm: int = ES384,
    ) -> bytes:
        """A Nitro-shaped COSE_Sign1 document signed by the leaf at ``at`` (default: an
        hour after ``start``); PCRs 0-15 of 48 bytes unless given."""
        when = at or self.start + dt.timedelta(hours=1)
        der = serialization.Encoding.DER
        payload = {
            "module_id": f"i-{self.name}-enc0001",
            "digest": "SHA384",
            "timestamp": int(when.timestamp() * 1000),
            "pcrs": pcrs if pcrs is not None else {i: bytes([i + 1]) * 48 for i in range(16)},
            "certificate": self.leaf.public_bytes(der),
            "cabundle": [self.root.public_bytes(der), self.mid.public_bytes(der)],
            "public_key": public_key,
            "user_data": user_data,
            "nonce": None,
        }
        protected = cbor2.dumps({1: algorithm})
        body = cbor2.dumps(payload)
        to_sign = cbor2.dumps(["Signature1", protected, b"", body])
        r, s = utils.decode_dss_signature(self.leaf_key.sign(to_sign, ec.ECDSA(hashes.SHA384())))
        return cbor2.dumps([protected, {}, body, r.to_bytes(48, "big") + s.to_bytes(48, "big")])


def nitriding_user_data(key_der: bytes) -> bytes:
    """nitriding's user_data: a sha2-256 multihash of a TLS certificate, then the key's."""
    return b"\x12\x20" + bytes(32) + b"\x12\x20" + hashlib.sha256(key_der).digest()


@dataclass
class DemoEnclave:
    """An enclave's RSA-2048 signing key, signing as the OpenGradient gateway does."""

    key: rsa.RSAPrivateKey = field(
        default_factory=lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048)
    )

    @property
    def key_der(self) -> bytes:
        return self.key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    @property
    def id(self) -> str:
        return enclave_id(self.key_der)

    def respond(self, request: dict[str, Any], content: str, timestamp: int) -> dict[str, Any]:
        """A chat completion with the gateway's tee_* fields, signed at ``timestamp`` (s)."""
        asked, answered = request_hash(request), keccak256(content.encode("utf-8"))
        signature = self.key.sign(
            gateway_message(asked, answered, timestamp), _PSS, hashes.SHA256()
        )
        return {
            "id": f"chatcmpl-{asked.hex()[:12]}",
            "object": "chat.completion",
            "created": timestamp,
            "model": request["model"],
            "choices": [
                {"index": 0, "message": {"role": "assistant", "content": content},
                 "finish_reason": "stop"}
            ],
            "tee_signature": base64.b64encode(signature).decode("ascii"),
            "tee_request_hash": asked.hex(),
            "tee_output_hash": answered.hex(),
            "tee_timestamp": timestamp,
            "tee_id": self.id,
        }  # fmt: skip


def chat_request(model: str, question: str) -> dict[str, Any]:
    return {"model": model, "messages": [{"role": "user", "content": question}]}
