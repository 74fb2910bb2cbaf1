"""Proofs that are checked: TEE attestation documents and the signatures of attested
enclaves (docs/reference.md#checked-proofs-enclaves-and-images,
docs/decisions/0071-proof-status.md).

Pure: no network, no store, no environment. Time is the document's own; trusted roots
are passed in (the pinned AWS root, plus those a deployment names in a PEM file).
"""

from graphsvc.proofs.attestation import PLATFORMS, verify_attestation
from graphsvc.proofs.binding import KeyBinding, bind_key, enclave_id
from graphsvc.proofs.errors import ProofFailure
from graphsvc.proofs.gateway import (
    GatewayResponse,
    answer_content,
    gateway_message,
    load_enclave_key,
    request_hash,
    verify_gateway_signature,
)
from graphsvc.proofs.keccak import keccak256
from graphsvc.proofs.report import AttestationReport
from graphsvc.proofs.roots import TrustedRoot, TrustedRoots, aws_nitro_root, read_pem_roots

__all__ = [
    "PLATFORMS",
    "AttestationReport",
    "GatewayResponse",
    "KeyBinding",
    "ProofFailure",
    "TrustedRoot",
    "TrustedRoots",
    "answer_content",
    "aws_nitro_root",
    "bind_key",
    "enclave_id",
    "gateway_message",
    "keccak256",
    "load_enclave_key",
    "read_pem_roots",
    "request_hash",
    "verify_attestation",
    "verify_gateway_signature",
]
