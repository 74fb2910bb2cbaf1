"""AWS Nitro Enclaves attestation documents, checked as AWS describes them
("Verifying the root of trust", Nitro Enclaves User Guide), at the document's own time.

Checks, each failing with its own name: ``cbor`` and ``structure`` (COSE_Sign1, the
payload's fields and types), ``algorithm`` (ES384), ``digest`` (SHA384), ``pcrs``
(indexes 0-31, 48 bytes each), ``root`` (the bundle starts at a trusted root),
``chain`` (each certificate issued and signed by the one before, every issuer a CA),
``validity`` (every certificate valid at the document's timestamp) and ``signature``
(the leaf certificate's key signed the document).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ec

from graphsvc.proofs.cose import decode_cbor, parse_cose_sign1
from graphsvc.proofs.errors import ProofFailure
from graphsvc.proofs.report import AttestationReport
from graphsvc.proofs.roots import TrustedRoots

PLATFORM = "aws-nitro"
_PCR_BYTES = 48  # SHA-384
_MAX_PCRS = 32
# Field size bounds from the NSM API's attestation document specification.
_MAX_OPTIONAL = {"public_key": 1024, "user_data": 512, "nonce": 512}
_IMAGE_PCRS = (0, 1, 2)


def verify_nitro(document: bytes, roots: TrustedRoots) -> AttestationReport:
    """Verify a Nitro attestation document (raw COSE_Sign1 bytes) at its own time."""
    message = parse_cose_sign1(document)
    payload = decode_cbor(message.payload, "the payload")
    if not isinstance(payload, dict):
        raise ProofFailure("structure", "the payload is not a CBOR map")
    module_id = _field(payload, "module_id", str)
    digest = _field(payload, "digest", str)
    timestamp = _field(payload, "timestamp", int)
    if not module_id or timestamp <= 0:
        raise ProofFailure("structure", "module_id must be non-empty and timestamp positive")
    if digest != "SHA384":
        raise ProofFailure("digest", f"digest {digest!r} is not SHA384")
    pcrs = _pcrs(_field(payload, "pcrs", dict))
    leaf_der = _field(payload, "certificate", bytes)
    bundle = _field(payload, "cabundle", list)
    if not bundle or not all(isinstance(der, bytes) for der in bundle):
        raise ProofFailure("structure", "cabundle must be a non-empty array of byte strings")
    optional = {name: _optional(payload, name, limit) for name, limit in _MAX_OPTIONAL.items()}

    leaf = _certificate(leaf_der, "certificate")
    key = leaf.public_key()
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise ProofFailure("certificate", "the leaf certificate's key is not an EC key")
    message.verify_es384(key)

    root = roots.find(bundle[0])
    if root is None:
        raise ProofFailure(
            "root", "the certificate bundle does not start at a trusted root (unknown root)"
        )
    chain = [_certificate(der, f"cabundle[{i}]") for i, der in enumerate(bundle)] + [leaf]
    at = dt.datetime.fromtimestamp(timestamp / 1000, tz=dt.UTC)
    _check_chain(chain, at)

    return AttestationReport(
        platform=PLATFORM,
        module_id=module_id,
        timestamp_ms=timestamp,
        measurements=pcrs,
        public_key=optional["public_key"],
        user_data=optional["user_data"],
        nonce=optional["nonce"],
        root=root.name,
        root_fingerprint=root.fingerprint,
        debug=all(not any(pcrs.get(i, b"")) for i in _IMAGE_PCRS),
    )


def _field(payload: dict[Any, Any], name: str, kind: type) -> Any:
    value = payload.get(name)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise ProofFailure("structure", f"payload field {name!r} must be a {kind.__name__}")
    return value


def _optional(payload: dict[Any, Any], name: str, limit: int) -> bytes | None:
    value = payload.get(name)
    if value is None:
        return None
    if not isinstance(value, bytes) or len(value) > limit:
        raise ProofFailure("structure", f"{name} must be null or at most {limit} bytes")
    return value


def _pcrs(raw: dict[Any, Any]) -> dict[int, bytes]:
    if not 1 <= len(raw) <= _MAX_PCRS:
        raise ProofFailure("pcrs", f"{len(raw)} PCRs; a document has 1 to {_MAX_PCRS}")
    pcrs: dict[int, bytes] = {}
    for index, value in raw.items():
        if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < _MAX_PCRS:
            raise ProofFailure("pcrs", f"PCR index {index!r} is not 0 to {_MAX_PCRS - 1}")
        if not isinstance(value, bytes) or len(value) != _PCR_BYTES:
            size = len(value) if isinstance(value, bytes) else type(value).__name__
            raise ProofFailure("pcrs", f"PCR{index} is {size} bytes, not {_PCR_BYTES} (SHA-384)")
        pcrs[index] = value
    return pcrs


def _certificate(der: bytes, where: str) -> x509.Certificate:
    try:
        return x509.load_der_x509_certificate(der)
    except ValueError as error:
        raise ProofFailure("certificate", f"{where} is not a DER certificate: {error}") from None


def _check_chain(chain: list[x509.Certificate], at: dt.datetime) -> None:
    """Root first, leaf last: each certificate valid at ``at``, each issued by the one
    before it (names and signature), and every issuer a CA."""
    for position, certificate in enumerate(chain):
        if not certificate.not_valid_before_utc <= at <= certificate.not_valid_after_utc:
            raise ProofFailure(
                "validity",
                f"{certificate.subject.rfc4514_string()} is valid from "
                f"{certificate.not_valid_before_utc.isoformat()} to "
                f"{certificate.not_valid_after_utc.isoformat()}, not at the document's "
                f"time {at.isoformat()} (expired or not yet valid)",
            )
        if position == 0:
            continue
        issuer = chain[position - 1]
        if not _is_ca(issuer):
            raise ProofFailure("chain", f"{issuer.subject.rfc4514_string()} is not a CA")
        try:
            certificate.verify_directly_issued_by(issuer)
        except (ValueError, TypeError, InvalidSignature) as error:
            raise ProofFailure(
                "chain",
                f"{certificate.subject.rfc4514_string()} is not issued by "
                f"{issuer.subject.rfc4514_string()}: {error or 'bad signature'}",
            ) from None


def _is_ca(certificate: x509.Certificate) -> bool:
    try:
        constraints = certificate.extensions.get_extension_for_class(x509.BasicConstraints)
    except x509.ExtensionNotFound:
        return False
    return constraints.value.ca
