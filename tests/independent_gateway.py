"""A second, independent implementation of the OpenGradient TEE gateway's signing rule
(docs/reference.md#opengradient-gateway-responses), written from the rule as the issue and
OpenGradient/tee-gateway
state it, sharing no code with graphsvc.proofs: keccak256 from eth-hash, RSA-PSS from
cryptography directly. Tests make gateway responses with it."""

from __future__ import annotations

import base64
import json
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from eth_hash.auto import keccak


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def key_der(key: rsa.RSAPrivateKey) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def tee_id(key: rsa.RSAPrivateKey) -> str:
    return "0x" + keccak(key_der(key)).hex()


def sign_hashes(key: rsa.RSAPrivateKey, first: bytes, second: bytes, timestamp: int) -> str:
    """RSA-PSS-SHA256, 32-byte salt, over keccak256(first ‖ second ‖ timestamp 32 bytes BE)."""
    message = keccak(first + second + timestamp.to_bytes(32, "big"))
    signature = key.sign(
        message,
        padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32),
        hashes.SHA256(),
    )
    return base64.b64encode(signature).decode("ascii")


def verify_hashes(
    key_der_bytes: bytes, first: bytes, second: bytes, timestamp: int, signature: str
) -> bool:
    """Whether ``signature`` (standard base64) is the enclave key's RSA-PSS-SHA256 (32-byte
    salt) over keccak256(first ‖ second ‖ timestamp 32 bytes BE)."""
    key = serialization.load_der_public_key(key_der_bytes)
    assert isinstance(key, rsa.RSAPublicKey)
    message = keccak(first + second + timestamp.to_bytes(32, "big"))
    try:
        key.verify(
            base64.b64decode(signature),
            message,
            padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32),
            hashes.SHA256(),
        )
    except InvalidSignature:
        return False
    return True


def respond(
    key: rsa.RSAPrivateKey,
    request: dict[str, Any],
    content: str,
    timestamp: int,
    *,
    tool_calls: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """A chat completion as the gateway answers it, tee_* fields included."""
    hashed_answer = json.dumps(tool_calls, sort_keys=True) if tool_calls else content
    request_hash = keccak(json.dumps(request, sort_keys=True).encode("utf-8"))
    output_hash = keccak(hashed_answer.encode("utf-8"))
    message: dict[str, Any] = {"role": "assistant", "content": content}
    if tool_calls:
        message["tool_calls"] = tool_calls
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": timestamp,
        "model": request["model"],
        "choices": [
            {
                "index": 0,
                "message": message,
                "finish_reason": "tool_calls" if tool_calls else "stop",
            }
        ],
        "tee_signature": sign_hashes(key, request_hash, output_hash, timestamp),
        "tee_request_hash": request_hash.hex(),
        "tee_output_hash": output_hash.hex(),
        "tee_timestamp": timestamp,
        "tee_id": tee_id(key),
    }


def sign_receipt(key: rsa.RSAPrivateKey, input_hash: str, output_hash: str, ts: int) -> str:
    """An enclave's signature over a graphsvc receipt's hashes (same rule, ts in ms)."""
    return sign_hashes(
        key, keccak(input_hash.encode("utf-8")), keccak(output_hash.encode("utf-8")), ts
    )
