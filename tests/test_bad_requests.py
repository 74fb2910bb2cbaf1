"""Bad HTTP and GraphQL input gets a clear 4xx or GraphQL error naming what was wrong,
the valid lines around a bad one are stored, and nothing else changes
(docs/decisions/0053-strict-json-input.md, docs/decisions/0081-graphql-error-classes.md)."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from graphsvc.api.app import create_app
from graphsvc.api.bulk_ingest import BULK_CHUNK
from graphsvc.services import running_services
from graphsvc.settings import Settings
from graphsvc.store.endpoint import BoltEndpoint
from graphsvc.store.graph_store import GraphStore
from tests.network import MODEL, T0, Network
from tests.store_state import store_digest

NOW = T0 + 10**9
LIMITS = Settings(max_request_bytes=100_000, max_bulk_lines=50, max_bulk_bytes=2_000_000)


@pytest.fixture
def app(clean_graph: BoltEndpoint) -> Iterator[tuple[TestClient, GraphStore]]:
    with (
        GraphStore(clean_graph) as store,
        running_services(LIMITS, store=store, clock=lambda: NOW) as services,
        TestClient(create_app(services)) as client,
    ):
        yield client, store


def _lines(response: Any) -> list[dict[str, Any]]:
    return [json.loads(line) for line in response.text.splitlines()]


def test_a_bad_line_is_rejected_alone_and_the_lines_around_it_are_stored(
    app: tuple[TestClient, GraphStore],
) -> None:
    client, store = app
    net = Network()
    good = [json.dumps(r).encode() for r in [*net.basics(), net.receipt(0), net.receipt(1)]]
    bad = {
        b"\xff\xfe{}": "is not UTF-8",
        b"[" * 100_000: "nests deeper than 64 levels",
        b'{"ts": ' + b"9" * 5_000 + b"}": "has an integer of 5000 digits",
        b'{"type": "register", "type": "model"}': "has a duplicate key 'type'",
        b'{"ts": NaN}': "has NaN",
        b"{not json": "is not JSON",
        b"x" * 150_000: "line over 100000 bytes",
        b"[1, 2]": "must be a JSON object",
    }
    body = [good[0], *bad, *good[1:]]
    response = client.post("/records", content=b"\n\n".join(body))
    assert response.status_code == 200, response.text
    *results, summary = _lines(response)
    assert [r["index"] for r in results] == list(range(len(body)))
    rejected = results[1 : 1 + len(bad)]
    for result, expected in zip(rejected, bad.values(), strict=True):
        assert result["status"] == "REJECTED" and expected in result["reason"], result
    statuses = [r["status"] for r in [results[0], *results[1 + len(bad) :]]]
    assert statuses == ["ACCEPTED"] * len(good)
    assert summary == {"summary": {"accepted": len(good), "duplicate": 0, "rejected": len(bad)}}
    nodes, _, _ = store_digest(store)
    assert nodes > 0


def test_a_repeat_of_a_rejected_record_is_rejected_too(app: tuple[TestClient, GraphStore]) -> None:
    client, _ = app
    net = Network()
    client.post("/records", content="\n".join(json.dumps(r) for r in net.registrations()))
    unknown_model = net.receipt(0)  # its model was never published
    twice = "\n".join([json.dumps(unknown_model)] * 2)
    *results, _ = _lines(client.post("/records", content=twice))
    assert [r["status"] for r in results] == ["REJECTED", "REJECTED"]
    assert "same record as index 0, rejected" in results[1]["reason"]
    assert MODEL in results[0]["reason"]


def test_bulk_requests_are_capped_in_lines_and_bytes(app: tuple[TestClient, GraphStore]) -> None:
    client, store = app
    net = Network()
    lines = [json.dumps(r) for r in net.basics()] + ["{}"] * 60
    over = client.post("/records", content="\n".join(lines))
    assert over.status_code == 413, over.text
    *results, last = _lines(over)
    assert len(results) == LIMITS.max_bulk_lines  # the lines before the cap: answered
    assert "more than 50 lines" in last["error"]
    assert last["summary"]["accepted"] == len(net.basics())  # and stored
    before = store_digest(store)
    huge = client.post("/records", content=b"{}\n" * 700_000)
    assert huge.status_code == 413 and "over 2000000 bytes" in _lines(huge)[-1]["error"]
    assert store_digest(store) == before


def test_bulk_answers_span_chunks_in_order(
    embedded_endpoint: BoltEndpoint, clean_graph: None
) -> None:
    settings = Settings(max_bulk_lines=3 * BULK_CHUNK)
    with (
        GraphStore(embedded_endpoint) as store,
        running_services(settings, store=store, clock=lambda: NOW) as services,
        TestClient(create_app(services)) as client,
    ):
        before = store_digest(store)
        response = client.post("/records", content=b"{}\n" * (2 * BULK_CHUNK + 1))
        *results, summary = _lines(response)
        assert [r["index"] for r in results] == list(range(2 * BULK_CHUNK + 1))
        assert summary["summary"]["rejected"] == 2 * BULK_CHUNK + 1
        assert store_digest(store) == before


GRAPHQL_BODIES = {
    b"\xff": "request body is not UTF-8",
    b'{"query": "{ seeds { ids } }", "query": "{ seeds { ids } }"}': "duplicate key 'query'",
    b'{"query": "{ seeds { ids } }", "variables": {"a": ' + b"[" * 5_000 + b"]" * 5_000 + b"}}": (
        "nests deeper than 64 levels"
    ),
    b'{"query": "{ seeds { ids } }", "variables": {"a": ' + b"7" * 5_000 + b"}}": (
        "integer of 5000 digits"
    ),
    b'{"query": ': "is not JSON",
}


def test_malformed_graphql_bodies_get_400_naming_the_fault(
    app: tuple[TestClient, GraphStore],
) -> None:
    client, store = app
    before = store_digest(store)
    for body, expected in GRAPHQL_BODIES.items():
        response = client.post(
            "/graphql", content=body, headers={"content-type": "application/json"}
        )
        assert response.status_code == 400 and expected in response.text, (body[:40], response)
    assert store_digest(store) == before


ENTITY = "query($id: ID!) { entity(id: $id) { id } }"
SNAPSHOTS = "query($n: Int!) { snapshots(first: $n) { items { id } } }"
VARIABLE_CASES: list[tuple[str, dict[str, Any], str]] = [
    (ENTITY, {"id": {"a": 1}}, "Variable '$id' has invalid value"),
    (ENTITY, {}, "Variable '$id' has invalid value: Expected a value of non-null type"),
    (SNAPSHOTS, {"n": "x"}, "Variable '$n' has invalid value"),
    (SNAPSHOTS, {"n": 10**30}, "Variable '$n' has invalid value"),
    (SNAPSHOTS, {"n": 100_000}, "first must be between 0 and 500"),
    (
        "query { snapshots(first: $undefined) { items { id } } }",
        {},
        "Variable '$undefined' is not defined",
    ),
    ("{ " + " ".join(f"a{i}: seeds {{ ids }}" for i in range(40)) + " }", {}, "aliases"),
    ("{ seeds { ids } ", {}, "Syntax Error"),
]


def test_graphql_client_errors_name_the_fault_and_log_one_line(
    app: tuple[TestClient, GraphStore], caplog: pytest.LogCaptureFixture
) -> None:
    client, store = app
    before = store_digest(store)
    with caplog.at_level(logging.INFO, logger="graphsvc.graphql"):
        for query, variables, expected in VARIABLE_CASES:
            body = client.post("/graphql", json={"query": query, "variables": variables})
            assert body.status_code in (200, 400), body.text
            errors = body.json()["errors"]
            assert expected in errors[0]["message"], (query[:40], errors)
            assert errors[0]["message"] != "Unexpected error."
    logged = [r for r in caplog.records if r.name == "graphsvc.graphql"]
    assert logged and all(r.exc_info is None and r.levelno == logging.INFO for r in logged)
    assert store_digest(store) == before
