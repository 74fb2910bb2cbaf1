"""docs/integrate.md says what graphsvc does: its test vectors are graphsvc's own output,
check out with an independent signer (OpenSSL, tests/independent_signer.py) and with the
guide's JavaScript client (Node's crypto and the `canonicalize` package), its records are
accepted, and the client it shows is the one that runs here against a served app."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import shutil
import subprocess
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from eth_hash.auto import keccak

from graphsvc.api.app import create_app
from graphsvc.services import running_services
from graphsvc.settings import Settings
from graphsvc.store.endpoint import BoltEndpoint
from graphsvc.store.graph_store import GraphStore
from tests import independent_gateway as gateway
from tests import independent_signer as independent
from tests.integrate_vectors import (
    RFC_8032_PUBLIC,
    enclave_material,
    gateway_vector,
    signed_records,
    vectors,
)
from tests.live_server import http_server

ROOT = Path(__file__).resolve().parents[1]
GUIDE = ROOT / "docs" / "integrate.md"
CONFORMANCE = ROOT / "tests" / "conformance"
CLIENT = CONFORMANCE / "client.mjs"


def guide_vectors(mark: str = "vector") -> list[dict[str, Any]]:
    text = GUIDE.read_text(encoding="utf-8")
    blocks = re.findall(f"<!-- {mark} -->\n```json\n(.*?)```", text, re.S)
    return [json.loads(b) for b in blocks]


def node_client(*args: str) -> subprocess.CompletedProcess[str]:
    node = shutil.which("node")
    assert node, "Node.js is needed for the JavaScript client"
    if not (CONFORMANCE / "node_modules" / "canonicalize").is_dir():
        pytest.fail("run `npm ci --prefix tests/conformance` (scripts/test does)")
    return subprocess.run(
        [node, str(CLIENT), *args], capture_output=True, text=True, timeout=120, cwd=CONFORMANCE
    )


def test_the_guide_shows_graphsvcs_own_vectors_for_every_type() -> None:
    shown = guide_vectors()
    assert shown == vectors()
    types = {v["record"]["type"] for v in shown}
    assert types == {"register", "model", "image", "receipt", "attestation", "dispute", "enclave"}
    assert any("requester_sig" in v["record"] for v in shown)
    assert guide_vectors("gateway vector") == [gateway_vector()]
    # The enclave's root is shown too, as kept.
    assert enclave_material()["root_pem"].strip() in GUIDE.read_text(encoding="utf-8")


def test_the_gateway_vector_checks_out_with_an_independent_keccak_and_rsa_pss() -> None:
    [v] = guide_vectors("gateway vector")
    request, response = v["record"]["request"], v["record"]["response"]
    assert json.dumps(request, sort_keys=True) == v["hashed_request"]
    assert keccak(v["hashed_request"].encode()).hex() == v["request_hash"]
    assert v["request_hash"] == response["tee_request_hash"]
    content = response["choices"][0]["message"]["content"]
    assert keccak(content.encode()).hex() == v["output_hash"] == response["tee_output_hash"]
    asked, answered = bytes.fromhex(v["request_hash"]), bytes.fromhex(v["output_hash"])
    stamp = response["tee_timestamp"].to_bytes(32, "big")
    assert keccak(asked + answered + stamp).hex() == v["message"]
    key = base64.b64decode(v["key"])
    assert "0x" + keccak(key).hex() == response["tee_id"]  # the enclave's id
    signed = response["tee_signature"]
    assert gateway.verify_hashes(key, asked, answered, response["tee_timestamp"], signed)
    assert not gateway.verify_hashes(key, answered, asked, response["tee_timestamp"], signed)
    # It is the key of the enclave the guide's node registers.
    [registered] = [e for e in guide_vectors() if e["record"]["type"] == "enclave"]
    assert registered["record"]["key"] == v["key"]


def test_the_vectors_check_out_with_an_independent_signer() -> None:
    for seed, public in RFC_8032_PUBLIC.items():  # the seeds are RFC 8032's keys
        key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(seed))
        assert independent.signer_of(key) == "ed25519:" + independent.b64url(bytes.fromhex(public))
    for v in guide_vectors():
        record = v["record"]
        key = independent.key_from_seed(bytes.fromhex(v["seed"]))
        assert independent.signer_of(key) == record["signer"]
        assert independent.canonical(record) == v["canonical"].encode()
        assert "sha256:" + hashlib.sha256(v["canonical"].encode()).hexdigest() == v["id"]
        # Ed25519 is deterministic: the same seed and bytes give the same signature.
        assert independent.b64url(key.sign(v["canonical"].encode())) == v["sig"] == record["sig"]
        if "requester_seed" in v:
            requester = independent.key_from_seed(bytes.fromhex(v["requester_seed"]))
            bare = {k: val for k, val in record.items() if k not in ("sig", "requester_sig")}
            assert independent.canonical(bare) == v["requester_canonical"].encode()
            assert (
                independent.cosign_record(record, requester)["requester_sig"]
                == (record["requester_sig"])
            )


def test_the_vectors_check_out_with_the_javascript_client() -> None:
    done = node_client("vectors", str(GUIDE))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"{len(vectors())} test vectors check"


def test_the_guide_shows_the_client_that_runs() -> None:
    text = GUIDE.read_text(encoding="utf-8")
    shown = re.findall(r"````js\n(.*?)````", text, re.S)
    assert shown == [CLIENT.read_text(encoding="utf-8")]


@pytest.fixture
def served(clean_graph: BoltEndpoint, tmp_path: Path) -> Iterator[str]:
    """An app on a free local port, on the real clock (the client stamps records now),
    trusting the guide's enclave root."""
    roots = tmp_path / "roots.pem"
    roots.write_text(enclave_material()["root_pem"], encoding="ascii")
    with (
        GraphStore(clean_graph) as store,
        running_services(Settings(snapshot_refresh=0, tee_roots=roots), store=store) as services,
        http_server(create_app(services)) as url,
    ):
        yield url + "/"


def test_the_guides_records_are_accepted_in_one_request(served: str) -> None:
    sent = [*signed_records(), gateway_vector()["record"]]
    body = "".join(json.dumps(r) + "\n" for r in sent).encode()
    request = urllib.request.Request(
        served + "records", body, {"Content-Type": "application/x-ndjson"}
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        assert response.headers["content-type"].startswith("application/x-ndjson")
        *lines, summary = [json.loads(line) for line in response.read().splitlines()]
    assert [line["status"] for line in lines] == ["ACCEPTED"] * len(sent), lines
    assert [line["id"] for line in lines[:-1]] == [v["id"] for v in vectors()]
    assert summary == {"summary": {"accepted": len(sent), "duplicate": 0, "rejected": 0}}
    # The enclave runs the guide's image; the gateway response is a receipt of the
    # enclave's node, its TEE proof VERIFIED.
    tee_id = gateway_vector()["record"]["response"]["tee_id"]
    query = json.dumps(
        {
            "query": "query($receipt: ID!, $enclave: String!) {"
            " receipt(id: $receipt) { node { name } proof { type status } }"
            " enclave(id: $enclave) { imageStatus node { name } } }",
            "variables": {"receipt": lines[-1]["id"], "enclave": tee_id},
        }
    )
    request = urllib.request.Request(
        served + "graphql", query.encode(), {"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        found = json.load(response)["data"]
    assert found == {
        "receipt": {"node": {"name": "node-1"}, "proof": {"type": "TEE", "status": "VERIFIED"}},
        "enclave": {"imageStatus": "KNOWN", "node": {"name": "node-1"}},
    }


def test_the_javascript_client_submits_a_network_the_server_accepts(served: str) -> None:
    done = node_client("submit", served)
    assert done.returncode == 0, (done.stdout, done.stderr)
    answer = json.loads(done.stdout)
    assert [r["status"] for r in answer["results"]] == ["ACCEPTED"] * 7
    assert answer["summary"] == {"accepted": 7, "duplicate": 0, "rejected": 0}
    # The records are graphsvc's now: the node it registered is found by its id.
    query = json.dumps({"query": f'{{ entity(id: "{answer["node"]}") {{ kind name }} }}'})

    request = urllib.request.Request(
        served + "graphql", query.encode(), {"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        entity = json.load(response)["data"]["entity"]
    assert entity["kind"] == "NODE" and entity["name"].startswith("js-node-")
