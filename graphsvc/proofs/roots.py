"""Trusted roots of attestation certificate chains.

The AWS Nitro Enclaves Root-G1 ships with the package and is pinned by its SHA-256
fingerprint: a file changed on disk is refused rather than trusted. A deployment adds
its own roots (private PKIs, tests, the demo) in a PEM file named by
``GRAPHSVC_TEE_ROOTS``; the caller reads it and passes the roots in.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from graphsvc.proofs.errors import ProofFailure

AWS_NITRO_ROOT_FINGERPRINT = "641a0321a3e244efe456463195d606317ed7cdcc3c1756e09893f3c68f79bb5b"
_AWS_NITRO_ROOT_FILE = "aws_nitro_enclaves_root_g1.pem"


@dataclass(frozen=True)
class TrustedRoot:
    """A root certificate, the name reports give it, and its DER's SHA-256 (hex)."""

    name: str
    certificate: x509.Certificate
    fingerprint: str

    @classmethod
    def of(cls, name: str, certificate: x509.Certificate) -> TrustedRoot:
        der = certificate.public_bytes(Encoding.DER)
        return cls(name, certificate, hashlib.sha256(der).hexdigest())

    def __reduce__(self) -> tuple[object, tuple[str, bytes]]:
        # Certificates do not pickle; the ingest process gets the roots as DER.
        return _root_from_der, (self.name, self.certificate.public_bytes(Encoding.DER))


@dataclass(frozen=True)
class TrustedRoots:
    """The roots a verifier accepts, by fingerprint."""

    roots: tuple[TrustedRoot, ...]

    def find(self, der: bytes) -> TrustedRoot | None:
        """The trusted root whose DER is exactly ``der``, if any."""
        fingerprint = hashlib.sha256(der).hexdigest()
        return next((r for r in self.roots if r.fingerprint == fingerprint), None)

    def with_extra(self, extra: tuple[TrustedRoot, ...]) -> TrustedRoots:
        return TrustedRoots(self.roots + extra)

    @classmethod
    def default(cls, extra_pem: Path | None = None) -> TrustedRoots:
        """The pinned AWS root, plus the roots in ``extra_pem`` when given."""
        extra = read_pem_roots(extra_pem) if extra_pem is not None else ()
        return cls((aws_nitro_root(), *extra))


@functools.cache
def aws_nitro_root() -> TrustedRoot:
    """The AWS Nitro Enclaves Root-G1, checked against its published fingerprint."""
    pem = resources.files("graphsvc.proofs").joinpath(_AWS_NITRO_ROOT_FILE).read_bytes()
    root = TrustedRoot.of("aws-nitro-enclaves-root-g1", x509.load_pem_x509_certificate(pem))
    if root.fingerprint != AWS_NITRO_ROOT_FINGERPRINT:
        raise RuntimeError(
            f"the packaged AWS Nitro root has fingerprint {root.fingerprint}, not the "
            f"published {AWS_NITRO_ROOT_FINGERPRINT}: the package is damaged"
        )
    return root


def _root_from_der(name: str, der: bytes) -> TrustedRoot:
    return TrustedRoot.of(name, x509.load_der_x509_certificate(der))


def read_pem_roots(path: Path) -> tuple[TrustedRoot, ...]:
    """Every certificate in a PEM file, named ``<file name>#<n>``; a file with none, or
    one that does not parse, is an error naming the file."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ProofFailure("roots", f"cannot read {path}: {error.strerror or error}") from None
    try:
        certificates = x509.load_pem_x509_certificates(data)
    except ValueError as error:
        raise ProofFailure("roots", f"{path} is not a PEM file of certificates: {error}") from None
    return tuple(
        TrustedRoot.of(f"{path.name}#{number}", certificate)
        for number, certificate in enumerate(certificates)
    )
