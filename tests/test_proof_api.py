"""Checked proofs as users meet them: `graphsvc ingest --format opengradient`,
POST /records, the GraphQL Proof and Enclave, and recommendProviders(minProof: TEE)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from starlette.testclient import TestClient

from graphsvc.cli import main
from graphsvc.demo.enclave_pki import EnclavePki, nitriding_user_data
from graphsvc.records import builder, record_id
from graphsvc.settings import Settings
from graphsvc.store.endpoint import BoltEndpoint
from tests.api_client import ADMIN_TOKEN, gql, recompute, serving
from tests.independent_gateway import key_der, new_key, respond, tee_id
from tests.network import T0, Network

# The module's fixtures: a forged Nitro PKI and an enclave key (pytest finds them by name).
from tests.test_enclaves import DOC_AT, GATEWAY_MODEL, REGISTERED, REQUEST
from tests.test_enclaves import enclave_key as enclave_key
from tests.test_enclaves import pki as pki

NOW = T0 + 10 * 86_400_000


def _records(pki: EnclavePki, key: rsa.RSAPrivateKey, image: bool) -> list[dict[str, Any]]:
    net = Network()
    der = key_der(key)
    document = pki.document(at=DOC_AT, user_data=nitriding_user_data(der))
    records = [
        *net.basics(),
        net.model(GATEWAY_MODEL),
        builder.enclave(net.node, document, der, REGISTERED),
        net.receipt(1),  # a tee claim only
    ]
    if image:
        pcrs = {str(i): (bytes([i + 1]) * 48).hex() for i in range(3)}
        records.append(builder.image(net.provider, "tee-gateway v1", pcrs, T0 + 5))
    return records


def _gateway_line(key: rsa.RSAPrivateKey, answer: str, n: int) -> dict[str, Any]:
    request = {**REQUEST, "messages": [{"role": "user", "content": f"question {n}"}]}
    response = respond(key, request, answer, T0 // 1000 + 3 * 3600 + n)
    return {"request": request, "response": response}


@pytest.fixture
def client(
    embedded_endpoint: BoltEndpoint,
    clean_graph: None,
    tmp_path: Path,
    pki: EnclavePki,
    enclave_key: rsa.RSAPrivateKey,
) -> Iterator[TestClient]:
    roots = tmp_path / "roots.pem"
    roots.write_bytes(pki.root_pem())
    settings = Settings(tee_roots=roots, admin_token=ADMIN_TOKEN)
    with serving(embedded_endpoint, settings, NOW, _records(pki, enclave_key, image=True)) as c:
        yield c


RECEIPT = """
query($id: ID!) {
  receipt(id: $id) {
    node { id } model { id }
    proof { type status enclave { id platform imageStatus image { name provider { id } }
      node { id } measurements { index value } } }
  }
}
"""


def test_gateway_responses_posted_become_verified_receipts_with_their_enclave(
    client: TestClient, enclave_key: rsa.RSAPrivateKey
) -> None:
    good = _gateway_line(enclave_key, "an answer", 1)
    changed = _gateway_line(enclave_key, "another answer", 2)
    changed["response"]["choices"][0]["message"]["content"] = "edited"
    body = "\n".join(json.dumps({"type": "opengradient", **line}) for line in (good, changed))
    answer = client.post("/records", content=body.encode())
    lines = [json.loads(line) for line in answer.text.splitlines()]
    assert lines[0]["status"] == "ACCEPTED"
    assert lines[1]["status"] == "REJECTED" and "changed answer" in lines[1]["reason"]

    found = gql(client, RECEIPT, id=lines[0]["id"])["data"]["receipt"]
    assert found["model"]["id"] == GATEWAY_MODEL
    proof = found["proof"]
    assert (proof["type"], proof["status"]) == ("TEE", "VERIFIED")
    enclave = proof["enclave"]
    assert enclave["id"] == tee_id(enclave_key) and enclave["platform"] == "aws-nitro"
    assert enclave["node"]["id"] == found["node"]["id"]
    assert enclave["imageStatus"] == "KNOWN" and enclave["image"]["name"] == "tee-gateway v1"
    assert [m["index"] for m in enclave["measurements"]][:3] == [0, 1, 2]


def test_claims_are_claimed_and_do_not_pass_min_proof_tee(
    client: TestClient, enclave_key: rsa.RSAPrivateKey
) -> None:
    claimed = Network().receipt(1)
    found = gql(client, RECEIPT, id=record_id(claimed))["data"]["receipt"]
    assert found["proof"] == {"type": "TEE", "status": "CLAIMED", "enclave": None}
    line = {"type": "opengradient", **_gateway_line(enclave_key, "answer", 3)}
    assert client.post("/records", content=json.dumps(line).encode()).status_code == 200
    recompute(client)
    query = """query($policy: ProviderPolicy) { recommendProviders(policy: $policy) {
      models { reputation { entity { id } } proofs { tee teeVerified } } } }"""

    def models(policy: dict[str, Any]) -> dict[str, Any]:
        answer = gql(client, query, policy=policy)["data"]["recommendProviders"]
        return {m["reputation"]["entity"]["id"]: m["proofs"] for p in answer for m in p["models"]}

    verified_only = models({"minProof": "TEE"})
    assert set(verified_only) == {GATEWAY_MODEL}
    assert verified_only[GATEWAY_MODEL] == {"tee": 1, "teeVerified": 1}
    assert set(models({"minProof": "TEE", "acceptClaimed": True})) == {
        GATEWAY_MODEL,
        "acme/llama-3-8b@1",
    }


def test_graphsvc_ingest_takes_gateway_responses(
    embedded_endpoint: BoltEndpoint,
    clean_graph: None,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    pki: EnclavePki,
    enclave_key: rsa.RSAPrivateKey,
) -> None:
    roots = tmp_path / "roots.pem"
    roots.write_bytes(pki.root_pem())
    for name, value in {
        "DATA": str(tmp_path / "data"),
        "NEO4J_URI": embedded_endpoint.uri,
        "NEO4J_USER": embedded_endpoint.user,
        "NEO4J_PASSWORD": embedded_endpoint.password,
        "NEO4J_DATABASE": embedded_endpoint.database or "",
        "TEE_ROOTS": str(roots),
    }.items():
        monkeypatch.setenv(f"GRAPHSVC_{name}", value)
    setup = tmp_path / "setup.ndjson"
    setup.write_text("\n".join(json.dumps(r) for r in _records(pki, enclave_key, image=False)))
    assert main(["ingest", "--quiet", str(setup)]) == 0
    stranger = _gateway_line(new_key(), "hi", 2)
    gateway = tmp_path / "gateway.ndjson"
    gateway.write_text(
        json.dumps(_gateway_line(enclave_key, "hello", 1)) + "\n" + json.dumps(stranger) + "\n"
    )
    capsys.readouterr()
    assert main(["ingest", "--quiet", "--format", "opengradient", str(gateway)]) == 1
    out, err = capsys.readouterr()
    assert out.strip().splitlines()[-1] == "accepted=1 duplicate=0 rejected=1"
    assert f"{gateway}:2: rejected" in err and "unknown enclave" in err
