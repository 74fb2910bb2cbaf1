"""The stateless checks of the proof-carrying records
(docs/reference.md#checked-proofs-enclaves-and-images,
docs/reference.md#opengradient-gateway-responses):
an enclave's attestation document, and an OpenGradient gateway response's hashes.

What they establish travels with the record (:class:`EnclaveFacts`,
:class:`GatewayFacts`), so resolution does not decode a document twice. Whether the
enclave is registered, and whether its key signed, is resolution's business: only the
store knows the key.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from graphsvc.proofs import (
    ProofFailure,
    TrustedRoots,
    answer_content,
    bind_key,
    enclave_id,
    keccak256,
    load_enclave_key,
    request_hash,
    verify_attestation,
)

# How much older than its registration an attestation document may be, and how much
# newer (docs/decisions/0072-enclave-freshness.md).
MAX_DOCUMENT_AGE_MS = 24 * 60 * 60 * 1000
MAX_DOCUMENT_LEAD_MS = 5 * 60 * 1000
IMAGE_REGISTERS = ("0", "1", "2")


class CheckFailed(ValueError):
    """A failed check of a proof-carrying record: its field and reason."""

    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        self.reason = reason
        super().__init__(reason)


@dataclass(frozen=True)
class EnclaveFacts:
    id: str
    key_der: bytes
    attested_ms: int
    measurements: dict[str, str]  # register index -> lowercase hex
    image: str | None  # the image key of PCR0-2, None in debug mode
    debug: bool
    root: str
    binding: str


@dataclass(frozen=True)
class GatewayFacts:
    """An OpenGradient response reduced to what is kept: no prompt, no answer."""

    body: dict[str, Any]  # the stored record (docs/reference.md#opengradient-gateway-responses)


GATEWAY_PUBLISHER = "opengradient"
GATEWAY_VERSION = "gateway"


def gateway_model(name: str) -> str:
    """The graphsvc model a gateway model name stands for (docs/decisions/0073-gateway-models.md):
    ``opengradient/<name>@gateway``, which a provider must have published."""
    return f"{GATEWAY_PUBLISHER}/{name}@{GATEWAY_VERSION}"


def image_key(platform: str, pcrs: Mapping[str, str]) -> str:
    """One key for an image's measurements: ``<platform>:`` + SHA-256 of PCR0-2's hex."""
    joined = "|".join(pcrs[i] for i in IMAGE_REGISTERS)
    return f"{platform}:" + hashlib.sha256(joined.encode("ascii")).hexdigest()


def check_enclave(raw: Mapping[str, Any], ts: int, roots: TrustedRoots) -> EnclaveFacts:
    """Verify the document at its own time, that it binds the key, and its freshness."""
    platform = raw["platform"]
    document = base64.b64decode(raw["attestation"])
    key_der = base64.b64decode(raw["key"])
    try:
        load_enclave_key(key_der)
    except ProofFailure as failure:
        raise CheckFailed("key", str(failure)) from None
    try:
        report = verify_attestation(platform, document, roots)
    except ProofFailure as failure:
        raise CheckFailed("attestation", str(failure)) from None
    try:
        binding = bind_key(report, key_der)
    except ProofFailure as failure:
        raise CheckFailed("key", str(failure)) from None
    age = ts - report.timestamp_ms
    if age > MAX_DOCUMENT_AGE_MS or -age > MAX_DOCUMENT_LEAD_MS:
        raise CheckFailed(
            "attestation",
            f"freshness: the document is from {report.timestamp_ms}, {age} ms before the "
            f"registration's ts {ts}; it may be at most {MAX_DOCUMENT_AGE_MS} ms older and "
            f"{MAX_DOCUMENT_LEAD_MS} ms newer",
        )
    measurements = {str(i): value.hex() for i, value in sorted(report.measurements.items())}
    image = None
    if not report.debug and all(i in measurements for i in IMAGE_REGISTERS):
        image = image_key(platform, measurements)
    return EnclaveFacts(
        id=enclave_id(key_der),
        key_der=key_der,
        attested_ms=report.timestamp_ms,
        measurements=measurements,
        image=image,
        debug=report.debug,
        root=report.root,
        binding=str(binding),
    )


def check_gateway_response(raw: Mapping[str, Any]) -> GatewayFacts:
    """Recompute both hashes the gateway signed; keep the hashes, model and signature."""
    request, response = raw["request"], raw["response"]
    signed_request = response["tee_request_hash"]
    computed = request_hash(request).hex()
    if computed != signed_request:
        raise CheckFailed(
            "request",
            f"changed request: keccak256 of json.dumps(request, sort_keys=True) is {computed}, "
            f"the enclave signed tee_request_hash {signed_request}",
        )
    try:
        content = answer_content(response)
    except ProofFailure as failure:
        raise CheckFailed("response.choices", failure.reason) from None
    signed_output = response["tee_output_hash"]
    computed = keccak256(content.encode("utf-8")).hex()
    if computed != signed_output:
        raise CheckFailed(
            "response.choices",
            f"changed answer: keccak256 of the answer's content is {computed}, the enclave "
            f"signed tee_output_hash {signed_output}",
        )
    return GatewayFacts(
        body={
            "type": "opengradient",
            "tee_id": response["tee_id"],
            "model": request["model"],
            "request_hash": signed_request,
            "output_hash": signed_output,
            "timestamp": response["tee_timestamp"],
            "signature": response["tee_signature"],
        }
    )
