"""The evidence log as a client sees it: /log endpoints, GraphQL proofs and leaf
indexes, `graphsvc verify`'s checks over the server's answers, and `graphsvc audit`
finding records changed behind the log's back."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from graphsvc.api.app import create_app
from graphsvc.cli import main
from graphsvc.domain import FaultParty, Verdict
from graphsvc.evidence_log.audit import audit
from graphsvc.records import record_id
from graphsvc.services import Services, running_services
from graphsvc.settings import Settings
from graphsvc.store.endpoint import BoltEndpoint
from graphsvc.store.graph_store import GraphStore
from graphsvc.tlog.merkle import leaf_hash
from graphsvc.tlog.note import NoteVerifier
from graphsvc.tlog.tiles import unbundle
from graphsvc.verifier.client import LogClient, Transport
from graphsvc.verifier.run import check, gather
from tests.api_client import gql
from tests.network import T0, Network

NOW = T0 + 86_400_000


@pytest.fixture
def served(clean_graph: BoltEndpoint, tmp_path: Path) -> Iterator[tuple[Services, TestClient]]:
    settings = Settings(snapshot_refresh=0, log_origin="test.example/evidence")
    with (
        GraphStore(clean_graph) as store,
        running_services(
            settings, store=store, clock=lambda: NOW, log_dir=tmp_path / "log"
        ) as services,
        TestClient(create_app(services)) as client,
    ):
        yield services, client


def _transport(client: TestClient) -> Transport:
    def send(path: str, body: bytes | None) -> bytes:
        if body is None:
            response = client.get(path)
        else:
            response = client.post(path, content=body, headers={"Content-Type": "application/json"})
        assert response.status_code == 200, response.text
        return response.content

    return send


def _data(client: TestClient, query: str, **variables: object) -> dict[str, Any]:
    body = gql(client, query, **variables)
    assert "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data


def _ingest(services: Services, records: list[dict[str, object]]) -> None:
    results = services.ingestor.submit(records)
    assert [r.reason for r in results if r.reason] == []


def test_a_verifier_confirms_inclusion_consistency_and_signatures(
    served: tuple[Services, TestClient],
) -> None:
    services, client = served
    net = Network()
    receipt = net.receipt(1)
    first = [*net.basics(), receipt]
    _ingest(services, first)
    assert services.publisher.run_once()
    key = NoteVerifier.parse(client.get("/log/key").text)
    assert key.name == "test.example/evidence"
    old = client.get("/log/checkpoint").text
    later = [net.attest(record_id(receipt)), net.receipt(2), net.dispute(record_id(receipt))]
    _ingest(services, later)
    services.publisher.run_once()

    logclient = LogClient(_transport(client))
    document = gather(
        logclient,
        record_ids=[record_id(r) for r in first],  # records read back from entry bundles
        records=later,  # records the verifier holds itself
        old_checkpoint=old,
        key=key,
    )
    outcome = check(document, key)
    assert outcome.failures == 0, outcome.lines
    assert len(outcome.lines) == 2 + len(first) + len(later)
    # A saved document checks again without the server; a forged answer does not.
    again = json.loads(json.dumps(document))
    assert check(again, key).failures == 0
    forged = json.loads(json.dumps(document))
    forged["records"][0]["record"]["name"] = "mallory"
    assert check(forged, key).failures == 1
    forged = json.loads(json.dumps(document))
    forged["consistency"][0] = base64.b64encode(bytes(32)).decode()
    assert check(forged, key).failures == 1
    other_key = NoteVerifier.parse(
        "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
    )
    assert check(document, other_key).failures == 1


def test_graphql_shows_leaf_indexes_and_answers_proofs(
    served: tuple[Services, TestClient],
) -> None:
    services, client = served
    net = Network()
    receipt = net.receipt(1)
    attestation = net.attest(record_id(receipt), Verdict.INVALID, fault=FaultParty.NODE)
    _ingest(services, [*net.basics(), receipt, attestation])
    services.publisher.run_once()
    base = len(net.basics())
    data = _data(
        client,
        """query($id: ID!, $rid: String!) {
          receipt(id: $id) { leafIndex attestations { items { leafIndex } } }
          checkpoint { origin treeSize rootHash note verifierKey }
          inclusionProof(recordId: $rid) { leafIndex treeSize hashes }
          consistencyProof(fromSize: 1, toSize: 3) { fromSize toSize hashes }
        }""",
        id=record_id(receipt),
        rid=record_id(attestation),
    )
    assert data["receipt"] == {
        "leafIndex": base,
        "attestations": {"items": [{"leafIndex": base + 1}]},
    }
    assert data["checkpoint"]["treeSize"] == base + 2
    assert data["checkpoint"]["note"] == client.get("/log/checkpoint").text
    assert data["inclusionProof"]["leafIndex"] == base + 1
    assert data["inclusionProof"]["treeSize"] == base + 2
    assert len(data["consistencyProof"]["hashes"]) == 2
    incidents = _data(
        client,
        "query($id: ID!) { entity(id: $id) { incidents { items { leafIndex } } } }",
        id=net.node.id,
    )
    assert incidents["entity"]["incidents"]["items"] == [{"leafIndex": base + 1}]
    answer = client.post(
        "/graphql", json={"query": '{ inclusionProof(recordId: "sha256:00") { leafIndex } }'}
    ).json()
    assert "no logged record" in answer["errors"][0]["message"]


def test_tiles_and_entry_bundles_follow_tlog_tiles(served: tuple[Services, TestClient]) -> None:
    services, client = served
    net = Network()
    records = [*net.basics(), net.receipt(1), net.receipt(2)]
    _ingest(services, records)
    services.publisher.run_once()
    n = len(records)
    tile = client.get(f"/log/tile/0/000.p/{n}")
    assert tile.status_code == 200
    leaves = [tile.content[i : i + 32] for i in range(0, len(tile.content), 32)]
    bundle = client.get(f"/log/tile/entries/000.p/{n}")
    entries = unbundle(bundle.content)
    assert [leaf_hash(e) for e in entries] == leaves
    assert [record_id(json.loads(e)) for e in entries] == [record_id(r) for r in records]
    assert client.get("/log/tile/0/000").status_code == 404  # not full yet
    assert client.get(f"/log/tile/0/000.p/{n + 1}").status_code == 404
    assert client.get("/log/tile/0/1").status_code == 400


def test_audit_names_records_changed_removed_and_added_behind_the_logs_back(
    served: tuple[Services, TestClient],
) -> None:
    services, _ = served
    net = Network()
    receipt, other = net.receipt(1), net.receipt(2)
    attestation = net.attest(record_id(receipt))
    _ingest(services, [*net.basics(), receipt, other, attestation])
    services.publisher.run_once()
    assert audit(services.log).clean
    store = services.log.store
    edited = dict(receipt, output_hash="sha256:" + "f" * 64)
    store.write_one(
        "MATCH (r:Receipt {id: $id}) SET r.record = $record",
        id=record_id(receipt),
        record=json.dumps(edited),
    )
    store.write_one("MATCH (a:Attestation {id: $id}) DETACH DELETE a", id=record_id(attestation))
    store.write_one(
        "CREATE (:Dispute {id: 'sha256:slipped-in', record: '{}', receipt: $r})",
        r=record_id(other),
    )
    report = audit(services.log)
    found = sorted((f.kind, f.record_id) for f in report.findings)
    assert found == sorted(
        [
            ("changed", record_id(receipt)),
            ("removed", record_id(attestation)),
            ("added", "sha256:slipped-in"),
        ]
    )
    assert not report.clean and report.store_root != report.log_root


def test_snapshots_name_the_log_checkpoint_of_their_evidence(
    served: tuple[Services, TestClient],
) -> None:
    services, client = served
    net = Network()
    records = [*net.basics(), net.receipt(1), net.receipt(2)]
    _ingest(services, records)
    services.scorer.recompute()
    _ingest(services, [net.receipt(3)])  # after the snapshot: not covered by it
    signed = services.log.publish()
    data = _data(
        client,
        """query($id: ID!) {
          reputation(id: $id) { logCheckpoint { treeSize rootHash } }
          scoreHistory(id: $id) { logCheckpoint { treeSize rootHash } }
          snapshots { items { logCheckpoint { treeSize rootHash } } }
        }""",
        id=net.node.id,
    )
    covered = {
        "treeSize": len(records),
        "rootHash": base64.b64encode(services.log.root(len(records))).decode(),
    }
    assert data["reputation"]["logCheckpoint"] == covered
    assert data["scoreHistory"] == [{"logCheckpoint": covered}]
    assert data["snapshots"]["items"] == [{"logCheckpoint": covered}]
    # The covered tree is a prefix of the published one: a consistency proof shows it.
    from graphsvc.tlog.proofs import verify_consistency

    verify_consistency(
        len(records),
        signed.checkpoint.size,
        services.log.root(len(records)),
        signed.checkpoint.root,
        services.log.consistency(len(records), signed.checkpoint.size),
    )


def test_verify_command_checks_saved_answers_offline(
    served: tuple[Services, TestClient], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    services, client = served
    net = Network()
    records = [*net.basics(), net.receipt(1)]
    _ingest(services, records)
    key = client.get("/log/key").text.strip()
    document = gather(
        LogClient(_transport(client)),
        record_ids=[record_id(records[-1])],
        key=NoteVerifier.parse(key),
    )
    saved = tmp_path / "answers.json"
    saved.write_text(json.dumps(document))
    (tmp_path / "key").write_text(key + "\n")
    kept = tmp_path / "checkpoint.note"
    args = ["verify", "--key", str(tmp_path / "key"), "--saved", str(saved)]
    assert main([*args, "--save-checkpoint", str(kept)]) == 0
    assert kept.read_text() == document["checkpoint"]
    assert f"{record_id(records[-1])} is leaf {len(records) - 1}" in capsys.readouterr().out
    document["records"][0]["proof"]["leafIndex"] = 0
    saved.write_text(json.dumps(document))
    assert main(args) == 1
    assert "FAILED" in capsys.readouterr().out
    assert main(["verify", "--key", "nonsense", "--saved", str(saved)]) == 2


def test_verify_fails_with_1_for_a_record_the_log_does_not_hold(
    served: tuple[Services, TestClient], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A record the server has no inclusion proof for is a failed check (exit 1, design
    §5), not a usage error (2)."""
    services, client = served
    net = Network()
    _ingest(services, net.basics())
    key = client.get("/log/key").text.strip()
    missing = "sha256:" + "0" * 64
    document = gather(
        LogClient(_transport(client)), record_ids=[missing], key=NoteVerifier.parse(key)
    )
    saved = tmp_path / "answers.json"
    saved.write_text(json.dumps(document))
    (tmp_path / "key").write_text(key + "\n")
    assert main(["verify", "--key", str(tmp_path / "key"), "--saved", str(saved)]) == 1
    out = capsys.readouterr().out
    assert f"FAILED  record {missing}: no inclusion proof" in out


def test_witness_cosignatures_are_accepted_served_and_counted(
    clean_graph: BoltEndpoint, tmp_path: Path
) -> None:
    from nacl.signing import SigningKey

    from graphsvc.tlog.cosignature import CosignerKey, cosign

    seeds = {"w1.example/witness": bytes([1] * 32), "w2.example/witness": bytes([2] * 32)}
    keys = {n: CosignerKey(n, bytes(SigningKey(s).verify_key)) for n, s in seeds.items()}
    settings = Settings(
        snapshot_refresh=0,
        log_origin="test.example/evidence",
        log_witnesses=[keys["w1.example/witness"].encode()],  # w2 is not configured
    )
    with (
        GraphStore(clean_graph) as store,
        running_services(settings, store=store, clock=lambda: NOW, log_dir=tmp_path) as services,
        TestClient(create_app(services)) as client,
    ):
        net = Network()
        _ingest(services, net.basics())
        services.publisher.run_once()
        note = client.get("/log/checkpoint").text
        text = note[: note.index("\n\n") + 1]
        lines = "".join(
            cosign(text, name, SigningKey(seed), 1_767_225_600).line()
            for name, seed in seeds.items()
        )
        answer = client.post("/log/cosignature", content=note + lines)
        assert answer.status_code == 200 and answer.text == "accepted w1.example/witness\n"
        served = client.get("/log/checkpoint").text
        assert served.startswith(note) and "\u2014 w1.example/witness " in served
        assert "w2.example" not in served
        key = NoteVerifier.parse(client.get("/log/key").text)
        document = {"checkpoint": served, "records": []}
        witnesses = list(keys.values())
        assert check(document, key, witnesses, quorum=1).failures == 0
        assert check(document, key, witnesses, quorum=2).failures == 1
        # A cosignature of another checkpoint, or by nobody configured, is refused.
        _ingest(services, [net.receipt(1)])
        services.publisher.run_once()
        stale = client.post("/log/cosignature", content=note + lines)
        assert stale.status_code == 400 and "another checkpoint" in stale.text
        assert "w1.example" not in client.get("/log/checkpoint").text  # a new checkpoint
        fresh = client.get("/log/checkpoint").text
        other = cosign(
            fresh[: fresh.index("\n\n") + 1],
            "w2.example/witness",
            SigningKey(seeds["w2.example/witness"]),
            1_767_225_601,
        )
        refused = client.post("/log/cosignature", content=fresh + other.line())
        assert refused.status_code == 400 and "no cosignature" in refused.text
