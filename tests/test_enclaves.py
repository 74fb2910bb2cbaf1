"""Enclaves as attested parties and receipts with checked proofs, through the real
ingest path into the embedded store (docs/reference.md#checked-proofs-enclaves-and-images,
docs/reference.md#opengradient-gateway-responses)."""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from eth_hash.auto import keccak

from graphsvc.demo.enclave_pki import EnclavePki, nitriding_user_data
from graphsvc.domain import EntityKind
from graphsvc.evidence_log.audit import audit
from graphsvc.evidence_log.log import EvidenceLog
from graphsvc.ingest.ingestor import Ingestor
from graphsvc.ingest.resolution import EvidenceRules
from graphsvc.proofs import TrustedRoot, TrustedRoots, gateway_message, keccak256, request_hash
from graphsvc.records import builder, record_id
from graphsvc.records.builder import Actor, sha256_hex
from graphsvc.settings import Settings
from graphsvc.store import enclave_reads, stats, trail
from graphsvc.store.graph_store import GraphStore, Statement
from tests.independent_gateway import key_der, new_key, respond, sign_receipt, tee_id
from tests.network import T0, Network

NOW = T0 + 10 * 86_400_000
START = dt.datetime.fromtimestamp(T0 / 1000, tz=dt.UTC)
DOC_AT = START + dt.timedelta(hours=1)
REGISTERED = T0 + 2 * 3_600_000
GATEWAY_MODEL = "opengradient/gpt-4.1@gateway"
REQUEST = {"model": "gpt-4.1", "messages": [{"role": "user", "content": "Hello!"}]}


@pytest.fixture(scope="module")
def pki() -> EnclavePki:
    return EnclavePki(start=START)


@pytest.fixture(scope="module")
def enclave_key() -> rsa.RSAPrivateKey:
    return new_key()


@pytest.fixture
def ingestor(store: GraphStore, pki: EnclavePki) -> Ingestor:
    roots = TrustedRoots((TrustedRoot.of("test-root", pki.root),))
    return Ingestor(store, EvidenceRules.of(Settings().scoring), clock=lambda: NOW, roots=roots)


def _enclave_record(
    pki: EnclavePki, node: Actor, key: rsa.RSAPrivateKey, *, ts: int = REGISTERED, **doc: Any
) -> dict[str, Any]:
    der = key_der(key)
    document = pki.document(at=DOC_AT, user_data=nitriding_user_data(der), **doc)
    return builder.enclave(node, document, der, ts)


def _network(pki: EnclavePki, key: rsa.RSAPrivateKey) -> tuple[Network, list[dict[str, Any]]]:
    net = Network()
    records = [
        *net.basics(),
        net.model(GATEWAY_MODEL),
        _enclave_record(pki, net.node, key),
    ]
    return net, records


def _reasons(ingestor: Ingestor, records: list[Any]) -> list[str | None]:
    return [r.reason if r.reason else str(r.status) for r in ingestor.submit(records)]


def test_the_hand_computed_vector() -> None:
    """The gateway's serialisation and message, against values written out by hand: the
    request's json.dumps text, and keccak256 of the empty string (a published constant)."""
    text = '{"messages": [{"content": "Hello!", "role": "user"}], "model": "gpt-4.1"}'
    assert json.dumps(REQUEST, sort_keys=True) == text
    assert request_hash(REQUEST) == keccak(text.encode())
    assert keccak256(b"").hex() == (
        "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"
    )
    zeros = bytes(32)
    # keccak256 of 96 zero bytes (two zero hashes and timestamp 0), by definition.
    assert gateway_message(zeros, zeros, 0) == keccak256(bytes(96))
    assert gateway_message(zeros, zeros, 1)[-1:] != gateway_message(zeros, zeros, 0)[-1:]


def test_an_enclave_registers_and_its_gateway_responses_become_verified_receipts(
    ingestor: Ingestor, store: GraphStore, pki: EnclavePki, enclave_key: rsa.RSAPrivateKey
) -> None:
    net, records = _network(pki, enclave_key)
    assert _reasons(ingestor, records) == ["accepted"] * len(records)

    response = respond(enclave_key, REQUEST, "Hi! How can I help?", T0 // 1000 + 3 * 3600)
    line = {"type": "opengradient", "request": REQUEST, "response": response}
    [result] = ingestor.submit([line])
    assert str(result.status) == "accepted", result.reason
    found = trail.receipt_trails(store, [result.id], frozenset())[result.id]
    assert found.node == net.node.id and found.model == GATEWAY_MODEL
    assert found.proof_status == "verified" and found.enclave == tee_id(enclave_key)
    assert found.input_hash == "keccak256:" + response["tee_request_hash"]
    # The prompt and the answer were dropped after hashing.
    stored = json.dumps(found.record)
    assert "Hello" not in stored and "help" not in stored
    assert str(ingestor.submit([line])[0].status) == "duplicate"
    [mix] = [m for m in stats.proof_mixes(store) if m.model == GATEWAY_MODEL]
    assert (mix.tee, mix.tee_verified) == (1, 1)


def test_tool_calls_are_hashed_as_the_gateway_hashes_them(
    ingestor: Ingestor, pki: EnclavePki, enclave_key: rsa.RSAPrivateKey
) -> None:
    _, records = _network(pki, enclave_key)
    ingestor.submit(records)
    calls = [{"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]
    response = respond(enclave_key, REQUEST, "", T0 // 1000 + 7200, tool_calls=calls)
    [result] = ingestor.submit([{"type": "opengradient", "request": REQUEST, "response": response}])
    assert str(result.status) == "accepted", result.reason


def test_gateway_responses_are_refused_each_for_its_reason(
    ingestor: Ingestor, pki: EnclavePki, enclave_key: rsa.RSAPrivateKey
) -> None:
    _, records = _network(pki, enclave_key)
    ingestor.submit(records)
    good = respond(enclave_key, REQUEST, "Hi!", T0 // 1000 + 7200)

    changed_answer = copy.deepcopy(good)
    changed_answer["choices"][0]["message"]["content"] = "Hi?"
    changed_request = {**REQUEST, "model": "gpt-4o"}
    stranger = respond(new_key(), REQUEST, "Hi!", T0 // 1000 + 7200)
    forged = {**stranger, "tee_id": good["tee_id"]}  # another key's signature
    unpublished = respond(enclave_key, {**REQUEST, "model": "o3"}, "Hi!", T0 // 1000 + 7200)
    lines = [
        {"type": "opengradient", "request": REQUEST, "response": changed_answer},
        {"type": "opengradient", "request": changed_request, "response": good},
        {"type": "opengradient", "request": REQUEST, "response": forged},
        {"type": "opengradient", "request": REQUEST, "response": stranger},
        {"type": "opengradient", "request": {**REQUEST, "model": "o3"}, "response": unpublished},
    ]
    reasons = _reasons(ingestor, lines)
    assert "changed answer" in str(reasons[0]) and "response.choices" in str(reasons[0])
    assert "changed request" in str(reasons[1])
    assert "bad signature" in str(reasons[2]) and "tee_signature" in str(reasons[2])
    assert "unknown enclave" in str(reasons[3])
    assert "opengradient/o3@gateway" in str(reasons[4])


def test_enclave_registrations_are_refused_each_for_its_reason(
    ingestor: Ingestor, store: GraphStore, pki: EnclavePki, enclave_key: rsa.RSAPrivateKey
) -> None:
    net = Network()
    ingestor.submit(net.basics())
    der = key_der(enclave_key)
    unbound = builder.enclave(net.node, pki.document(at=DOC_AT), der, REGISTERED)
    stale = _enclave_record(pki, net.node, enclave_key, ts=REGISTERED + 2 * 86_400_000)
    by_witness = _enclave_record(pki, net.witness, enclave_key)
    outsider = EnclavePki(start=START)
    foreign = builder.enclave(
        net.node, outsider.document(at=DOC_AT, public_key=der), der, REGISTERED
    )
    reasons = _reasons(ingestor, [unbound, stale, by_witness, foreign])
    assert "field `key`" in str(reasons[0]) and "binding" in str(reasons[0])
    assert "freshness" in str(reasons[1])
    assert "not a node" in str(reasons[2])
    assert "root" in str(reasons[3]) and "field `attestation`" in str(reasons[3])
    assert not store.read("MATCH (e:Enclave) RETURN e.id AS id")


def test_own_receipts_are_verified_by_their_nodes_enclave_or_claimed(
    ingestor: Ingestor, store: GraphStore, pki: EnclavePki, enclave_key: rsa.RSAPrivateKey
) -> None:
    net, records = _network(pki, enclave_key)
    other_key = new_key()
    records.append(_enclave_record(pki, net.node2, other_key))
    assert _reasons(ingestor, records) == ["accepted"] * len(records)

    def signed_receipt(
        node: Actor, key: rsa.RSAPrivateKey, n: int, signed_n: int | None = None
    ) -> dict[str, Any]:
        ts = T0 + 3 * 3_600_000 + n
        inp, out = sha256_hex(f"in-{n}"), sha256_hex(f"out-{n}")
        m = n if signed_n is None else signed_n
        signature = sign_receipt(key, sha256_hex(f"in-{m}"), sha256_hex(f"out-{m}"), ts)
        return builder.receipt(
            node,
            "acme/llama-3-8b@1",
            inp,
            out,
            ts,
            requester=net.requester,
            enclave=(tee_id(key), signature),
        )

    verified = signed_receipt(net.node, enclave_key, 1)
    claimed = net.receipt(2)
    not_its_enclave = signed_receipt(net.node, other_key, 3)
    bad = signed_receipt(net.node, enclave_key, 4, signed_n=5)  # signs other hashes
    reasons = _reasons(ingestor, [verified, claimed, not_its_enclave, bad])
    assert reasons[:2] == ["accepted", "accepted"]
    assert "registered by another node" in str(reasons[2])
    assert "bad signature" in str(reasons[3])
    found = trail.receipt_trails(store, [record_id(verified), record_id(claimed)], frozenset())
    assert found[record_id(verified)].proof_status == "verified"
    assert found[record_id(claimed)].proof_status == "claimed"
    assert net.node.kind is EntityKind.NODE


def test_a_debug_enclave_registers_but_its_signatures_stay_claimed(
    ingestor: Ingestor, store: GraphStore, pki: EnclavePki, enclave_key: rsa.RSAPrivateKey
) -> None:
    net = Network()
    debug_pcrs = {i: bytes(48) for i in range(16)}
    records = [
        *net.basics(),
        net.model(GATEWAY_MODEL),
        _enclave_record(pki, net.node, enclave_key, pcrs=debug_pcrs),
    ]
    assert _reasons(ingestor, records) == ["accepted"] * len(records)
    response = respond(enclave_key, REQUEST, "Hi!", T0 // 1000 + 7200)
    [result] = ingestor.submit([{"type": "opengradient", "request": REQUEST, "response": response}])
    assert str(result.status) == "accepted", result.reason
    assert (
        trail.receipt_trails(store, [result.id], frozenset())[result.id].proof_status == "claimed"
    )
    [enclave] = enclave_reads.enclaves(store, [tee_id(enclave_key)]).values()
    assert str(enclave.image_status) == "debug"


def test_the_evidence_log_covers_images_enclaves_and_gateway_receipts(
    ingestor: Ingestor,
    store: GraphStore,
    pki: EnclavePki,
    enclave_key: rsa.RSAPrivateKey,
    tmp_path: Path,
) -> None:
    net, records = _network(pki, enclave_key)
    pcrs = {str(i): (bytes([i + 1]) * 48).hex() for i in range(3)}
    records.append(builder.image(net.provider, "gateway v1", pcrs, T0 + 5))
    response = respond(enclave_key, REQUEST, "Hi!", T0 // 1000 + 7200)
    records.append({"type": "opengradient", "request": REQUEST, "response": response})
    results = ingestor.submit(records)
    assert [r.reason for r in results if r.reason] == []
    log = EvidenceLog(store, tmp_path / "log", "graphsvc.test/log")
    report = audit(log)
    assert report.clean and report.tree_size == len(records)
    # An enclave record changed behind the log's back is found.
    store.write([Statement("MATCH (e:Enclave) SET e.record = $r", {"r": "{}"})])
    assert [f.kind for f in audit(log).findings] == ["changed"]
