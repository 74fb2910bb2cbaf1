"""docs/reference.md#records cross-checked against an independent implementation
(tests/independent_signer.py).

Records signed without graphsvc.records must validate and get the same id, and the two
implementations must agree byte for byte, so neither can drift from the design alone.
"""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nacl.signing import SigningKey

from graphsvc.domain import RecordType
from graphsvc.records import RecordError, cosign, sign, validate_record
from tests.independent_signer import (
    canonical,
    cosign_record,
    key_for,
    record_id,
    sign_record,
    signer_of,
    verifies,
)

NOW = 1_767_225_600_000
TS = NOW - 1_000
NODE, REQUESTER, OTHER = map(key_for, ["node-1", "requester-1", "other-1"])
RECEIPT_ID = "sha256:" + hashlib.sha256(b"some receipt").hexdigest()

# Each type with the label of its signer's key and its fields.
DRAFTS: dict[RecordType, tuple[str, dict[str, Any]]] = {
    RecordType.REGISTER: ("node-1", {"kind": "node", "name": "Node 1 — Zürich"}),
    RecordType.MODEL: ("provider-1", {"model": "acme/llama-3-8b@1", "digest": "ab" * 32}),
    RecordType.RECEIPT: (
        "node-1",
        {
            "model": "acme/llama-3-8b@1",
            "input_hash": "sha256:" + "01" * 32,
            "output_hash": "sha256:" + "02" * 32,
            "proof": {"type": "zk", "measurement": "proof:xyz"},
        },
    ),
    RecordType.ATTESTATION: (
        "witness-1",
        {"receipt": RECEIPT_ID, "verdict": "valid", "note": "reproduced twice"},
    ),
    RecordType.DISPUTE: ("requester-1", {"receipt": RECEIPT_ID, "reason": "wrong answer"}),
}


def draft(record_type: RecordType, **changes: Any) -> dict[str, Any]:
    _, fields = DRAFTS[record_type]
    return {"type": record_type.value, "ts": TS, **fields, **changes}


def independently_signed(record_type: RecordType, **changes: Any) -> dict[str, Any]:
    label, _ = DRAFTS[record_type]
    return sign_record(draft(record_type, **changes), key_for(label))


def independently_cosigned_receipt() -> dict[str, Any]:
    record = draft(RecordType.RECEIPT, signer=signer_of(NODE))
    return sign_record(cosign_record(record, REQUESTER), NODE)


def nacl_key(label: str) -> SigningKey:
    # key_for derives the seed this way too; the same seed gives the same key in both libraries.
    return SigningKey(hashlib.sha256(label.encode()).digest())


@pytest.mark.parametrize("record_type", list(DRAFTS))
def test_independently_signed_records_validate_with_the_same_id(record_type: RecordType) -> None:
    record = independently_signed(record_type)

    accepted = validate_record(record, now_ms=NOW)

    assert accepted.id == record_id(record)
    assert accepted.signer == signer_of(key_for(DRAFTS[record_type][0]))


def test_independently_cosigned_receipt_validates_with_the_same_id() -> None:
    record = independently_cosigned_receipt()

    assert validate_record(record, now_ms=NOW).id == record_id(record)


@pytest.mark.parametrize("record_type", list(DRAFTS))
def test_graphsvc_signatures_equal_the_independent_ones(record_type: RecordType) -> None:
    # Ed25519 signatures are deterministic: equal bytes signed means equal signatures.
    label, _ = DRAFTS[record_type]

    ours = sign(draft(record_type), nacl_key(label))

    assert ours == independently_signed(record_type)
    assert verifies(ours)


def test_graphsvc_cosigned_receipt_equals_the_independent_one() -> None:
    record = draft(RecordType.RECEIPT, signer=signer_of(NODE))

    ours = sign(cosign(record, nacl_key("requester-1")), nacl_key("node-1"))

    assert ours == independently_cosigned_receipt()
    assert verifies(ours)


@pytest.mark.parametrize(
    ("tamper", "field"),
    [
        (lambda r: r.update(output_hash="sha256:" + "03" * 32), "sig"),
        (lambda r: r.update(ts=r["ts"] + 1), "sig"),
        (lambda r: r["proof"].update(type="tee"), "sig"),
        (lambda r: r.update(signer=signer_of(OTHER)), "sig"),
        (lambda r: r.update(requester=signer_of(OTHER)), "sig"),
        (lambda r: r.update(sig=sign_record(r, OTHER)["sig"]), "sig"),
        (lambda r: r.pop("requester_sig"), "requester_sig"),
        (lambda r: r.update(extra=1), "extra"),
    ],
    ids=[
        "output",
        "ts",
        "proof",
        "signer",
        "requester",
        "other-key",
        "drop-requester-sig",
        "extra-field",
    ],
)
def test_tampered_independent_receipts_are_rejected(tamper: Any, field: str) -> None:
    record = independently_cosigned_receipt()
    tamper(record)

    with pytest.raises(RecordError) as caught:
        validate_record(record, now_ms=NOW)

    assert caught.value.field == field
    assert not verifies(record)


def test_requester_signature_by_the_wrong_key_is_rejected() -> None:
    record = draft(RecordType.RECEIPT, signer=signer_of(NODE))
    cosigned = cosign_record(record, OTHER)
    cosigned["requester"] = signer_of(REQUESTER)
    forged = sign_record(cosigned, NODE)

    with pytest.raises(RecordError) as caught:
        validate_record(forged, now_ms=NOW)

    assert caught.value.field == "requester_sig"
    assert signer_of(REQUESTER) in caught.value.reason


_hex64 = st.text("0123456789abcdef", min_size=64, max_size=64)
_name_part = st.from_regex(r"\A[A-Za-z0-9][A-Za-z0-9._-]{0,20}\Z")


@settings(derandomize=True, max_examples=100)
@given(
    publisher=_name_part,
    model=_name_part,
    version=st.from_regex(r"\A[A-Za-z0-9._-]{1,10}\Z"),
    input_hex=_hex64,
    output_hex=_hex64,
    proof=st.sampled_from(["tee", "zk", "none"]),
    ts=st.integers(min_value=10**12, max_value=NOW),  # 10**12: the earliest plausible ms
    cosigned=st.booleans(),
)
def test_any_well_formed_independent_receipt_validates(
    publisher: str,
    model: str,
    version: str,
    input_hex: str,
    output_hex: str,
    proof: str,
    ts: int,
    cosigned: bool,
) -> None:
    record: dict[str, Any] = {
        "type": "receipt",
        "signer": signer_of(NODE),
        "ts": ts,
        "model": f"{publisher}/{model}@{version}",
        "input_hash": "sha256:" + input_hex,
        "output_hash": "sha256:" + output_hex,
        "proof": {"type": proof},
    }
    if cosigned:
        record = cosign_record(record, REQUESTER)
    record = sign_record(record, NODE)

    accepted = validate_record(record, now_ms=NOW)

    assert accepted.id == record_id(record)
    assert accepted.id == "sha256:" + hashlib.sha256(canonical(record)).hexdigest()
