"""The OpenGradient TEE gateway's signing rule (public repository OpenGradient/tee-gateway,
``tee_gateway/tee_manager.py`` and the chat and completions controllers).

- request hash: keccak256 of ``json.dumps(request, sort_keys=True)`` (Python's default
  separators, ASCII escapes), written as 64 lowercase hex digits without ``0x``;
- output hash: keccak256 of the answer's content, or of
  ``json.dumps(tool_calls, sort_keys=True)`` when the answer is tool calls; same spelling;
- message: keccak256(request hash ‖ output hash ‖ timestamp as a 32-byte big-endian
  integer), the timestamp in whole seconds;
- signature: RSA-PSS with SHA-256, MGF1-SHA-256 and a 32-byte salt over the message,
  standard base64 with padding;
- ``tee_id``: ``0x`` + hex keccak256 of the enclave key's DER SubjectPublicKeyInfo.

graphsvc's own receipts use the same rule over their hashes
(docs/reference.md#checked-proofs-enclaves-and-images).
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.serialization import load_der_public_key

from graphsvc.proofs.errors import ProofFailure
from graphsvc.proofs.keccak import keccak256

_PSS = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)
MIN_RSA_BITS = 2048


@dataclass(frozen=True)
class GatewayResponse:
    """What a gateway response commits to, with the prompt and the answer hashed away."""

    tee_id: str
    model: str
    request_hash: bytes
    output_hash: bytes
    timestamp: int  # seconds
    signature: bytes


def request_hash(request: Any) -> bytes:
    """keccak256 of the request as the gateway serialises it."""
    return keccak256(json.dumps(request, sort_keys=True).encode("utf-8"))


def answer_content(response: dict[str, Any]) -> str:
    """The text the gateway hashed as its output: the first choice's message content, its
    tool calls serialised when it answered with tool calls, or a completion's text."""
    choices = response.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        raise ProofFailure("structure", "response.choices must be a non-empty array of objects")
    choice = choices[0]
    message = choice.get("message")
    if isinstance(message, dict):
        tool_calls = message.get("tool_calls")
        if choice.get("finish_reason") == "tool_calls" and tool_calls:
            return json.dumps(tool_calls, sort_keys=True)
        content = message.get("content")
        if content is None:
            return ""
        if not isinstance(content, str):
            raise ProofFailure("structure", "response.choices[0].message.content must be text")
        return content
    text = choice.get("text")
    if isinstance(text, str):
        return text
    raise ProofFailure("structure", "response.choices[0] has neither a message nor a text")


def gateway_message(request_digest: bytes, output_digest: bytes, timestamp: int) -> bytes:
    """keccak256(request hash ‖ output hash ‖ timestamp as 32 bytes big-endian)."""
    if timestamp < 0 or timestamp >= 1 << 256:
        raise ProofFailure("timestamp", "the timestamp does not fit an unsigned 256-bit integer")
    return keccak256(request_digest + output_digest + timestamp.to_bytes(32, "big"))


@functools.lru_cache(maxsize=4096)
def load_enclave_key(key_der: bytes) -> rsa.RSAPublicKey:
    """An enclave signing key from its DER SubjectPublicKeyInfo: RSA, at least 2048 bits."""
    try:
        key = load_der_public_key(key_der)
    except (ValueError, TypeError) as error:
        raise ProofFailure("key", f"not a DER SubjectPublicKeyInfo: {error}") from None
    if not isinstance(key, rsa.RSAPublicKey):
        raise ProofFailure("key", "enclave keys are RSA keys (the gateway signs with RSA-PSS)")
    if key.key_size < MIN_RSA_BITS:
        raise ProofFailure("key", f"a {key.key_size}-bit RSA key; at least {MIN_RSA_BITS}")
    return key


def verify_gateway_signature(key: rsa.RSAPublicKey, message: bytes, signature: bytes) -> None:
    """RSA-PSS-SHA256 (32-byte salt) over ``message``; :class:`ProofFailure` if not."""
    try:
        key.verify(signature, message, _PSS, hashes.SHA256())
    except InvalidSignature:
        raise ProofFailure(
            "signature", "the enclave's RSA-PSS signature does not verify with its key"
        ) from None
