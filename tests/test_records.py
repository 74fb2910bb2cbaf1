"""Records: encoding, keys, canonical bytes, signing and validation (docs/reference.md#records)."""

from __future__ import annotations

import hashlib
import json
import os
import stat
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st
from nacl.signing import SigningKey

import graphsvc
from graphsvc.domain import RecordType
from graphsvc.records import (
    Record,
    RecordError,
    b64url_decode,
    b64url_encode,
    canonical_bytes,
    cosign,
    generate_signing_key,
    read_signing_key,
    record_id,
    sign,
    signer_id,
    validate_record,
    verify_key_from_signer,
    write_signing_key,
)
from graphsvc.records.ecma_regex import compile_pattern
from graphsvc.records.schemas import record_validator
from graphsvc.resources import schema_dir

NOW = 1_767_225_600_000  # 2026-01-01T00:00:00Z
TS = NOW - 60_000
FIVE_MINUTES = 300_000
B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def key(label: str) -> SigningKey:
    return SigningKey(hashlib.sha256(label.encode()).digest())


PROVIDER, NODE, WITNESS, REQUESTER, OTHER = map(
    key, ["provider", "node", "witness", "requester", "other"]
)
RECEIPT_ID = "sha256:" + "ab" * 32
SIGNED_BY = {
    RecordType.REGISTER: NODE,
    RecordType.MODEL: PROVIDER,
    RecordType.RECEIPT: NODE,
    RecordType.ATTESTATION: WITNESS,
    RecordType.DISPUTE: REQUESTER,
    RecordType.IMAGE: PROVIDER,
}
# Enclave records carry an attestation document and OpenGradient lines are not signed
# records: tests/test_enclaves.py covers both.
FIELDS: dict[RecordType, dict[str, Any]] = {
    RecordType.REGISTER: {"kind": "node", "name": "node one"},
    RecordType.MODEL: {"model": "acme/llama-3-8b@1", "digest": "sha256:" + "0f" * 32},
    RecordType.RECEIPT: {
        "model": "acme/llama-3-8b@1",
        "input_hash": "sha256:" + "11" * 32,
        "output_hash": "sha256:" + "22" * 32,
        "proof": {"type": "tee", "measurement": "mrenclave:abc"},
    },
    RecordType.ATTESTATION: {"receipt": RECEIPT_ID, "verdict": "invalid", "fault": "node"},
    RecordType.DISPUTE: {"receipt": RECEIPT_ID, "reason": "output is not what the model says"},
    RecordType.IMAGE: {
        "platform": "aws-nitro",
        "name": "gateway v1",
        "pcrs": {"0": "a" * 96, "1": "b" * 96, "2": "c" * 96},
    },
}


def unsigned(record_type: RecordType, **changes: Any) -> dict[str, Any]:
    record = {
        "type": record_type.value,
        "signer": signer_id(SIGNED_BY[record_type]),
        "ts": TS,
        **FIELDS[record_type],
    }
    record.update(changes)
    return record


def signed(record_type: RecordType, **changes: Any) -> dict[str, Any]:
    return sign(unsigned(record_type, **changes), SIGNED_BY[record_type])


def cosigned_receipt(**changes: Any) -> dict[str, Any]:
    return sign(cosign(unsigned(RecordType.RECEIPT, **changes), REQUESTER), NODE)


def rejection(record: object, now_ms: int = NOW) -> RecordError:
    with pytest.raises(RecordError) as caught:
        validate_record(record, now_ms=now_ms)
    return caught.value


def as_transmitted(record: dict[str, Any]) -> Any:
    """What the service receives: the record after a trip through JSON text."""
    return json.loads(json.dumps(record))


def flip_low_bit(text: str) -> str:
    """Change the last character so it sets unused trailing bits (same decoded bytes)."""
    return text[:-1] + B64URL[B64URL.index(text[-1]) ^ 1]


# --- round trips -----------------------------------------------------------------------


@pytest.mark.parametrize("record_type", list(SIGNED_BY))
def test_signed_record_of_every_type_validates(record_type: RecordType) -> None:
    record = as_transmitted(signed(record_type))

    accepted = validate_record(record, now_ms=NOW)

    assert accepted == Record(
        id=record_id(record),
        type=record_type,
        signer=signer_id(SIGNED_BY[record_type]),
        ts=TS,
        body=record,
    )


def test_cosigned_receipt_validates_with_requester_fields() -> None:
    record = as_transmitted(cosigned_receipt())

    accepted = validate_record(record, now_ms=NOW)

    assert record["requester"] == signer_id(REQUESTER)
    assert accepted.signer == signer_id(NODE)
    assert accepted.body["requester_sig"] == record["requester_sig"]


def test_valid_attestation_without_fault_validates() -> None:
    record = signed(RecordType.ATTESTATION, verdict="valid")
    del record["fault"]
    record = sign(record, WITNESS)

    assert validate_record(record, now_ms=NOW).type is RecordType.ATTESTATION


def test_receipt_without_measurement_validates() -> None:
    record = signed(RecordType.RECEIPT, proof={"type": "none"})

    assert validate_record(record, now_ms=NOW).id == record_id(record)


# --- canonical bytes and record ids ----------------------------------------------------


def test_canonical_bytes_are_jcs_without_sig() -> None:
    record = signed(RecordType.REGISTER)

    expected = (
        f'{{"kind":"node","name":"node one","signer":"{signer_id(NODE)}","ts":{TS},'
        '"type":"register"}'
    ).encode()
    assert canonical_bytes(record) == expected


def test_record_id_is_sha256_of_jcs_without_sig() -> None:
    record = cosigned_receipt()
    without_sig = {k: v for k, v in record.items() if k != "sig"}

    expected = "sha256:" + hashlib.sha256(rfc8785.dumps(without_sig)).hexdigest()
    assert record_id(record) == expected
    assert validate_record(record, now_ms=NOW).id == expected


def test_record_id_ignores_sig_but_covers_requester_sig() -> None:
    record = cosigned_receipt()
    other_requester = sign(cosign(unsigned(RecordType.RECEIPT), OTHER), NODE)

    assert record_id({**record, "sig": "anything"}) == record_id(record)
    assert record_id(other_requester) != record_id(record)


def test_record_id_is_stable_across_signings() -> None:
    # Ed25519 is deterministic, so re-signing the same content changes nothing.
    first = signed(RecordType.MODEL)
    again = sign(first, PROVIDER)

    assert again == first
    assert record_id(again) == record_id(first)


def test_canonical_bytes_drop_only_named_top_level_fields() -> None:
    record = {"b": {"sig": 2}, "a": 1, "sig": "x", "requester_sig": "y"}

    assert canonical_bytes(record) == b'{"a":1,"b":{"sig":2},"requester_sig":"y"}'
    assert canonical_bytes(record, without=("sig", "requester_sig")) == b'{"a":1,"b":{"sig":2}}'
    assert canonical_bytes(record, without=()).endswith(b',"sig":"x"}')
    assert record == {"b": {"sig": 2}, "a": 1, "sig": "x", "requester_sig": "y"}


_json_text = st.text(st.characters(codec="utf-8"), max_size=12)
_values = st.recursive(
    st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1) | _json_text,
    lambda inner: st.dictionaries(_json_text, inner, max_size=4),
    max_leaves=12,
)


@settings(derandomize=True, max_examples=200)
@given(
    record=st.dictionaries(_json_text, _values, min_size=1, max_size=8),
    indent=st.sampled_from([None, 0, 2, "\t"]),
    seed=st.integers(min_value=0, max_value=2**32 - 1),
)
def test_key_order_and_whitespace_do_not_change_the_id(
    record: dict[str, Any], indent: int | str | None, seed: int
) -> None:
    shuffled = _shuffled(record, seed)
    text = json.dumps(
        shuffled, indent=indent, separators=(" , ", " : "), ensure_ascii=bool(seed % 2)
    )

    assert record_id(json.loads(text)) == record_id(record)


def _shuffled(value: Any, seed: int) -> Any:
    if not isinstance(value, dict):
        return value
    keys = sorted(value, key=lambda k: hashlib.sha256(f"{seed}:{k}".encode()).digest())
    return {k: _shuffled(value[k], seed) for k in keys}


@settings(derandomize=True, max_examples=50)
@given(seed=st.integers(min_value=0, max_value=2**32 - 1), cosigned=st.booleans())
def test_reordered_pretty_printed_receipt_still_validates_with_same_id(
    seed: int, cosigned: bool
) -> None:
    record = cosigned_receipt() if cosigned else signed(RecordType.RECEIPT)
    text = json.dumps(_shuffled(record, seed), indent=seed % 4)

    assert validate_record(json.loads(text), now_ms=NOW).id == record_id(record)


# --- rejections: signatures ------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("model", "acme/llama-3-8b@2"),
        ("output_hash", "sha256:" + "33" * 32),
        ("ts", TS + 1),
        ("proof", {"type": "none"}),
    ],
)
def test_changed_signed_field_is_rejected(field: str, value: Any) -> None:
    record = signed(RecordType.RECEIPT)
    record[field] = value

    error = rejection(record)

    assert error.field == "sig"
    assert error.reason == f"signature does not verify for signer {signer_id(NODE)}"


def test_record_signed_by_another_key_than_its_signer_is_rejected() -> None:
    record = unsigned(RecordType.DISPUTE)  # names REQUESTER as signer
    record["sig"] = b64url_encode(OTHER.sign(canonical_bytes(record)).signature)

    error = rejection(record)

    assert (error.field, error.reason) == (
        "sig",
        f"signature does not verify for signer {signer_id(REQUESTER)}",
    )


@pytest.mark.parametrize(
    ("mangle", "reason_part"),
    [
        (lambda sig: sig[:-2] + "==", "does not match"),
        (lambda sig: sig + "=", "does not match"),
        (lambda sig: "+" + sig[1:], "does not match"),
        (lambda sig: sig[:40] + "/" + sig[41:], "does not match"),
        (lambda sig: sig[:-1], "does not match"),
        (flip_low_bit, "unused trailing bits are not zero"),
    ],
    ids=["padding", "extra-padding", "plus", "slash", "short", "trailing-bits"],
)
def test_bad_base64_in_sig_is_rejected(mangle: Callable[[str], str], reason_part: str) -> None:
    record = signed(RecordType.MODEL)
    record["sig"] = mangle(record["sig"])

    error = rejection(record)

    assert error.field == "sig"
    assert reason_part in error.reason


@pytest.mark.parametrize(
    ("mangle", "reason_part"),
    [
        (lambda signer: signer + "=", "does not match"),
        (lambda signer: signer[:-1] + "=", "does not match"),
        (lambda signer: "ed25519:+" + signer[9:], "does not match"),
        (lambda signer: signer.replace("ed25519:", "ed448:"), "does not match"),
        (flip_low_bit, "unused trailing bits are not zero"),
    ],
    ids=["padding", "padding-in-place", "plus", "prefix", "trailing-bits"],
)
def test_bad_base64_in_signer_is_rejected(mangle: Callable[[str], str], reason_part: str) -> None:
    record = signed(RecordType.REGISTER)
    record["signer"] = mangle(record["signer"])

    error = rejection(record)

    assert error.field == "signer"
    assert reason_part in error.reason


def test_requester_sig_that_does_not_verify_is_rejected() -> None:
    # The requester field names OTHER, but REQUESTER made the co-signature.
    record = cosign(unsigned(RecordType.RECEIPT), REQUESTER)
    record["requester"] = signer_id(OTHER)
    record = sign(record, NODE)

    error = rejection(record)

    assert error.field == "requester_sig"
    assert error.reason == f"signature does not verify for requester {signer_id(OTHER)}"


def test_requester_sig_changed_after_node_signed_breaks_the_node_signature() -> None:
    # The node signs last and its signature covers requester_sig.
    record = cosigned_receipt()
    record["requester_sig"] = cosign(unsigned(RecordType.RECEIPT, ts=TS + 1), REQUESTER)[
        "requester_sig"
    ]

    assert rejection(record).field == "sig"


def test_requester_sig_with_trailing_bits_is_rejected() -> None:
    record = cosign(unsigned(RecordType.RECEIPT), REQUESTER)
    record["requester_sig"] = flip_low_bit(record["requester_sig"])
    record = sign(record, NODE)

    error = rejection(record)

    assert error.field == "requester_sig"
    assert "trailing bits" in error.reason


# --- rejections: schema ----------------------------------------------------------------


def _required(record_type: RecordType) -> list[str]:
    return sorted(signed(record_type))


@pytest.mark.parametrize(
    ("record_type", "field"),
    [
        (record_type, field)
        for record_type in SIGNED_BY
        for field in _required(record_type)
        if field not in ("type", "fault")
    ],
)
def test_missing_field_is_rejected(record_type: RecordType, field: str) -> None:
    record = signed(record_type)
    del record[field]

    error = rejection(record)

    assert (error.field, error.reason) == (field, "is required")


def test_missing_nested_field_is_rejected() -> None:
    record = signed(RecordType.RECEIPT, proof={"measurement": "m"})

    error = rejection(record)

    assert (error.field, error.reason) == ("proof.type", "is required")


@pytest.mark.parametrize("record_type", list(SIGNED_BY))
def test_extra_field_is_rejected(record_type: RecordType) -> None:
    record = signed(record_type, colour="blue")

    error = rejection(record)

    assert (error.field, error.reason) == ("colour", "is not allowed (unknown field)")


def test_extra_nested_field_is_rejected() -> None:
    record = signed(RecordType.RECEIPT, proof={"type": "tee", "vendor": "x"})

    error = rejection(record)

    assert (error.field, error.reason) == ("proof.vendor", "is not allowed (unknown field)")


@pytest.mark.parametrize(
    ("record_type", "changes", "field", "reason"),
    [
        (RecordType.RECEIPT, {"ts": str(TS)}, "ts", f"'{TS}' is not of type 'integer'"),
        (RecordType.RECEIPT, {"ts": True}, "ts", "True is not of type 'integer'"),
        (RecordType.RECEIPT, {"ts": -1}, "ts", "-1 is less than the minimum of 0"),
        (
            RecordType.RECEIPT,
            {"proof": {"type": "gpu"}},
            "proof.type",
            "'gpu' is not one of ['tee', 'zk', 'none']",
        ),
        (RecordType.RECEIPT, {"proof": "tee"}, "proof", "'tee' is not of type 'object'"),
        (RecordType.REGISTER, {"kind": "model"}, "kind", None),
        (RecordType.REGISTER, {"name": ""}, "name", None),
        (RecordType.MODEL, {"model": "llama-3-8b"}, "model", None),
        (RecordType.MODEL, {"model": "acme/llama@1\n"}, "model", None),
        (RecordType.MODEL, {"digest": "sha256:" + "AB" * 32}, "digest", None),
        (RecordType.RECEIPT, {"input_hash": "short"}, "input_hash", None),
        (RecordType.RECEIPT, {"output_hash": "sha256:a b"}, "output_hash", None),
        (RecordType.ATTESTATION, {"receipt": "sha256:abc"}, "receipt", None),
        (RecordType.ATTESTATION, {"verdict": "maybe"}, "verdict", None),
        (RecordType.ATTESTATION, {"fault": "witness"}, "fault", None),
        (RecordType.ATTESTATION, {"note": "n" * 2001}, "note", None),
        (RecordType.DISPUTE, {"reason": ""}, "reason", None),
    ],
)
def test_wrong_value_is_rejected_with_field_and_reason(
    record_type: RecordType, changes: dict[str, Any], field: str, reason: str | None
) -> None:
    error = rejection(signed(record_type, **changes))

    assert error.field == field
    if reason is not None:
        assert error.reason == reason
    assert str(error) == f"field `{field}`: {error.reason}"


def test_error_message_names_field_and_reason() -> None:
    error = rejection(signed(RecordType.RECEIPT, proof={"type": "gpu"}))

    assert str(error) == "field `proof.type`: 'gpu' is not one of ['tee', 'zk', 'none']"
    assert isinstance(error, ValueError)


def test_huge_value_is_shortened_in_the_reason() -> None:
    error = rejection(signed(RecordType.DISPUTE, reason="x" * 5000))

    assert error.field == "reason"
    assert "(5000 chars)" in error.reason
    assert len(error.reason) < 200


def test_trailing_newline_does_not_pass_an_anchored_pattern() -> None:
    # Python's `$` also matches before a final newline; JSON Schema's (ECMA-262) does not.
    assert compile_pattern("^[a-z]+$").search("abc\n") is None
    assert compile_pattern("^[a-z]+$").search("abc") is not None
    assert compile_pattern(r"^a[$]\$$").search("a$$") is not None


def test_requester_without_requester_sig_is_rejected() -> None:
    record = signed(RecordType.RECEIPT, requester=signer_id(REQUESTER))

    error = rejection(record)

    assert (error.field, error.reason) == (
        "requester_sig",
        "is required when `requester` is present",
    )


def test_requester_sig_without_requester_is_rejected() -> None:
    record = cosign(unsigned(RecordType.RECEIPT), REQUESTER)
    del record["requester"]
    record = sign(record, NODE)

    error = rejection(record)

    assert (error.field, error.reason) == (
        "requester",
        "is required when `requester_sig` is present",
    )


def test_invalid_attestation_without_fault_is_rejected() -> None:
    record = unsigned(RecordType.ATTESTATION)
    del record["fault"]

    error = rejection(sign(record, WITNESS))

    assert (error.field, error.reason) == ("fault", "is required when verdict is 'invalid'")


def test_valid_attestation_with_fault_is_rejected() -> None:
    error = rejection(signed(RecordType.ATTESTATION, verdict="valid", fault="model"))

    assert (error.field, error.reason) == ("fault", "is not allowed unless verdict is 'invalid'")


@pytest.mark.parametrize(
    ("value", "reason_part"),
    [("gpu-receipt", "'gpu-receipt' is not a known record type"), (7, "7 is not a known")],
)
def test_unknown_type_is_rejected_listing_known_types(value: object, reason_part: str) -> None:
    record = signed(RecordType.RECEIPT, type=value)

    error = rejection(record)

    assert error.field == "type"
    assert reason_part in error.reason
    assert "register, model, receipt, attestation, dispute" in error.reason


def test_missing_type_is_rejected() -> None:
    record = signed(RecordType.RECEIPT)
    del record["type"]

    error = rejection(record)

    assert error.field == "type"
    assert error.reason.startswith("is required")


@pytest.mark.parametrize(
    ("raw", "kind"),
    [([], "an array"), ("{}", "a string"), (None, "null"), (3, "a number"), (True, "a boolean")],
)
def test_non_object_is_rejected(raw: object, kind: str) -> None:
    error = rejection(raw)

    assert error.field is None
    assert error.reason == f"a record must be a JSON object, not {kind}"
    assert str(error) == error.reason


def test_string_that_rfc8785_cannot_encode_is_rejected() -> None:
    record = unsigned(RecordType.REGISTER, name="\ud800")
    record["sig"] = "A" * 86

    error = rejection(record)

    assert error.field is None
    assert "RFC 8785" in error.reason


def test_schema_errors_come_before_signature_errors() -> None:
    record = signed(RecordType.RECEIPT)
    record["proof"] = {"type": "gpu"}  # breaks the signature too

    assert rejection(record).field == "proof.type"


# --- rejections: time ------------------------------------------------------------------


def test_record_exactly_five_minutes_ahead_is_accepted() -> None:
    record = signed(RecordType.RECEIPT, ts=NOW + FIVE_MINUTES)

    assert validate_record(record, now_ms=NOW).ts == NOW + FIVE_MINUTES


def test_record_more_than_five_minutes_ahead_is_rejected() -> None:
    ts = NOW + FIVE_MINUTES + 1

    error = rejection(signed(RecordType.RECEIPT, ts=ts))

    assert error.field == "ts"
    assert str(ts) in error.reason
    assert str(NOW) in error.reason


def test_old_records_are_accepted() -> None:
    earliest = 10**12  # 2001-09-09T01:46:40Z in ms, the earliest plausible `ts`
    assert validate_record(signed(RecordType.REGISTER, ts=earliest), now_ms=NOW).ts == earliest


@pytest.mark.parametrize("ts", [0, 1_000_000_000, 1_780_000_000, 10**12 - 1])
def test_a_ts_in_seconds_is_refused_as_such(ts: int) -> None:
    """A time in seconds of any date after 2001 would read as January 1970 in ms."""
    error = rejection(signed(RecordType.RECEIPT, ts=ts))

    assert error.field == "ts"
    assert str(ts) in error.reason and "looks like seconds" in error.reason


# --- signing ---------------------------------------------------------------------------


def test_sign_sets_signer_and_ts_without_touching_the_input() -> None:
    draft = {"type": "register", "kind": "witness", "name": "w"}

    record = sign(draft, WITNESS, now_ms=NOW)

    assert draft == {"type": "register", "kind": "witness", "name": "w"}
    assert record["signer"] == signer_id(WITNESS)
    assert record["ts"] == NOW
    assert validate_record(record, now_ms=NOW).signer == signer_id(WITNESS)


def test_sign_keeps_an_existing_ts() -> None:
    assert sign(unsigned(RecordType.REGISTER), NODE, now_ms=NOW)["ts"] == TS


def test_sign_uses_the_clock_when_no_ts_is_given() -> None:
    before = time.time_ns() // 1_000_000
    record = sign({"type": "register", "kind": "node", "name": "n"}, NODE)
    after = time.time_ns() // 1_000_000

    assert before <= record["ts"] <= after


def test_sign_refuses_a_record_naming_another_signer() -> None:
    with pytest.raises(ValueError, match="names signer") as caught:
        sign(unsigned(RecordType.REGISTER), OTHER)

    assert signer_id(NODE) in str(caught.value)
    assert signer_id(OTHER) in str(caught.value)


@pytest.mark.parametrize("missing", ["signer", "ts"])
def test_cosign_requires_the_nodes_signer_and_ts(missing: str) -> None:
    draft = unsigned(RecordType.RECEIPT)
    del draft[missing]

    with pytest.raises(ValueError, match=f"cosign needs the node's {missing}"):
        cosign(draft, REQUESTER)


def test_cosign_drops_a_stale_node_signature() -> None:
    node_signed = signed(RecordType.RECEIPT)

    record = cosign(node_signed, REQUESTER)

    assert "sig" not in record
    assert "sig" in node_signed
    assert validate_record(sign(record, NODE), now_ms=NOW).signer == signer_id(NODE)


def test_cosign_refuses_a_record_naming_another_requester() -> None:
    draft = unsigned(RecordType.RECEIPT, requester=signer_id(OTHER))

    with pytest.raises(ValueError, match="names requester"):
        cosign(draft, REQUESTER)


# --- encoding --------------------------------------------------------------------------


@settings(derandomize=True, max_examples=300)
@given(st.binary(max_size=100))
def test_b64url_round_trip(data: bytes) -> None:
    text = b64url_encode(data)

    assert "=" not in text
    assert b64url_decode(text) == data


@pytest.mark.parametrize(
    ("text", "reason_part"),
    [
        ("QQ==", "unpadded"),
        ("QUI=", "unpadded"),
        ("Q+E", "invalid base64url character '+' at position 1"),
        ("Q/E", "character '/'"),
        ("QU I", "character ' '"),
        ("QUJD\n", "character '\\n'"),
        ("QUJDR", "invalid base64url length 5"),
        ("QR", "unused trailing bits"),
        ("QUJ", "unused trailing bits"),
    ],
)
def test_b64url_decode_is_strict(text: str, reason_part: str) -> None:
    with pytest.raises(ValueError) as caught:
        b64url_decode(text)

    assert reason_part in str(caught.value)


# --- keys and key files ----------------------------------------------------------------


def test_signer_id_is_prefix_and_unpadded_public_key() -> None:
    signing_key = generate_signing_key()

    signer = signer_id(signing_key)

    assert signer == signer_id(signing_key.verify_key)
    assert signer == "ed25519:" + b64url_encode(bytes(signing_key.verify_key))
    assert len(signer) == len("ed25519:") + 43
    assert verify_key_from_signer(signer) == signing_key.verify_key


def test_generated_keys_differ() -> None:
    assert bytes(generate_signing_key()) != bytes(generate_signing_key())


@pytest.mark.parametrize(
    ("signer", "reason_part"),
    [
        ("ed448:" + "A" * 43, "must start with 'ed25519:'"),
        ("ED25519:" + "A" * 43, "must start with 'ed25519:'"),
        ("ed25519:" + "A" * 42 + "=", "not valid base64url: base64url must be unpadded"),
        ("ed25519:" + "+" * 43, "not valid base64url: invalid base64url character '+'"),
        ("ed25519:" + "A" * 42, "must be 32 bytes, got 31"),
        ("ed25519:" + "A" * 44, "must be 32 bytes, got 33"),
    ],
)
def test_verify_key_from_bad_signer_names_the_problem(signer: str, reason_part: str) -> None:
    with pytest.raises(ValueError) as caught:
        verify_key_from_signer(signer)

    assert reason_part in str(caught.value)


def test_key_file_round_trip_with_owner_only_mode(tmp_path: Path) -> None:
    path = tmp_path / "node.key"
    signing_key = generate_signing_key()

    write_signing_key(path, signing_key)

    assert read_signing_key(path) == signing_key
    assert path.read_text() == b64url_encode(bytes(signing_key)) + "\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_key_file_is_never_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "node.key"
    write_signing_key(path, NODE)

    with pytest.raises(FileExistsError, match="refusing to overwrite"):
        write_signing_key(path, OTHER)

    assert read_signing_key(path) == NODE


def test_key_file_is_not_written_through_a_symlink(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere"
    (tmp_path / "node.key").symlink_to(target)

    with pytest.raises(FileExistsError):
        write_signing_key(tmp_path / "node.key", NODE)

    assert not target.exists()


@pytest.mark.parametrize(
    "content",
    [
        "",
        "not a key\n",
        b64url_encode(bytes(NODE)) + "=\n",
        b64url_encode(bytes(NODE))[:-1] + "\n",
        b64url_encode(bytes(NODE) + b"\0") + "\n",
    ],
    ids=["empty", "garbage", "padded", "truncated", "too-long"],
)
def test_malformed_key_file_is_reported_without_its_content(tmp_path: Path, content: str) -> None:
    path = tmp_path / "bad.key"
    path.write_text(content)

    with pytest.raises(ValueError, match="malformed key file") as caught:
        read_signing_key(path)

    message = str(caught.value)
    assert str(path) in message
    if content.strip():
        assert content.strip() not in message
    assert caught.value.__cause__ is None


def test_key_file_content_never_leaks_into_the_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.key"
    secret = b64url_encode(os.urandom(32))
    path.write_text(secret + "=\n")

    with pytest.raises(ValueError) as caught:
        read_signing_key(path)

    assert secret not in repr(caught.value)
    assert secret[:6] not in str(caught.value)


# --- schemas ---------------------------------------------------------------------------


def _schema_files() -> list[Path]:
    return sorted((schema_dir() / "records").glob("*.schema.json"))


def test_every_record_type_has_a_schema_file() -> None:
    names = {path.name.removesuffix(".schema.json") for path in _schema_files()}

    assert names == {t.value for t in RecordType} | {"common"}


@pytest.mark.parametrize("path", _schema_files(), ids=lambda path: path.name)
def test_schema_files_are_documented_draft_2020_12(path: Path) -> None:
    schema = json.loads(path.read_text())

    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"].endswith("/records/" + path.name)
    assert schema["title"]
    assert schema["description"]
    undocumented = [name for name, sub in _properties(schema) if "description" not in sub]
    assert undocumented == []


def _properties(schema: Any) -> list[tuple[str, dict[str, Any]]]:
    found: list[tuple[str, dict[str, Any]]] = []
    if isinstance(schema, dict):
        for name, sub in schema.get("properties", {}).items():
            found.append((name, sub))
        # An `if` only tests fields declared elsewhere; it declares none of its own.
        for keyword, value in schema.items():
            if keyword != "if":
                found.extend(_properties(value))
    return found


@pytest.mark.parametrize("record_type", list(SIGNED_BY))
def test_record_schemas_are_closed_and_require_the_envelope(record_type: RecordType) -> None:
    schema = json.loads((schema_dir() / "records" / f"{record_type}.schema.json").read_text())

    assert schema["additionalProperties"] is False
    assert {"type", "signer", "ts", "sig"} <= set(schema["required"])
    assert schema["properties"]["type"]["const"] == record_type.value
    assert record_validator(record_type).is_valid(signed(record_type))


def test_importing_records_loads_no_schema() -> None:
    probe = (
        "import graphsvc.records, graphsvc.records.schemas as s;"
        "print(s._load_all.cache_info().currsize, s.record_validator.cache_info().currsize)"
    )
    checkout = str(Path(graphsvc.__file__).resolve().parent.parent)
    env = {**os.environ, "PYTHONPATH": checkout}
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, env=env
    )

    assert result.stdout.split() == ["0", "0"]


def test_a_record_carries_its_signed_form_once_computed() -> None:
    record = as_transmitted(cosigned_receipt())
    accepted = validate_record(record, now_ms=NOW)
    # The form stored and hashed into the log: every field, signatures included.
    assert accepted.signed == canonical_bytes(record, without=())
    assert json.loads(accepted.signed) == record


@pytest.mark.parametrize(
    ("changes", "reason_part"),
    [
        ({"verdict": "valid", "score": 1.5}, "greater than the maximum of 1"),
        ({"score": -0.25}, "less than the minimum of 0"),
        ({"score": "0.3"}, "is not of type 'number'"),
        ({"score": True}, "is not of type 'number'"),
        ({"score": 0.5}, "greater than or equal to the maximum of 0.5"),
        ({"verdict": "valid", "score": 0.25}, "less than the minimum of 0.5"),
    ],
)
def test_a_graded_verdict_outside_its_range_is_rejected_naming_score(
    changes: dict[str, Any], reason_part: str
) -> None:
    """A score is a number in [0, 1] that agrees with the verdict: at least 0.5 when
    valid, below 0.5 when invalid (docs/decisions/0089-graded-verdicts.md)."""
    if changes.get("verdict") == "valid":
        record = unsigned(RecordType.ATTESTATION, **changes)
        del record["fault"]
    else:
        record = unsigned(RecordType.ATTESTATION, **changes)
    error = rejection(sign(record, WITNESS))
    assert error.field == "score"
    assert reason_part in error.reason


@pytest.mark.parametrize(("verdict", "score"), [("valid", 1), ("valid", 0.5), ("invalid", 0.0),
                                                ("invalid", 0.125)])  # fmt: skip
def test_a_graded_verdict_in_range_validates_and_keeps_its_score(
    verdict: str, score: float
) -> None:
    record = unsigned(RecordType.ATTESTATION, verdict=verdict, score=score)
    if verdict == "valid":
        del record["fault"]
    accepted = validate_record(sign(record, WITNESS), now_ms=NOW)
    assert accepted.body["score"] == score  # exact: carried as signed
