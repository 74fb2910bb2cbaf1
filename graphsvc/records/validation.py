"""Stateless acceptance checks for one submitted record (docs/reference.md#records).

Everything that can be decided from the record alone and the clock: shape (the JSON
Schemas), signatures, and the future-timestamp bound. Whether the signer, model or receipt
it refers to exists is the store's business.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from nacl.exceptions import BadSignatureError
from nacl.signing import VerifyKey

from graphsvc.domain import RecordType
from graphsvc.proofs import TrustedRoots
from graphsvc.records.canonical import canonical_bytes, id_of_canonical, is_plain
from graphsvc.records.enclaves import (
    CheckFailed,
    EnclaveFacts,
    GatewayFacts,
    check_enclave,
    check_gateway_response,
)
from graphsvc.records.encoding import b64url_decode
from graphsvc.records.keys import verify_key_from_signer
from graphsvc.records.schemas import schema_violation
from graphsvc.records.signing import REQUESTER_UNSIGNED

MAX_FUTURE_MS = 5 * 60 * 1000
# The smallest `ts` taken for milliseconds: 2001-09-09T01:46:40Z. A timestamp in seconds
# of any date from then to the year 33658 is below it, and would otherwise read as a day
# in January 1970 (docs/decisions/0074-timestamps.md).
MIN_TS_MS = 10**12

_TYPES = {record_type.value: record_type for record_type in RecordType}
_TYPE_LIST = ", ".join(_TYPES)


@dataclass(frozen=True, slots=True)
class Record:
    """A record that passed :func:`validate_record`."""

    id: str
    type: RecordType
    signer: str
    ts: int
    # The full signed record as submitted (including `sig`), kept so anyone can re-verify it.
    # An OpenGradient response's is the reduced record that is stored
    # (docs/reference.md#opengradient-gateway-responses).
    body: Mapping[str, Any]
    # What the stateless checks established about a proof-carrying record.
    facts: EnclaveFacts | GatewayFacts | None = None
    # The RFC 8785 bytes of ``body``, signatures included: its leaf in the evidence log
    # is their hash, and it is stored as them (computed once, with the other forms).
    signed: bytes = field(default=b"", compare=False, repr=False)


class RecordError(ValueError):
    """Why a record is rejected: the offending field (dotted path, or None) and a reason."""

    def __init__(self, field: str | None, reason: str) -> None:
        self.field = field
        self.reason = reason
        super().__init__(f"field `{field}`: {reason}" if field is not None else reason)


def validate_record(raw: object, *, now_ms: int, roots: TrustedRoots | None = None) -> Record:
    """Check ``raw`` and return it as a :class:`Record`, or raise the first :class:`RecordError`.

    ``roots`` are the roots trusted for attestation documents (default: the pinned AWS
    Nitro root alone).
    """
    if not isinstance(raw, dict):
        raise RecordError(None, f"a record must be a JSON object, not {_json_type(raw)}")
    record_type = _record_type(raw)
    violation = schema_violation(record_type, raw)
    if violation is not None:
        raise RecordError(*violation)
    if record_type is RecordType.OPENGRADIENT:
        return _gateway_record(raw, now_ms)

    signer: str = raw["signer"]
    # One canonicalisation serves the node's signature and the record id.
    plain = is_plain(raw)  # checked once for every form below
    try:
        canonical = canonical_bytes(raw, plain=plain)
    except ValueError as exc:  # e.g. a lone surrogate in a string passes the schema
        raise RecordError(None, f"cannot be canonicalised (RFC 8785): {exc}") from None
    _check_signature(raw, "signer", "sig", canonical)
    if "requester_sig" in raw:
        cosigned = canonical_bytes(raw, without=REQUESTER_UNSIGNED, plain=plain)
        _check_signature(raw, "requester", "requester_sig", cosigned)

    # JSON Schema counts 1.0 as an integer and JCS writes it as 1, so int() loses nothing.
    ts = int(raw["ts"])
    _check_milliseconds(ts, "ts")
    _check_future(ts, now_ms, "ts")
    facts = None
    if record_type is RecordType.ENCLAVE:
        try:
            facts = check_enclave(raw, ts, roots or TrustedRoots.default())
        except CheckFailed as failure:
            raise RecordError(failure.field, failure.reason) from None
    return Record(
        id=id_of_canonical(canonical),
        type=record_type,
        signer=signer,
        ts=ts,
        body=raw,
        facts=facts,
        signed=canonical_bytes(raw, without=(), plain=plain),
    )


def _check_milliseconds(ts: int, field: str) -> None:
    if ts < MIN_TS_MS:
        raise RecordError(
            field,
            f"{ts} looks like seconds, not milliseconds since the Unix epoch (as milliseconds "
            f"it is before 2001-09-09, the earliest accepted: {MIN_TS_MS}); "
            f"multiply a time in seconds by 1000",
        )


def _check_future(ts: int, now_ms: int, field: str) -> None:
    if ts - now_ms > MAX_FUTURE_MS:
        raise RecordError(
            field,
            f"{ts} is {ts - now_ms} ms after the server time {now_ms}; "
            f"at most {MAX_FUTURE_MS} ms in the future is accepted",
        )


def _gateway_record(raw: Mapping[str, Any], now_ms: int) -> Record:
    """An OpenGradient response: its hashes recomputed, then reduced to what is kept. Its
    signature is checked at resolution, against the registered enclave's key."""
    try:
        facts = check_gateway_response(raw)
    except CheckFailed as failure:
        raise RecordError(failure.field, failure.reason) from None
    ts = int(raw["response"]["tee_timestamp"]) * 1000
    _check_future(ts, now_ms, "response.tee_timestamp")
    body = facts.body
    return Record(
        id=id_of_canonical(canonical_bytes(body)),
        type=RecordType.OPENGRADIENT,
        signer=body["tee_id"],
        ts=ts,
        body=body,
        facts=facts,
        signed=canonical_bytes(body, without=()),
    )


def _record_type(raw: Mapping[str, Any]) -> RecordType:
    if "type" not in raw:
        raise RecordError("type", f"is required; known record types: {_TYPE_LIST}")
    value = raw["type"]
    record_type = _TYPES.get(value) if isinstance(value, str) else None
    if record_type is None:
        shown = repr(value)
        shown = shown if len(shown) <= 60 else shown[:59] + "…"
        raise RecordError("type", f"{shown} is not a known record type; known: {_TYPE_LIST}")
    return record_type


def _check_signature(
    raw: Mapping[str, Any], key_field: str, sig_field: str, message: bytes
) -> None:
    try:
        key: VerifyKey = verify_key_from_signer(raw[key_field])
    except ValueError as exc:
        raise RecordError(key_field, str(exc)) from None
    try:
        signature = b64url_decode(raw[sig_field])
    except ValueError as exc:
        raise RecordError(sig_field, str(exc)) from None
    try:
        key.verify(message, signature)
    except (BadSignatureError, ValueError):
        reason = f"signature does not verify for {key_field} {raw[key_field]}"
        raise RecordError(sig_field, reason) from None


def _json_type(value: object) -> str:
    names = {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}
    for python_type, name in names.items():
        if isinstance(value, python_type):
            return name
    if isinstance(value, (int, float)):
        return "a number"
    return type(value).__name__
