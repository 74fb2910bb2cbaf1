"""GraphQL and HTTP endpoints against the embedded store, through the ASGI app."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from graphsvc.domain import EntityKind, FaultParty, Verdict
from graphsvc.records import builder, record_id
from graphsvc.settings import Settings
from graphsvc.store.endpoint import BoltEndpoint
from tests import independent_signer as indie
from tests.api_client import ADMIN_TOKEN, gql, recompute, serving, subscription
from tests.network import T0, TEST_SEEDS, Network, SignedNetwork, signed_network

SUBMIT = """
mutation($records: [JSON!]!) {
  submitRecords(records: $records) { index id status reason }
}
"""

Scored = tuple[TestClient, SignedNetwork]

TRAIL = """
query($id: ID!) {
  receipt(id: $id) {
    id ts verdict record
    output { hash receipts { id } }
    model { id provider { id kind } }
    node { id kind name }
    requester { id }
    proof { type measurement }
    attestations { totalCount items { id verdict fault witness { id } } }
    disputes { totalCount items { id reason requester { id } receipt { id } } }
  }
}
"""


@pytest.fixture
def client(embedded_endpoint: BoltEndpoint, clean_graph: None) -> Iterator[TestClient]:
    settings = Settings(max_request_bytes=200_000, max_query_depth=6)
    with serving(embedded_endpoint, settings, T0 + 10**9, []) as test_client:
        yield test_client


def test_submit_and_read_the_attribution_trail(client: TestClient) -> None:
    net = Network()
    receipt = net.receipt()
    rid = record_id(receipt)
    records = [*net.basics(), receipt, net.attest(rid), net.dispute(rid)]
    results = gql(client, SUBMIT, records=records)["data"]["submitRecords"]
    assert [r["status"] for r in results] == ["ACCEPTED"] * len(records)
    assert [r["index"] for r in results] == list(range(len(records)))

    found = gql(client, TRAIL, id=rid)["data"]["receipt"]
    assert found["id"] == rid
    assert found["ts"] == "2026-01-01T00:00:00.010000+00:00"
    assert found["verdict"] == "VALID"
    assert found["record"] == receipt
    assert found["output"]["hash"] == receipt["output_hash"]
    assert found["output"]["receipts"] == [{"id": rid}]
    assert found["model"] == {
        "id": "acme/llama-3-8b@1",
        "provider": {"id": net.provider.id, "kind": "PROVIDER"},
    }
    assert found["node"] == {"id": net.node.id, "kind": "NODE", "name": "node-1"}
    assert found["requester"] == {"id": net.requester.id}
    assert found["proof"] == {"type": "TEE", "measurement": None}
    assert found["attestations"]["items"][0]["witness"] == {"id": net.witness.id}
    assert found["attestations"]["totalCount"] == 1
    assert found["disputes"]["items"][0]["reason"] == "wrong answer"
    assert found["disputes"]["items"][0]["receipt"] == {"id": rid}

    again = gql(client, SUBMIT, records=records[:2])["data"]["submitRecords"]
    assert [r["status"] for r in again] == ["DUPLICATE", "DUPLICATE"]


def test_independently_signed_records_are_accepted_and_tampering_rejected(
    client: TestClient,
) -> None:
    keys = {name: indie.key_for(name) for name in ("prov", "node", "req")}
    ts = T0 + 5
    records = [
        indie.sign_record({"type": "register", "kind": kind, "name": name, "ts": ts}, keys[name])
        for name, kind in (("prov", "provider"), ("node", "node"), ("req", "requester"))
    ]
    records.append(
        indie.sign_record(
            {"type": "model", "model": "indie/m@1", "digest": "ab" * 32, "ts": ts}, keys["prov"]
        )
    )
    receipt = {
        "type": "receipt",
        "signer": indie.signer_of(keys["node"]),
        "ts": ts + 1,
        "model": "indie/m@1",
        "input_hash": "sha256:" + "1" * 64,
        "output_hash": "sha256:" + "2" * 64,
        "proof": {"type": "zk"},
    }
    receipt = indie.sign_record(indie.cosign_record(receipt, keys["req"]), keys["node"])
    tampered = dict(receipt, output_hash="sha256:" + "3" * 64)
    results = gql(client, SUBMIT, records=[*records, receipt, tampered])["data"]
    statuses = [r["status"] for r in results["submitRecords"]]
    assert statuses == ["ACCEPTED"] * 5 + ["REJECTED"]
    assert results["submitRecords"][4]["id"] == indie.record_id(receipt)
    assert "signature does not verify" in results["submitRecords"][5]["reason"]

    query = f'{{ output(hash: "sha256:{"2" * 64}") {{ receipts {{ id requester {{ id }} }} }} }}'
    trail = gql(client, query)["data"]["output"]["receipts"]
    assert trail == [
        {"id": indie.record_id(receipt), "requester": {"id": indie.signer_of(keys["req"])}}
    ]


def test_unknown_ids_answer_null(client: TestClient) -> None:
    body = gql(client, '{ receipt(id: "sha256:00") { id } output(hash: "x") { hash } }')
    assert body["data"] == {"receipt": None, "output": None}


def test_an_entity_unknown_at_first_is_found_once_registered(client: TestClient) -> None:
    # Entities are cached for the process; a miss must not be.
    net = Network()
    query = "query($id: ID!) { entity(id: $id) { id kind name } }"
    assert gql(client, query, id=net.node.id)["data"]["entity"] is None
    gql(client, SUBMIT, records=net.registrations())
    found = gql(client, query, id=net.node.id)["data"]["entity"]
    assert found == {"id": net.node.id, "kind": "NODE", "name": "node-1"}


def test_bulk_ndjson_endpoint(client: TestClient) -> None:
    net = Network()
    lines = [json.dumps(r) for r in net.basics()] + ["{not json", json.dumps(net.receipt())]
    response = client.post("/records", content="\n".join(lines) + "\n")
    assert response.status_code == 200
    out = [json.loads(line) for line in response.text.splitlines()]
    # The same spelling as GraphQL's RecordStatus (docs/decisions/0077-status-vocabulary.md).
    assert [o.get("status") for o in out[:-1]] == ["ACCEPTED"] * 7 + ["REJECTED", "ACCEPTED"]
    assert out[7]["reason"].startswith("line is not JSON")
    assert out[-1] == {"summary": {"accepted": 8, "duplicate": 0, "rejected": 1}}


def test_health_readiness_and_metrics(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json()["status"] == "ready"
    client.post("/records", content=json.dumps(Network().registrations()[0]))
    metrics = client.get("/metrics").text
    assert 'graphsvc_records_total{status="accepted"} 1.0' in metrics


def test_public_api_limits(client: TestClient) -> None:
    nested = "id"
    for _ in range(4):
        nested = f"output {{ receipts {{ {nested} }} }}"
    deep = '{ receipt(id: "x") { ' + nested + " } }"
    for _ in range(2):  # validation results are cached: the second answer too
        body = gql(client, deep)
        assert "errors" in body, body
        assert "exceeds maximum operation depth" in body["errors"][0]["message"]

    big = client.post(
        "/graphql", content=b"x" * 300_000, headers={"content-type": "application/json"}
    )
    assert big.status_code == 413

    too_many = gql(client, SUBMIT, records=[{}] * 10_001)
    assert "errors" in too_many, str(too_many)[:300]
    assert "too many records" in too_many["errors"][0]["message"]


@pytest.fixture
def scored_client(embedded_endpoint: BoltEndpoint, clean_graph: None) -> Iterator[Scored]:
    settings = Settings(admin_token=ADMIN_TOKEN, subscription_poll=0.05)  # type: ignore[arg-type]
    net = signed_network(7)
    with serving(embedded_endpoint, settings, T0 + 40 * 86_400_000, net.records) as test_client:
        yield test_client, net


def test_recompute_needs_the_admin_token(scored_client: Scored) -> None:
    client, _ = scored_client
    mutation = "mutation { recompute { id asOf entities records evidenceDigest } }"
    refused = gql(client, mutation)
    assert refused["errors"][0]["message"].startswith("not authorised")
    wrong = client.post(
        "/graphql", json={"query": mutation}, headers={"Authorization": "Bearer nope"}
    ).json()
    assert wrong["errors"][0]["message"].startswith("not authorised")
    done = client.post(
        "/graphql", json={"query": mutation}, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}
    ).json()
    snapshot = done["data"]["recompute"]
    assert snapshot["entities"] == 19 and snapshot["asOf"] == "2026-02-10T00:00:00+00:00"


def test_reputation_leaderboard_and_history(
    scored_client: Scored,
) -> None:
    client, net = scored_client
    empty = gql(client, "{ leaderboard(kind: NODE) { totalCount items { score } } }")
    assert empty["data"]["leaderboard"] == {"totalCount": 0, "items": []}
    recompute(client)

    page_query = """
    query($after: String) {
      leaderboard(kind: NODE, first: 3, after: $after) {
        totalCount items { rank score entity { id kind name } }
        pageInfo { hasNextPage endCursor }
      }
    }"""
    first = gql(client, page_query)["data"]["leaderboard"]
    assert first["totalCount"] == 4
    assert [i["rank"] for i in first["items"]] == [1, 2, 3]
    assert first["items"][0]["score"] == pytest.approx(100.0)
    assert first["pageInfo"]["hasNextPage"] is True
    rest = gql(client, page_query, after=first["pageInfo"]["endCursor"])["data"]["leaderboard"]
    assert [i["rank"] for i in rest["items"]] == [4]
    assert rest["pageInfo"]["hasNextPage"] is False
    names = {i["entity"]["name"] for i in first["items"] + rest["items"]}
    assert names == {n.name for n in net.nodes}

    node = first["items"][0]["entity"]["id"]
    rep = gql(
        client,
        """query($id: ID!) { reputation(id: $id) {
        score rank percentile mass rawMass faultRate confidence phi asOf
        breakdown { incoming { share channel entity { kind } } faults { weight } }
        entity { kind } } }""",
        id=node,
    )["data"]["reputation"]
    assert rep["rank"] == 1 and rep["faultRate"] == pytest.approx(0.0) and 0 < rep["confidence"] < 1
    assert rep["breakdown"]["incoming"][0]["share"] > 0
    assert rep["breakdown"]["incoming"][0]["entity"]["kind"] in {"REQUESTER", "WITNESS"}
    before = gql(
        client, f'{{ reputation(id: "{node}", asOf: "2026-01-01T00:00:00Z") {{ score }} }}'
    )
    assert before["data"]["reputation"] is None  # no snapshot was in force yet
    history = gql(client, f'{{ scoreHistory(id: "{node}") {{ asOf score rank }} }}')
    assert history["data"]["scoreHistory"] == [
        {"asOf": "2026-02-10T00:00:00+00:00", "score": pytest.approx(100.0), "rank": 1}
    ]
    none = gql(client, f'{{ scoreHistory(id: "{node}", first: 0) {{ asOf }} }}')
    assert none["data"]["scoreHistory"] == []
    paged = gql(client, f'{{ entity(id: "{node}") {{ scoreHistory(first: 1) {{ score }} }} }}')
    assert paged["data"]["entity"]["scoreHistory"] == [{"score": pytest.approx(100.0)}]
    huge = gql(client, f'{{ scoreHistory(id: "{node}", first: 100000) {{ asOf }} }}')
    assert "first must be between" in huge["errors"][0]["message"]
    bad = gql(client, '{ leaderboard(kind: NODE, after: "zzz") { totalCount } }')
    assert "invalid cursor" in bad["errors"][0]["message"]
    too_big = gql(client, "{ leaderboard(kind: NODE, first: 100000) { totalCount } }")
    assert "first must be between" in too_big["errors"][0]["message"]


def test_tied_entities_share_a_rank_on_every_page(
    embedded_endpoint: BoltEndpoint, clean_graph: None
) -> None:
    """Three nodes registered and never used hold no mass: tied last, they share rank 5
    (1, 2, 3, 4, 5, 5, 5: docs/decisions/0082-tied-ranks.md), also where the tie spans two
    pages, in either order, and in each one's own reputation."""
    net = signed_network(7)
    idle = [builder.Actor.derived(f"idle-{i}", EntityKind.NODE) for i in range(3)]
    records = [*net.records, *(builder.register(a, T0) for a in idle)]
    settings = Settings(admin_token=ADMIN_TOKEN)  # type: ignore[arg-type]
    with serving(embedded_endpoint, settings, T0 + 40 * 86_400_000, records) as client:
        recompute(client)
        query = """query($after: String, $order: LeaderboardOrder! = BEST_FIRST) {
          leaderboard(kind: NODE, first: 3, after: $after, orderBy: $order) {
            items { rank score entity { id } } pageInfo { endCursor } } }"""
        pages, after = [], None
        for _ in range(3):
            answer = gql(client, query, after=after)
            assert "errors" not in answer, answer
            page = answer["data"]["leaderboard"]
            pages.append([i["rank"] for i in page["items"]])
            after = page["pageInfo"]["endCursor"]
            if after is None:
                break
        assert pages == [[1, 2, 3], [4, 5, 5], [5]]
        worst = gql(client, query, order="WORST_FIRST")["data"]["leaderboard"]["items"]
        assert [i["rank"] for i in worst] == [5, 5, 5]
        # The tie is broken by id in the list, and each shows the shared rank alone too.
        assert [i["entity"]["id"] for i in worst] == sorted((a.id for a in idle), reverse=True)
        for actor in idle:
            one = gql(client, "query($id: ID!) { reputation(id: $id) { rank score } }", id=actor.id)
            assert one["data"]["reputation"] == {"rank": 5, "score": 0.0}  # exact: no mass


def test_search_compare_and_worst_first(scored_client: Scored) -> None:
    client, net = scored_client
    recompute(client)
    search = """query($after: String) {
      search(text: "NODE-", filter: {kind: NODE}, first: 3, after: $after) {
        totalCount pageInfo { hasNextPage endCursor } items { id name reputation { rank } } } }"""
    first = gql(client, search)["data"]["search"]
    rest = gql(client, search, after=first["pageInfo"]["endCursor"])["data"]["search"]
    assert (first["totalCount"], first["pageInfo"]["hasNextPage"]) == (4, True)
    assert rest["pageInfo"] == {"hasNextPage": False, "endCursor": rest["pageInfo"]["endCursor"]}
    nodes = first["items"] + rest["items"]
    assert [n["name"] for n in nodes] == ["node-0", "node-1", "node-2", "node-3"]
    assert sorted(n["reputation"]["rank"] for n in nodes) == [1, 2, 3, 4]
    # No deprecated arguments before the first release: `kind` was filter: {kind: …}.
    gone = gql(client, '{ search(text: "NODE-", kind: NODE) { items { name } } }')
    assert "Unknown argument 'kind'" in gone["errors"][0]["message"]

    worst = gql(
        client, "{ leaderboard(kind: NODE, first: 2, orderBy: WORST_FIRST) { items { rank } } }"
    )
    assert [i["rank"] for i in worst["data"]["leaderboard"]["items"]] == [4, 3]

    ids = [net.nodes[0].id, "ed25519:unknown", net.requesters[0].id]
    compared = gql(
        client, "query($ids: [ID!]!) { compare(ids: $ids) { entity { kind } } }", ids=ids
    )["data"]["compare"]
    assert compared == [{"entity": {"kind": "NODE"}}, None, {"entity": {"kind": "REQUESTER"}}]
    empty = gql(client, '{ search(text: "") { totalCount } }')
    assert "text must be" in empty["errors"][0]["message"]


def test_network_stats(scored_client: Scored) -> None:
    client, net = scored_client
    query = """{ networkStats { receipts outputs attestations disputes records lastIngestAt
                 entities { kind count massShare } snapshot { asOf } } }"""
    before = gql(client, query)["data"]["networkStats"]
    assert before["receipts"] == 120 and before["outputs"] == 120
    assert before["attestations"] == 40 and before["disputes"] == 0
    assert before["records"] == len(net.records)
    assert before["snapshot"] is None
    kinds = {e["kind"]: e["count"] for e in before["entities"]}
    assert kinds == {"PROVIDER": 2, "MODEL": 4, "NODE": 4, "WITNESS": 3, "REQUESTER": 6}
    recompute(client)
    after = gql(client, query)["data"]["networkStats"]
    assert after["snapshot"]["asOf"] == "2026-02-10T00:00:00+00:00"
    assert sum(e["massShare"] for e in after["entities"]) == pytest.approx(1.0)


def test_score_changes_subscription(scored_client: Scored) -> None:
    client, _ = scored_client
    earlier = client.post(
        "/graphql",
        json={"query": 'mutation { recompute(asOf: "2026-02-05T00:00:00Z") { id } }'},
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
    ).json()["data"]["recompute"]["id"]
    query = (
        "subscription($after: ID) { scoreChanges(kind: NODE, after: $after) "
        "{ before after reputation { entity { id kind } score snapshot } } }"
    )
    with subscription(client, query, {"after": earlier}) as ws:
        newest = recompute(client)["id"]
        message = ws.receive_json()
    assert message["type"] == "next", message
    change = message["payload"]["data"]["scoreChanges"]
    assert change["reputation"]["entity"]["kind"] == "NODE"
    assert change["reputation"]["snapshot"] == newest
    assert change["before"] is not None and change["before"] != change["after"]
    # Exact: the change reports the served score itself, not a recomputation of it.
    assert change["after"] == change["reputation"]["score"]


def test_subscriptions_refuse_unknown_positions(scored_client: Scored) -> None:
    client, _ = scored_client
    for query in (
        'subscription { scoreChanges(after: "nope") { after } }',
        'subscription { incidents(after: "nope") { id } }',
    ):
        with subscription(client, query) as ws:
            message = ws.receive_json()
        assert message["type"] == "next" and "errors" in message["payload"], message
        assert "unknown snapshot" in str(message) or "invalid cursor" in str(message)


def admin(client: TestClient, query: str, **variables: Any) -> dict[str, Any]:
    body: dict[str, Any] = client.post(
        "/graphql",
        json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
    ).json()
    return body


def test_admin_sets_the_trusted_seeds(scored_client: Scored) -> None:
    client, net = scored_client
    seeds = "{ seeds { source ids entities { id kind } } }"
    set_seeds = "mutation($ids: [ID!]!) { setSeeds(ids: $ids) { source ids } }"
    configured = gql(client, seeds)["data"]["seeds"]
    assert configured["source"] == "CONFIGURED" and configured["ids"] == list(TEST_SEEDS)
    # Only the registered ones are entities (the suite's seeds name a fourth witness).
    assert {e["id"] for e in configured["entities"]} == {w.id for w in net.witnesses}
    trusted = net.witnesses[0].id

    refused = gql(client, set_seeds, ids=[trusted])
    assert refused["errors"][0]["message"].startswith("not authorised")
    unknown = admin(client, set_seeds, ids=[trusted, "ed25519:nope"])
    assert unknown["errors"][0]["message"] == "unknown seed entities: ed25519:nope"
    assert gql(client, seeds)["data"]["seeds"]["source"] == "CONFIGURED"  # nothing changed

    chosen = admin(client, set_seeds, ids=[trusted, trusted])["data"]["setSeeds"]
    assert chosen == {"source": "ADMIN", "ids": [trusted]}
    assert gql(client, seeds)["data"]["seeds"]["entities"] == [{"id": trusted, "kind": "WITNESS"}]
    recompute(client)
    query = "query($ids: [ID!]!) { compare(ids: $ids) { score mass } }"
    first, other = gql(client, query, ids=[trusted, net.witnesses[1].id])["data"]["compare"]
    # Witnesses receive no evidence: their mass is their teleport share, now all the first's.
    assert first["score"] == pytest.approx(100.0) and first["mass"] > 0
    assert other["mass"] == pytest.approx(0.0)

    cleared = admin(client, set_seeds, ids=[])["data"]["setSeeds"]
    assert cleared == {"source": "CONFIGURED", "ids": list(TEST_SEEDS)}


def test_without_seeds_nobody_has_standing_and_the_start_warns(
    embedded_endpoint: BoltEndpoint, clean_graph: None, caplog: pytest.LogCaptureFixture
) -> None:
    """The safe default (docs/decisions/0070-standing.md): no registered witness is trusted
    unless named, so every mass is 0, and the service says so when it starts."""
    settings = Settings(seeds=[], admin_token=ADMIN_TOKEN)  # type: ignore[arg-type]
    net = signed_network(7)
    with (
        caplog.at_level(logging.WARNING, logger="graphsvc.services"),
        serving(embedded_endpoint, settings, T0 + 40 * 86_400_000, net.records) as client,
    ):
        assert "no trusted seeds" in caplog.text
        assert gql(client, "{ seeds { source ids } }")["data"]["seeds"] == {
            "source": "NONE",
            "ids": [],
        }
        recompute(client)
        board = gql(client, "{ leaderboard(kind: NODE) { items { score mass } } }")
        items = board["data"]["leaderboard"]["items"]
        # Exact: with nobody trusted no mass enters, so every figure is a structural zero.
        assert items and all(row["mass"] == 0.0 and row["score"] == 0.0 for row in items)


TYPED_BREAKDOWN = """query($ids: [ID!]!) { compare(ids: $ids) { entity { id } breakdown {
  incoming { entity { id kind } channel mass share } incomingOtherShare incomingSources
  faults { entity { id } cause weight events } faultSources faultEvents } } }"""


def test_the_typed_breakdown_is_the_stored_explanation_number_for_number(
    scored_client: Scored,
) -> None:
    client, net = scored_client
    # A witness blames the node of a receipt no one attested: the node gets a fault.
    receipt, _, _ = net.receipts[1]
    blame = builder.attestation(
        net.witnesses[0],
        record_id(receipt),
        Verdict.INVALID,
        T0 + 86_400_000,
        fault=FaultParty.NODE,
    )
    assert gql(client, SUBMIT, records=[blame])["data"]["submitRecords"][0]["status"] == "ACCEPTED"
    recompute(client)
    services = client.app.state.services  # type: ignore[attr-defined]
    view = services.reputation.view(None)
    ids = sorted(view.by_entity)
    found = gql(client, TYPED_BREAKDOWN, ids=ids)["data"]["compare"]
    assert [f["entity"]["id"] for f in found] == ids
    for served in found:
        stored = view.by_entity[served["entity"]["id"]].breakdown
        typed = served["breakdown"]
        # Exact: the typed fields serve the stored figures themselves.
        assert [
            (c["entity"] and c["entity"]["id"], c["channel"].lower(), c["mass"], c["share"])
            for c in typed["incoming"]
        ] == [(c["source"], c["channel"], c["mass"], c["share"]) for c in stored["incoming"]]
        assert [c["entity"]["kind"].lower() for c in typed["incoming"] if c["entity"]] == [
            c["kind"] for c in stored["incoming"] if c["source"]
        ]
        assert [
            (f["entity"]["id"], f["cause"].lower(), f["weight"], f["events"])
            for f in typed["faults"]
        ] == [(f["source"], f["cause"], f["weight"], f["events"]) for f in stored["faults"]]
        for name in ("incomingOtherShare", "incomingSources", "faultSources", "faultEvents"):
            assert typed[name] == stored[name]
    assert any(c["channel"] == "TELEPORT" for f in found for c in f["breakdown"]["incoming"])
    assert any(f["breakdown"]["faults"] for f in found)
