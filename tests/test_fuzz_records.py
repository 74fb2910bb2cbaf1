"""Records that lie, fuzzed (hypothesis, seeded): changed after signing, flipped or
non-canonical signatures, non-canonical encodings, lone surrogates and NUL, huge values,
bad timestamps, wrong types, extra fields. Each is rejected, or is byte for byte the
same record as one already stored (so a duplicate); nothing new is accepted and the
store is unchanged (docs/decisions/0053-strict-json-input.md)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from graphsvc.api.app import create_app
from graphsvc.records import b64url_decode, b64url_encode, builder, record_id
from graphsvc.settings import Settings
from tests.conftest import Clocked
from tests.network import MODEL, T0, Network
from tests.store_state import store_digest
from tests.test_records_fast_paths import json_values

# The group order of Ed25519: a signature's S must be below it (RFC 8032 5.1.7).
ED25519_L = 2**252 + 27742317777372353535851937790883648493
CASES = {"records": 0, "lines": 0}  # counted for bench/RESULTS.md (printed at the end)


def _stored(net: Network) -> list[dict[str, Any]]:
    return [*net.basics(), *(net.receipt(n) for n in range(4))]


def _flip_bit(sig: str, bit: int) -> str:
    raw = bytearray(b64url_decode(sig))
    raw[bit // 8 % len(raw)] ^= 1 << (bit % 8)
    return b64url_encode(bytes(raw))


def _s_plus_l(sig: str) -> str:
    raw = b64url_decode(sig)
    s = int.from_bytes(raw[32:], "little") + ED25519_L
    return b64url_encode(raw[:32] + s.to_bytes(32, "little")) if s < 2**256 else sig


@st.composite
def lying_record(draw: st.DrawFn, originals: list[dict[str, Any]]) -> dict[str, Any]:
    """A stored record, changed after signing (or re-signed with a bad timestamp)."""
    record = dict(draw(st.sampled_from(originals)))
    how = draw(
        st.sampled_from(
            ["field", "sig_bit", "sig_s", "surrogate", "nul", "huge", "type", "extra", "ts"]
        )
    )
    fields = sorted(k for k in record if k != "sig")
    name = draw(st.sampled_from(fields))
    if how == "field":
        record[name] = draw(json_values)
    elif how == "sig_bit":
        record["sig"] = _flip_bit(record["sig"], draw(st.integers(0, 511)))
    elif how == "sig_s":
        record["sig"] = _s_plus_l(record["sig"])
    elif how in ("surrogate", "nul"):
        text_fields = [k for k in fields if isinstance(record[k], str)]
        field = draw(st.sampled_from(text_fields))
        record[field] = record[field] + ("\ud800" if how == "surrogate" else "\x00")
    elif how == "huge":
        record[name] = draw(st.sampled_from([10**40, -(10**40), "x" * 300_000, 1e308]))
    elif how == "type":
        record[name] = draw(st.sampled_from([[record[name]], {"v": record[name]}, None, True]))
    elif how == "extra":
        record[draw(st.sampled_from(["extra", "note", "sig2", "Type"]))] = draw(json_values)
    else:  # signed properly, with a timestamp the rules refuse
        ts = draw(st.sampled_from([-1, -(2**40), T0 + 10**12, 2**53 - 1]))
        node = Network().node
        record = builder.receipt(node, MODEL, "sha256:" + "1" * 64, "sha256:" + "2" * 64, ts)
    return record


@pytest.fixture
def fuzzed(clocked: Clocked) -> Iterator[tuple[Clocked, list[dict[str, Any]]]]:
    net = Network()
    stored = _stored(net)
    assert {str(r.status) for r in clocked.services.ingestor.submit(stored)} == {"accepted"}
    yield clocked, stored


@contextmanager
def _unchanged(clocked: Clocked) -> Iterator[None]:
    before = store_digest(clocked.store)
    yield
    assert store_digest(clocked.store) == before


def _assert_no_new_record(results: list[Any], stored_ids: set[str], sent: list[Any]) -> None:
    for result, raw in zip(results, sent, strict=True):
        # An HTTP answer spells it as GraphQL does (DUPLICATE); the ingestor's own value
        # is lower case.
        status = (result["status"] if isinstance(result, dict) else result.status.name).lower()
        rid = result.get("id") if isinstance(result, dict) else result.id
        if status == "duplicate":
            assert rid in stored_ids, (raw, result)
        else:
            assert status == "rejected", (raw, result)


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_lying_records_are_rejected_and_change_nothing(
    fuzzed: tuple[Clocked, list[dict[str, Any]]], data: st.DataObject
) -> None:
    _lying_batch(*fuzzed, data)


@pytest.mark.soak
@settings(max_examples=1_500, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_many_more_lying_records(
    fuzzed: tuple[Clocked, list[dict[str, Any]]], data: st.DataObject
) -> None:
    _lying_batch(*fuzzed, data)


def _lying_batch(clocked: Clocked, stored: list[dict[str, Any]], data: st.DataObject) -> None:
    with _unchanged(clocked):
        batch = data.draw(st.lists(lying_record(stored), min_size=1, max_size=40))
        CASES["records"] += len(batch)
        results = clocked.services.ingestor.submit(batch)
        _assert_no_new_record(results, {record_id(r) for r in stored}, batch)


def _text_variants(record: dict[str, Any]) -> list[bytes]:
    """The same record written differently, and lines that only look like it."""
    line = json.dumps(record)
    ts = str(record["ts"])
    return [
        line.replace(f'"ts": {ts}', f'"ts": {ts}.0').encode(),  # 1.0 for 1: same record
        line.replace('"type": "', '"type": "\\u0072', 1)
        .replace('"\\u0072r', '"\\u0072', 1)
        .encode(),  # an escape for a letter
        json.dumps(record, ensure_ascii=False).encode(),  # raw unicode: same record
        line.replace("{", '{"ts": 0, ', 1).encode(),  # a duplicate key
        line.encode()[:-1] + b"\xff}",  # not UTF-8
        line.replace(f'"ts": {ts}', f'"ts": {"9" * 5000}').encode(),  # a huge integer
        b"[" * 100_000 + b"]" * 100_000,  # nested 100k deep
        line.replace(f'"ts": {ts}', '"ts": NaN').encode(),
        line[: len(line) // 2].encode(),  # cut short
    ]


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_lying_lines_are_rejected_one_by_one_and_change_nothing(
    fuzzed: tuple[Clocked, list[dict[str, Any]]], data: st.DataObject
) -> None:
    clocked, stored = fuzzed
    with _unchanged(clocked):
        _post_lying_lines(clocked, stored, data)


def _post_lying_lines(clocked: Clocked, stored: list[dict[str, Any]], data: st.DataObject) -> None:
    record = data.draw(st.sampled_from(stored))
    lines = data.draw(st.permutations(_text_variants(record)))
    CASES["lines"] += len(lines)
    with TestClient(create_app(clocked.services)) as client:
        response = client.post("/records", content=b"\n".join(lines) + b"\n")
    assert response.status_code == 200, response.text
    *results, summary = [json.loads(line) for line in response.text.splitlines()]
    assert [r["index"] for r in results] == list(range(len(lines)))
    _assert_no_new_record(results, {record_id(r) for r in stored}, lines)
    for result, line in zip(results, lines, strict=True):
        if result["status"] == "REJECTED":
            assert result["reason"], result
        else:  # only the faithful rewritings of the stored record come back duplicate
            assert json.loads(line) == record
    assert summary["summary"]["accepted"] == 0


def test_zz_report_fuzz_case_counts(capsys: pytest.CaptureFixture[str]) -> None:
    # Runs after the two above in file order; the figures go to bench/RESULTS.md.
    with capsys.disabled():
        print(f"\nfuzz cases: {CASES['records']} records, {CASES['lines']} NDJSON lines")
    assert Settings().max_bulk_lines > 0
