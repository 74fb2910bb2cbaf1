"""The API's lists in one convention (docs/design.md §8 D48): an entity's receipts,
attestations, disputes and incidents, a receipt's attestations and disputes, search
and snapshots, paged with opaque keyset cursors; read by a real GraphQL client (gql)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from gql import Client, GraphQLRequest
from gql.transport.exceptions import TransportQueryError
from gql.transport.httpx import HTTPXTransport
from starlette.testclient import TestClient

from graphsvc.api.app import create_app
from graphsvc.domain import FaultParty, Verdict
from graphsvc.records.canonical import record_id
from graphsvc.services import Services, running_services
from graphsvc.settings import Settings
from graphsvc.store.endpoint import BoltEndpoint
from graphsvc.store.graph_store import GraphStore
from tests.api_client import ADMIN_TOKEN, gql
from tests.live_server import http_server
from tests.network import T0, Network

PAGE = 10  # GRAPHSVC_MAX_PAGE_SIZE here: the node's 23 receipts take three pages
NODE_RECEIPTS = 23


@dataclass
class Listed:
    services: Services
    client: TestClient
    net: Network
    # The node's receipts: id -> (ts, the verdict the witnesses gave it)
    receipts: dict[str, tuple[int, str]]
    statements: list[str]


class Recording:
    """Counts the statements the store runs (no N+1: a page costs a fixed few)."""

    def __init__(self) -> None:
        self.statements: list[str] = []

    def statement(self, query: str, rows: int, seconds: float) -> None:
        self.statements.append(query)

    def transaction(self, *, write: bool, seconds: float) -> None:
        pass


def network_records(net: Network) -> tuple[list[dict[str, Any]], dict[str, tuple[int, str]]]:
    """The node signs 23 receipts (three pairs signed in the same millisecond, so ids
    break ties) with every verdict among them; node-2 signs 4; the requester disputes 2."""
    records = net.basics()
    verdicts: dict[str, tuple[int, str]] = {}
    for n in range(NODE_RECEIPTS):
        ts = T0 + 1_000 * (n - n % 2 * (n < 6))  # receipts 0/1, 2/3, 4/5 share a time
        receipt = net.receipt(n, ts=ts)
        rid = record_id(receipt)
        records.append(receipt)
        verdict = "unverified"
        if n < 5:
            records.append(net.attest(rid))
            verdict = "valid"
        elif n < 8:
            records.append(net.attest(rid, Verdict.INVALID, fault=FaultParty.NODE, ts=T0 + n))
            verdict = "invalid"
        elif n < 10:
            records.append(net.attest(rid))
            records.append(
                net.attest(rid, Verdict.INVALID, witness=net.witness2, fault=FaultParty.NODE)
            )
            verdict = "contested"
        if n < 2:
            records.append(net.dispute(rid, ts=T0 + 300_000 + n))
        verdicts[rid] = (ts, verdict)
    records += [net.receipt(100 + n, node=net.node2) for n in range(4)]
    return records, verdicts


@pytest.fixture(scope="module")
def listed(embedded_endpoint: BoltEndpoint, _embedded_driver: Any) -> Iterator[Listed]:
    _embedded_driver.execute_query("MATCH (n) DETACH DELETE n")
    net = Network()
    records, receipts = network_records(net)
    settings = Settings(max_page_size=PAGE, snapshot_refresh=0.0, admin_token=ADMIN_TOKEN)
    recording = Recording()
    with (
        GraphStore(embedded_endpoint, observer=recording) as store,
        running_services(settings, store=store, clock=lambda: T0 + 10**9) as services,
    ):
        results = services.ingestor.submit(records)
        assert [r.reason for r in results if r.reason] == []
        with TestClient(create_app(services)) as client:
            yield Listed(services, client, net, receipts, recording.statements)


def newest_first(receipts: dict[str, tuple[int, str]]) -> list[str]:
    return [rid for rid, _ in sorted(receipts.items(), key=lambda r: (r[1][0], r[0]), reverse=True)]


OPERATOR_PAGE = """
query OperatorReceipts($node: ID!, $after: String) {
  entity(id: $node) {
    receipts(first: 10, after: $after) {
      totalCount
      pageInfo { hasNextPage endCursor }
      items { id ts verdict model { id } requester { id } }
    }
  }
}
"""


def test_a_node_operator_pages_through_every_receipt_with_a_graphql_client(
    listed: Listed,
) -> None:
    pages: list[dict[str, Any]] = []
    with http_server(create_app(listed.services)) as url:
        transport = HTTPXTransport(url=url + "/graphql")
        with Client(transport=transport, fetch_schema_from_transport=True) as session:
            after = None
            while True:
                found = session.execute(
                    GraphQLRequest(
                        OPERATOR_PAGE, variable_values={"node": listed.net.node.id, "after": after}
                    )
                )
                page = found["entity"]["receipts"]
                pages.append(page)
                if not page["pageInfo"]["hasNextPage"]:
                    break
                after = page["pageInfo"]["endCursor"]
            # The client checked its queries against the served schema; a bad cursor is
            # the client's error, in words, not a masked one.
            with pytest.raises(TransportQueryError, match="invalid cursor"):
                session.execute(
                    GraphQLRequest(
                        OPERATOR_PAGE, variable_values={"node": listed.net.node.id, "after": "x"}
                    )
                )
    assert [len(p["items"]) for p in pages] == [10, 10, 3]
    assert {p["totalCount"] for p in pages} == {NODE_RECEIPTS}
    ids = [r["id"] for p in pages for r in p["items"]]
    assert ids == newest_first(listed.receipts)  # every one, once, newest first, ties by id
    by_id = {r["id"]: r for p in pages for r in p["items"]}
    assert {rid: by_id[rid]["verdict"].lower() for rid in ids} == {
        rid: verdict for rid, (_, verdict) in listed.receipts.items()
    }


def receipts_page(listed: Listed, entity: str, args: str = "", **variables: Any) -> dict[str, Any]:
    query = f"""query($id: ID!, $after: String) {{ entity(id: $id) {{
      receipts(after: $after{", " + args if args else ""}) {{
        totalCount pageInfo {{ hasNextPage endCursor }} items {{ id ts verdict }} }} }} }}"""
    body = gql(listed.client, query, id=entity, **variables)
    assert "errors" not in body, body
    page: dict[str, Any] = body["data"]["entity"]["receipts"]
    return page


@pytest.mark.parametrize("verdict", ["UNVERIFIED", "VALID", "INVALID", "CONTESTED"])
def test_receipts_filter_by_the_verdict_the_trail_shows(listed: Listed, verdict: str) -> None:
    page = receipts_page(
        listed, listed.net.node.id, f"first: 10, filter: {{verdicts: [{verdict}]}}"
    )
    expected = [
        r for r in newest_first(listed.receipts) if listed.receipts[r][1] == verdict.lower()
    ]
    assert [r["id"] for r in page["items"]] == expected[:10]
    assert {r["verdict"] for r in page["items"]} == {verdict}
    assert page["totalCount"] == len(expected)


def test_receipts_filter_by_time_and_order_oldest_first(listed: Listed) -> None:
    window = '{from: "2026-01-01T00:00:04Z", to: "2026-01-01T00:00:09Z"}'
    page = receipts_page(
        listed, listed.net.node.id, f"first: 10, filter: {window}, orderBy: OLDEST_FIRST"
    )
    expected = sorted(
        (ts, rid) for rid, (ts, _) in listed.receipts.items() if T0 + 4_000 <= ts <= T0 + 9_000
    )
    assert [r["id"] for r in page["items"]] == [rid for _, rid in expected]
    assert page["totalCount"] == len(expected) == 6  # both ends included


def test_whose_receipts_a_model_a_provider_and_a_requester_list(listed: Listed) -> None:
    net = listed.net
    everyone = NODE_RECEIPTS + 4
    for entity in ("acme/llama-3-8b@1", net.provider.id, net.requester.id):
        assert receipts_page(listed, entity, "first: 1")["totalCount"] == everyone
    assert receipts_page(listed, net.node2.id)["totalCount"] == 4
    witness = receipts_page(listed, net.witness.id)
    assert (witness["totalCount"], witness["items"]) == (0, [])


def test_attestations_and_disputes_of_a_witness_a_requester_and_a_receipt(listed: Listed) -> None:
    net, client = listed.net, listed.client
    query = """query($w: ID!, $r: ID!, $after: String) {
      witness: entity(id: $w) {
        attestations(first: 4, after: $after, filter: {verdicts: [VALID]}) {
          totalCount pageInfo { hasNextPage endCursor } items { verdict receipt { id } } } }
      requester: entity(id: $r) {
        disputes(orderBy: OLDEST_FIRST) { totalCount items { reason ts receipt { id } } } } }"""
    first = gql(client, query, w=net.witness.id, r=net.requester.id)["data"]
    rest = gql(
        client,
        query,
        w=net.witness.id,
        r=net.requester.id,
        after=first["witness"]["attestations"]["pageInfo"]["endCursor"],
    )["data"]
    valid = first["witness"]["attestations"]["items"] + rest["witness"]["attestations"]["items"]
    assert first["witness"]["attestations"]["totalCount"] == 7  # 5 valid, 2 contested
    assert len(valid) == 7 and {a["verdict"] for a in valid} == {"VALID"}
    assert len({a["receipt"]["id"] for a in valid}) == 7
    disputes = first["requester"]["disputes"]
    assert disputes["totalCount"] == 2
    assert disputes["items"][0]["ts"] < disputes["items"][1]["ts"]

    contested = next(rid for rid, (_, v) in listed.receipts.items() if v == "contested")
    trail = """query($id: ID!, $after: String) { receipt(id: $id) {
      attestations(first: 1, after: $after) {
        totalCount pageInfo { hasNextPage endCursor } items { verdict witness { id } } } } }"""
    one = gql(client, trail, id=contested)["data"]["receipt"]["attestations"]
    two = gql(client, trail, id=contested, after=one["pageInfo"]["endCursor"])["data"]
    witnesses = [a["witness"]["id"] for a in one["items"] + two["receipt"]["attestations"]["items"]]
    assert one["totalCount"] == 2 and one["pageInfo"]["hasNextPage"] is True
    assert sorted(witnesses) == sorted([net.witness.id, net.witness2.id])
    assert two["receipt"]["attestations"]["pageInfo"]["hasNextPage"] is False


def test_incidents_page_and_the_old_before_argument_still_works(listed: Listed) -> None:
    query = """query($id: ID!, $after: String) { entity(id: $id) {
      incidents(first: 3, after: $after) {
        totalCount pageInfo { hasNextPage endCursor } items { id ts } } } }"""
    node = listed.net.node.id
    first = gql(listed.client, query, id=node)["data"]["entity"]["incidents"]
    rest = gql(listed.client, query, id=node, after=first["pageInfo"]["endCursor"])["data"]
    ids = [i["id"] for i in first["items"] + rest["entity"]["incidents"]["items"]]
    assert first["totalCount"] == 5 and len(set(ids)) == 5  # 3 invalid + 2 contested
    stamps = [i["ts"] for i in first["items"]]
    assert stamps == sorted(stamps, reverse=True)
    # No deprecated arguments before the first release: `before` was filter: {to: …}.
    gone = gql(
        listed.client,
        "query($id: ID!, $t: DateTime) { entity(id: $id) {"
        " incidents(before: $t) { totalCount } } }",
        id=node,
        t=first["items"][0]["ts"],
    )
    assert "Unknown argument 'before'" in gone["errors"][0]["message"]


def test_snapshots_and_search_page_the_same_way(listed: Listed) -> None:
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    for moment in ("2026-01-02T00:00:00Z", "2026-01-03T00:00:00Z", "2026-01-04T00:00:00Z"):
        body = listed.client.post(
            "/graphql",
            json={"query": f'mutation {{ recompute(asOf: "{moment}") {{ id }} }}'},
            headers=headers,
        ).json()
        assert "errors" not in body, body
    query = """query($after: String) { snapshots(first: 2, after: $after) {
      totalCount pageInfo { hasNextPage endCursor } items { asOf } } }"""
    first = gql(listed.client, query)["data"]["snapshots"]
    rest = gql(listed.client, query, after=first["pageInfo"]["endCursor"])["data"]["snapshots"]
    times = [s["asOf"] for s in first["items"] + rest["items"]]
    assert first["totalCount"] == 3 and rest["pageInfo"]["hasNextPage"] is False
    assert times == sorted(times, reverse=True) and len(set(times)) == 3
    window = gql(
        listed.client,
        '{ snapshots(filter: {from: "2026-01-03T00:00:00Z"}) { totalCount } }',
    )["data"]["snapshots"]
    assert window["totalCount"] == 2


def test_bad_cursors_and_sizes_are_the_callers_errors(listed: Listed) -> None:
    node = listed.net.node.id
    attestations = gql(
        listed.client,
        "query($id: ID!) { entity(id: $id) { attestations { pageInfo { endCursor } } } }",
        id=listed.net.witness.id,
    )["data"]["entity"]["attestations"]["pageInfo"]["endCursor"]
    query = """query($id: ID!, $after: String, $first: Int!) {
      entity(id: $id) { receipts(first: $first, after: $after) { totalCount } } }"""
    for cursor in ("garbage", attestations, "cmVjZWlwdDpbMV0="):  # another list's; a short key
        body = gql(listed.client, query, id=node, after=cursor, first=5)
        assert body["errors"][0]["message"] == (
            f"invalid cursor {cursor!r}: not a cursor of this list"
        )
    too_many = gql(listed.client, query, id=node, first=PAGE + 1)
    assert too_many["errors"][0]["message"] == f"first must be between 0 and {PAGE}"


def test_a_page_of_receipts_costs_the_same_few_reads_whatever_its_size(listed: Listed) -> None:
    query = """query($id: ID!, $first: Int!) { entity(id: $id) { receipts(first: $first) {
      totalCount items { id verdict node { name } model { provider { name } } requester { id }
        attestations { items { witness { name } } } disputes { items { reason } } } } } }"""
    costs = []
    for size in (2, 10):
        listed.services.attribution._entities = type(listed.services.attribution._entities)()
        del listed.statements[:]
        body = gql(listed.client, query, id=listed.net.node.id, first=size)
        assert len(body["data"]["entity"]["receipts"]["items"]) == size
        costs.append(len(listed.statements))
    assert costs[0] == costs[1] <= 6  # entity, page, count, trails, entities (batched)


# Last in the module: it adds two receipts to the network the tests above count.
def test_cursors_stay_valid_while_receipts_are_added(listed: Listed) -> None:
    net, node = listed.net, listed.net.node.id
    first = receipts_page(listed, node, "first: 10")
    seen = [r["id"] for r in first["items"]]
    # A newer receipt and one older than the whole first page arrive between two reads.
    newer, older = net.receipt(500, ts=T0 + 10**6), net.receipt(501, ts=T0 - 1)
    results = listed.services.ingestor.submit([newer, older])
    assert [r.status for r in results] == ["accepted", "accepted"]
    rest = receipts_page(listed, node, "first: 10", after=first["pageInfo"]["endCursor"])
    more = receipts_page(listed, node, "first: 10", after=rest["pageInfo"]["endCursor"])
    following = [r["id"] for r in rest["items"] + more["items"]]
    expected = newest_first(listed.receipts)
    # Nothing repeated or skipped; the newer one is before the cursor, the older after it.
    assert following == [*expected[len(seen) :], record_id(older)]
    assert more["totalCount"] == NODE_RECEIPTS + 2
