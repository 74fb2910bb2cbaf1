"""Nitro-shaped attestation documents under a test PKI, built independently of
graphsvc.proofs (cbor2 and cryptography directly), for the checks real documents cannot
exercise: an unknown root, an expired chain, a bound key, the wrong algorithm."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field

import cbor2
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, utils
from cryptography.x509.oid import NameOID

EPOCH = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _cert(
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
class ForgedPki:
    """A root, an intermediate and a leaf, the leaf valid for ``leaf_hours`` from ``start``."""

    start: dt.datetime = EPOCH
    leaf_hours: float = 3.0
    root_key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP384R1())
    )

    def __post_init__(self) -> None:
        far = self.start + dt.timedelta(days=3650)
        self.root = _cert(
            "test-root",
            self.root_key,
            "test-root",
            self.root_key,
            ca=True,
            start=self.start - dt.timedelta(days=1),
            end=far,
        )
        self.mid_key = ec.generate_private_key(ec.SECP384R1())
        self.mid = _cert(
            "test-mid",
            self.mid_key,
            "test-root",
            self.root_key,
            ca=True,
            start=self.start - dt.timedelta(days=1),
            end=far,
        )
        self.leaf_key = ec.generate_private_key(ec.SECP384R1())
        self.leaf = _cert(
            "test-enclave",
            self.leaf_key,
            "test-mid",
            self.mid_key,
            ca=False,
            start=self.start,
            end=self.start + dt.timedelta(hours=self.leaf_hours),
        )

    def root_pem(self) -> bytes:
        return self.root.public_bytes(serialization.Encoding.PEM)

    def document(
        self,
        *,
        at: dt.datetime | None = None,
        pcrs: dict[int, bytes] | None = None,
        public_key: bytes | None = None,
        user_data: bytes | None = None,
        algorithm: int = -35,
    ) -> bytes:
        """A COSE_Sign1 document signed by the leaf at ``at`` (default: an hour in)."""
        when = at or self.start + dt.timedelta(hours=1)
        der = serialization.Encoding.DER
        payload = {
            "module_id": "i-test-enc0001",
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
        signature = r.to_bytes(48, "big") + s.to_bytes(48, "big")
        return cbor2.dumps([protected, {}, body, signature])


def nitriding_user_data(key_der: bytes) -> bytes:
    """nitriding's user_data: a sha2-256 multihash of a TLS certificate, then the key's."""
    return b"\x12\x20" + bytes(32) + b"\x12\x20" + hashlib.sha256(key_der).digest()
