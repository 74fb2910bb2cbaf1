"""Answers computed once per snapshot (issue 23, docs/decisions/0083-answer-cache.md): what is
kept, for how long, and what is never kept; ETag and 304 over HTTP."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from typing import Any

import pytest
from graphql import parse
from starlette.testclient import TestClient

from graphsvc.api import app as app_module
from graphsvc.api import http_answers
from graphsvc.api.answer_cache import (
    MAX_DOCUMENT_CHARS,
    AnswerCache,
    AnswerKey,
    CacheableDocuments,
    snapshot_only,
)
from graphsvc.api.app import create_app
from graphsvc.api.http_answers import COMPRESS_FROM, MAX_BODY_BYTES
from graphsvc.api.schema import build_schema
from graphsvc.records import record_id
from graphsvc.services import Services, running_services
from graphsvc.settings import Settings
from graphsvc.store.endpoint import BoltEndpoint
from graphsvc.store.graph_store import GraphStore
from tests.api_client import ADMIN_TOKEN, recompute, serving
from tests.network import T0, Network

BOARD = """
query Board($first: Int!) {
  leaderboard(kind: NODE, first: $first) {
    items { rank score snapshot entity { id name } }
    totalCount
  }
}
"""
# The same document, written differently: normalised to the same key.
BOARD_SPACED = "# the board\n" + BOARD.replace("\n", "\n\n  ").replace("{", " { ")
STATS = "{ networkStats { records receipts } }"
KINDS = ("NODE", "PROVIDER", "WITNESS", "REQUESTER", "MODEL")
SUBMIT = "mutation($r: [JSON!]!) { submitRecords(records: $r) { status reason } }"


@pytest.fixture
def net() -> Network:
    return Network()


@pytest.fixture
def client(
    embedded_endpoint: BoltEndpoint, clean_graph: None, net: Network
) -> Iterator[TestClient]:
    settings = Settings(
        admin_token=ADMIN_TOKEN,  # type: ignore[arg-type]
        max_request_bytes=4_000,
        max_query_cost=500,
        snapshot_refresh=0,
    )
    receipt = net.receipt(0)
    now = [T0 + 10**9]
    with (
        GraphStore(embedded_endpoint) as store,
        running_services(settings, store=store, clock=lambda: now[0]) as services,
    ):
        services.ingestor.submit([*net.basics(), receipt, net.attest(record_id(receipt))])
        with TestClient(create_app(services)) as test_client:
            test_client.app.state.clock = now  # type: ignore[attr-defined]
            _recompute(test_client)
            yield test_client


def _recompute(client: TestClient) -> str:
    """A newer snapshot, a second later (two snapshots of one time are not ordered)."""
    client.app.state.clock[0] += 1_000  # type: ignore[attr-defined]
    snapshot_id: str = recompute(client)["id"]
    return snapshot_id


def _services(client: TestClient) -> Services:
    services: Services = client.app.state.services  # type: ignore[attr-defined]
    return services


def _outcomes(client: TestClient) -> dict[str, float]:
    counter = _services(client).metrics.answer_cache
    return {o: counter.labels(o)._value.get() for o in ("hit", "miss", "uncacheable")}


def _post(client: TestClient, query: str, **variables: Any) -> Any:
    return client.post("/graphql", json={"query": query, "variables": variables})


def _submit(client: TestClient, records: list[dict[str, Any]]) -> None:
    body = _post(client, SUBMIT, r=records).json()
    assert [r["status"] for r in body["data"]["submitRecords"]] == ["ACCEPTED"] * len(records)


def test_an_answer_is_computed_once_per_snapshot_and_a_new_snapshot_replaces_it(
    client: TestClient, net: Network
) -> None:
    first = _post(client, BOARD, first=10)
    before = _outcomes(client)
    again = _post(client, BOARD_SPACED, first=10)
    assert _outcomes(client)["hit"] == before["hit"] + 1
    assert again.content == first.content
    assert again.headers["etag"] == first.headers["etag"]
    rows = first.json()["data"]["leaderboard"]["items"]
    snapshot = rows[0]["snapshot"]
    assert first.headers["etag"].startswith(f'W/"{snapshot}.')

    # Other variables are another answer.
    other = _post(client, BOARD, first=1)
    assert len(other.json()["data"]["leaderboard"]["items"]) == 1
    assert other.headers["etag"] != first.headers["etag"]

    # New evidence and a new snapshot: the answer is computed again, from it alone.
    receipt = net.receipt(1, node=net.node2)
    _submit(client, [receipt, net.attest(record_id(receipt))])
    assert _post(client, BOARD, first=10).content == first.content  # same snapshot served
    newer = _recompute(client)
    assert newer != snapshot
    fresh = _post(client, BOARD, first=10)
    items = fresh.json()["data"]["leaderboard"]["items"]
    assert {i["snapshot"] for i in items} == {newer}
    assert fresh.json()["data"]["leaderboard"]["totalCount"] == 2  # node-2 is scored now
    assert fresh.headers["etag"].startswith(f'W/"{newer}.')
    cache = _services_cache(client)
    assert cache.snapshot == newer
    assert len(cache) == 1  # the older snapshot's answers are gone


def _services_cache(client: TestClient) -> AnswerCache:
    cache: AnswerCache = client.app.state.answers.cache  # type: ignore[attr-defined]
    return cache


def test_live_reads_are_never_cached_and_show_a_new_record_at_once(
    client: TestClient, net: Network
) -> None:
    mixed = "{ networkStats { records } leaderboard(kind: NODE) { totalCount } }"
    counts = [_post(client, q).json()["data"]["networkStats"]["records"] for q in (STATS, mixed)]
    before = _outcomes(client)
    _submit(client, [net.receipt(7)])
    after = [_post(client, q) for q in (STATS, mixed)]
    assert [a.json()["data"]["networkStats"]["records"] for a in after] == [c + 1 for c in counts]
    assert all("etag" not in a.headers for a in after)
    assert _outcomes(client)["uncacheable"] == before["uncacheable"] + 3  # the mutation too
    assert _outcomes(client)["hit"] == before["hit"]


def test_errors_are_never_cached(client: TestClient) -> None:
    refused = "{ leaderboard(kind: NODE, first: -1) { totalCount } }"
    for _ in range(2):
        answer = _post(client, refused)
        assert answer.json()["errors"], answer.text
        assert "etag" not in answer.headers
    assert len(_services_cache(client)) == 0
    assert _outcomes(client)["hit"] == 0


def test_the_cost_and_body_limits_apply_before_the_cache(client: TestClient) -> None:
    costly = "{ leaderboard(kind: NODE, first: 500) { items { entity { id } } } }"
    for _ in range(2):
        body = _post(client, costly).json()
        assert body["errors"][0]["extensions"]["code"] == "QUERY_TOO_COSTLY"
    cached = _post(client, BOARD, first=10)
    assert cached.status_code == 200
    padded = json.dumps({"query": BOARD, "variables": {"first": 10}}) + " " * 5_000
    over = client.post("/graphql", content=padded, headers={"content-type": "application/json"})
    assert over.status_code == 413
    assert "etag" not in over.headers


def test_etag_and_304_over_get_and_post(client: TestClient, net: Network) -> None:
    params = {"query": BOARD, "variables": json.dumps({"first": 10})}
    first = client.get("/graphql", params=params, headers={"accept": "application/json"})
    assert first.status_code == 200
    etag = first.headers["etag"]
    assert first.headers["cache-control"] == "no-cache"
    same = client.get("/graphql", params=params, headers={"if-none-match": etag})
    assert same.status_code == 304
    assert same.content == b""
    assert same.headers["etag"] == etag
    posted = client.post(
        "/graphql",
        json={"query": BOARD, "variables": {"first": 10}},
        headers={"if-none-match": f'"other", {etag}'},
    )
    assert posted.status_code == 304
    # Once a newer snapshot is served, the old tag gets the new answer.
    _submit(client, [net.receipt(3)])
    _recompute(client)
    newer = client.get("/graphql", params=params, headers={"if-none-match": etag})
    assert newer.status_code == 200
    assert newer.headers["etag"] != etag
    assert newer.json()["data"]["leaderboard"]["items"]


def test_a_cache_of_no_bytes_keeps_nothing(
    embedded_endpoint: BoltEndpoint, clean_graph: None, net: Network
) -> None:
    settings = Settings(admin_token=ADMIN_TOKEN, answer_cache_bytes=0)  # type: ignore[arg-type]
    with serving(embedded_endpoint, settings, T0 + 10**9, net.basics()) as client:
        recompute(client)
        answers = [_post(client, BOARD, first=5) for _ in range(2)]
        assert all("etag" not in a.headers for a in answers)
        assert _outcomes(client)["hit"] == 0


@pytest.mark.parametrize(
    ("document", "cacheable"),
    [
        (BOARD, True),
        ('{ reputation(id: "x") { score breakdown { incoming { entity { name } } } } }', True),
        ("query($a: [ID!]!) { compare(ids: $a) { rank logCheckpoint { treeSize } } }", True),
        ("{ leaderboard(kind: NODE) { ...F } } fragment F on ReputationPage { totalCount }", True),
        ('{ reputation(id: "x", asOf: "2026-01-01T00:00:00Z") { score } }', False),
        (
            "{ leaderboard(kind: NODE) { ...F } } fragment F on ReputationPage { items { "
            "entity { receipts { totalCount } } } }",
            False,
        ),
        ("{ networkStats { records } }", False),
        ("{ recommendProviders { reputation { score } } }", False),
        ("mutation { recompute { id } }", False),
        ('{ entity(id: "x") { id } }', False),
        ("{ leaderboard(kind: NODE) @defer { totalCount } }", False),
        ("{ leaderboard(kind: NODE) { totalCount @include(if: true) } }", True),
    ],
)
def test_which_documents_are_fixed_by_the_snapshot(document: str, cacheable: bool) -> None:
    schema = build_schema(Settings())._schema
    assert snapshot_only(schema, parse(document)) is cacheable


def test_the_cache_is_bounded_in_bytes_and_holds_one_snapshot() -> None:
    cache = AnswerCache(max_bytes=8_000)
    keys = [AnswerKey.of("s1", "{ a }", {"n": n}, None) for n in range(20)]
    for key in keys:
        cache.put(key, b"x" * 500)
    assert cache.bytes <= 8_000
    assert cache.get(keys[0]) is None  # the least recently used went first
    assert cache.get(keys[-1]) is not None
    assert cache.put(AnswerKey.of("s1", "{ b }", None, None), b"x" * 1_001).etag
    assert cache.get(AnswerKey.of("s1", "{ b }", None, None)) is None  # over 1/8: not kept
    assert cache.get(AnswerKey.of("s2", "{ a }", {"n": 19}, None)) is None
    assert len(cache) == 0 and cache.bytes == 0 and cache.snapshot == "s2"
    assert AnswerKey.of("s1", "{ a }", {"x": 1, "y": 2}, None) == AnswerKey.of(
        "s1", "{ a }", {"y": 2, "x": 1}, None
    )


def test_documents_are_normalised_and_long_texts_left_out() -> None:
    documents = CacheableDocuments(build_schema(Settings())._schema, max_tokens=2_000)
    assert documents.normalised(BOARD) == documents.normalised(BOARD_SPACED) is not None
    assert documents.normalised(BOARD + "#" * MAX_DOCUMENT_CHARS) is None
    assert documents.normalised("{ leaderboard(") is None  # does not parse: strawberry says why
    assert documents.normalised(STATS) is None


def test_large_bodies_are_not_looked_up(
    embedded_endpoint: BoltEndpoint, clean_graph: None, net: Network
) -> None:
    settings = Settings(admin_token=ADMIN_TOKEN)  # type: ignore[arg-type]
    with serving(embedded_endpoint, settings, T0 + 10**9, net.basics()) as client:
        recompute(client)
        small = _post(client, BOARD, first=5)
        padded = _post(client, BOARD, first=5, pad="x" * (MAX_BODY_BYTES + 1))
        assert small.headers["etag"]
        assert padded.status_code == 200 and padded.json()["data"]["leaderboard"]
        assert "etag" not in padded.headers
        assert _outcomes(client)["uncacheable"] == 2  # the recompute mutation, the padded read


def test_a_kept_answer_is_compressed_once_for_clients_that_accept_gzip(
    client: TestClient,
) -> None:
    fields = (
        "items { score rank percentile mass faultRate confidence snapshot asOf "
        "entity { id name kind } }"
    )
    big = "{ " + " ".join(f"{k}: leaderboard(kind: {k}) {{ {fields} }}" for k in KINDS) + " }"
    plain = client.post("/graphql", json={"query": big}, headers={"accept-encoding": "identity"})
    assert len(plain.content) >= COMPRESS_FROM, "the page must be worth compressing"
    cache = _services_cache(client)
    before = cache.bytes
    for _ in range(2):
        with client.stream(
            "POST", "/graphql", json={"query": big}, headers={"accept-encoding": "gzip"}
        ) as response:
            assert response.headers["content-encoding"] == "gzip"
            assert response.headers["etag"] == plain.headers["etag"]
            raw = b"".join(response.iter_raw())
        assert gzip.decompress(raw) == plain.content
        assert cache.bytes == before + len(raw)  # made once, counted in the budget


@pytest.fixture
def counted_parses(monkeypatch: pytest.MonkeyPatch) -> list[bytes | str]:
    """The bodies parsed strictly on the /graphql path."""
    calls: list[bytes | str] = []
    original = http_answers.parse_json

    def counting(data: bytes | str, **kwargs: Any) -> Any:
        calls.append(data)
        return original(data, **kwargs)

    monkeypatch.setattr(http_answers, "parse_json", counting)
    # Wherever else the path might parse (the app's strawberry view did, once).
    monkeypatch.setattr(app_module, "parse_json", counting, raising=False)
    return calls


def test_a_miss_parses_its_body_once(client: TestClient, counted_parses: list[bytes | str]) -> None:
    """The lookup's strict parse of the body is the one strawberry uses (issue 23)."""
    missed = _post(client, STATS)
    assert missed.status_code == 200 and "networkStats" in missed.json()["data"]
    assert len(counted_parses) == 1


def test_without_a_snapshot_the_body_is_parsed_for_strawberry_only(
    embedded_endpoint: BoltEndpoint, clean_graph: None, counted_parses: list[bytes | str]
) -> None:
    """No snapshot (as known from the last look, under a minute ago), nothing kept: the
    cache does not look at the body (issue 23)."""
    with (
        GraphStore(embedded_endpoint) as store,
        running_services(Settings(snapshot_refresh=60), store=store) as services,
        TestClient(create_app(services)) as bare,
    ):
        answer = bare.post("/graphql", json={"query": "{ __typename }"})
        bad = bare.post(
            "/graphql",
            content=b'{"query": 1, "query": 2}',
            headers={"content-type": "application/json"},
        )
    assert answer.json() == {"data": {"__typename": "Query"}}
    assert bad.status_code == 400 and "duplicate key" in bad.text
    assert len(counted_parses) == 2  # strawberry's own, once per request
