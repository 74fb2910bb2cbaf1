"""Signed records: encoding, keys, canonical bytes, signing and validation
(docs/reference.md#records)."""

from graphsvc.records.canonical import canonical_bytes, record_id
from graphsvc.records.encoding import b64url_decode, b64url_encode
from graphsvc.records.keys import (
    generate_signing_key,
    read_signing_key,
    signer_id,
    verify_key_from_signer,
    write_signing_key,
)
from graphsvc.records.signing import cosign, sign
from graphsvc.records.validation import Record, RecordError, validate_record

__all__ = [
    "Record",
    "RecordError",
    "b64url_decode",
    "b64url_encode",
    "canonical_bytes",
    "cosign",
    "generate_signing_key",
    "read_signing_key",
    "record_id",
    "sign",
    "signer_id",
    "validate_record",
    "verify_key_from_signer",
    "write_signing_key",
]
