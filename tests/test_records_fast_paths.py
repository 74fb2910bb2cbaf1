"""The fast paths of record checking give the reference implementations' answers.

``schema_violation`` answers valid records with jsonschema-rs and hands everything else
to jsonschema (whose verdict stands), so the one way it could change behaviour is by
passing a record jsonschema would reject: both are compared on mutations of valid
records of every type. ``canonical_bytes`` writes plain JSON with the C json encoder
and leaves the rest to rfc8785: both are compared on arbitrary JSON values.
"""

from __future__ import annotations

from typing import Any

import pytest
import rfc8785
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from graphsvc.domain import RecordType
from graphsvc.records.canonical import canonical_bytes
from graphsvc.records.schemas import _passes_fast, record_validator, schema_violation

SIGNER = "ed25519:" + "A" * 43
SIG = "B" * 86
HASH = "sha256:" + "ab" * 32
VALID: dict[RecordType, dict[str, Any]] = {
    RecordType.REGISTER: {"kind": "node", "name": "node one"},
    RecordType.MODEL: {"model": "acme/llama-3-8b@1", "digest": "sha256:" + "0f" * 32},
    RecordType.RECEIPT: {
        "model": "acme/llama-3-8b@1",
        "input_hash": HASH,
        "output_hash": HASH,
        "proof": {"type": "tee", "measurement": "mrenclave:abc"},
        "requester": SIGNER,
        "requester_sig": SIG,
    },
    RecordType.ATTESTATION: {"receipt": HASH, "verdict": "invalid", "fault": "node"},
    RecordType.DISPUTE: {"receipt": HASH, "reason": "output is not what the model says"},
    RecordType.IMAGE: {
        "platform": "aws-nitro",
        "name": "gateway v1",
        "pcrs": {"0": "a" * 96, "1": "b" * 96, "2": "c" * 96},
    },
    RecordType.ENCLAVE: {"platform": "aws-nitro", "attestation": "hEShATgi", "key": "MIIB"},
}


def valid(record_type: RecordType) -> dict[str, Any]:
    return {"type": record_type.value, "signer": SIGNER, "ts": 1, **VALID[record_type], "sig": SIG}


# Strings near the schemas' patterns and limits: the characters they allow, the ones
# regex engines disagree on (line ends, Unicode digits and letters), and long runs.
_TRICKY = "aZ09._-/@:+=\n\r\u2028\u0660\u00e9\U0001f600 $^\\"
strings = st.one_of(
    st.text(alphabet=_TRICKY, max_size=12),
    st.sampled_from(
        [SIGNER, SIG, HASH, "acme/llama-3-8b@1", "tee", "zk", "none", "valid", "invalid"]
    ).flatmap(
        lambda good: st.sampled_from(
            [good, good + "\n", good[:-1], good + "A", "\n" + good, good.upper(), good * 3]
        )
    ),
    st.text(min_size=190, max_size=2100).filter(lambda s: "\ud800" not in s),
)
numbers = st.one_of(
    st.integers(min_value=-(2**64), max_value=2**64),
    st.sampled_from([0, 1, 2**53 - 1, 2**53, 1.0, 1.5, -0.0, 1e300, True, False]),
)
json_values = st.recursive(
    st.none() | st.booleans() | numbers | strings,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(strings, inner, max_size=3),
    max_leaves=6,
)


@st.composite
def mutated(draw: st.DrawFn) -> tuple[RecordType, dict[str, Any]]:
    record_type = draw(st.sampled_from(list(VALID)))
    record = valid(record_type)
    for _ in range(draw(st.integers(1, 3))):
        names = [*record, "extra", "proof", "fault", "note", "measurement"]
        name = draw(st.sampled_from(names))
        if draw(st.booleans()) and name in record:
            del record[name]
        elif name == "proof" and draw(st.booleans()):
            record["proof"] = {
                "type": draw(strings),
                **draw(st.dictionaries(st.sampled_from(["measurement", "x"]), json_values)),
            }
        else:
            record[name] = draw(json_values)
    return record_type, record


@settings(max_examples=600, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(mutated())
@example((RecordType.MODEL, {**valid(RecordType.MODEL), "model": "acme/llama-3-8b@1\n"}))
@example((RecordType.RECEIPT, {**valid(RecordType.RECEIPT), "ts": 1.0}))
@example((RecordType.RECEIPT, {**valid(RecordType.RECEIPT), "ts": True}))
def test_fast_path_agrees_with_jsonschema(case: tuple[RecordType, dict[str, Any]]) -> None:
    record_type, record = case
    reference = record_validator(record_type).is_valid(record)
    assert _passes_fast(record_type, record) == reference
    assert (schema_violation(record_type, record) is None) == reference


def test_values_the_fast_path_cannot_take_go_to_the_reference() -> None:
    # jsonschema-rs raises on values it cannot convert; the reference then decides.
    record = {**valid(RecordType.DISPUTE), "reason": b"bytes"}
    assert not _passes_fast(RecordType.DISPUTE, record)
    assert schema_violation(RecordType.DISPUTE, record) == (
        "reason",
        "b'bytes' is not of type 'string'",
    )
    surrogate = {**valid(RecordType.DISPUTE), "receipt": "sha256:\ud800" + "a" * 63}
    assert not _passes_fast(RecordType.DISPUTE, surrogate)
    assert schema_violation(RecordType.DISPUTE, surrogate) is not None


# Any JSON, and the Python values json.loads makes: floats, big integers, any strings
# (lone surrogates too) and keys with characters whose UTF-16 order differs from
# code point order.
_any_text = st.text(alphabet=st.characters(codec=None), max_size=8)
any_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**60), max_value=2**60)
    | st.sampled_from([2**53 - 1, -(2**53 - 1), 2**53, 1.0, -0.0, 1e21, 5e-324, 0.1])
    | st.floats(allow_nan=False, allow_infinity=False)
    | _any_text,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(_any_text | st.sampled_from(["sig", "a", "\ue000", "\U00010000"]), inner)
    ),
    max_leaves=12,
)


def _reference(record: dict[str, Any]) -> bytes | type[Exception]:
    try:
        return rfc8785.dumps({k: v for k, v in record.items() if k != "sig"})
    except Exception as error:
        return type(error)


@settings(max_examples=600, deadline=None)
@given(st.dictionaries(_any_text | st.sampled_from(["sig", "ts", "type"]), any_json))
@example({"s": '\x00\x1f\x7f\u2028"\\/é\U0001f600', "n": 2**53 - 1, "sig": "x"})
@example({"\ue000": 1, "\U00010000": 2})  # UTF-16 puts the second first
@example({"ts": 1.0})
@example({"lone": "\udc00"})
def test_canonical_bytes_are_rfc8785(record: dict[str, Any]) -> None:
    expected = _reference(record)
    if isinstance(expected, bytes):
        assert canonical_bytes(record) == expected
    else:
        with pytest.raises(expected):
            canonical_bytes(record)
