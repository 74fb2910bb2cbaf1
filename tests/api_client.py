"""Serving the app in-process over the embedded store, for API tests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from starlette.testclient import TestClient

from graphsvc.api.app import create_app
from graphsvc.services import running_services
from graphsvc.settings import Settings
from graphsvc.store.endpoint import BoltEndpoint
from graphsvc.store.graph_store import GraphStore

ADMIN_TOKEN = "s3cret"


@contextmanager
def serving(
    endpoint: BoltEndpoint, settings: Settings, now_ms: int, records: list[dict[str, Any]]
) -> Iterator[TestClient]:
    """The app over ``endpoint`` with ``records`` ingested, every clock fixed at ``now_ms``."""
    settings = settings.model_copy(update={"snapshot_refresh": 0.0})
    with (
        GraphStore(endpoint) as store,
        running_services(settings, store=store, clock=lambda: now_ms) as services,
    ):
        if records:
            results = services.ingestor.submit(records)
            assert [r.reason for r in results if r.reason] == []
        with TestClient(create_app(services)) as client:
            yield client


def gql(client: TestClient, query: str, **variables: Any) -> dict[str, Any]:
    response = client.post("/graphql", json={"query": query, "variables": variables})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def recompute(client: TestClient) -> dict[str, Any]:
    """Run the admin ``recompute`` mutation and return the new snapshot's id and asOf."""
    body = client.post(
        "/graphql",
        json={"query": "mutation { recompute { id asOf } }"},
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
    ).json()
    assert "errors" not in body, body
    snapshot: dict[str, Any] = body["data"]["recompute"]
    return snapshot


@contextmanager
def subscription(
    client: TestClient, query: str, variables: dict[str, Any] | None = None
) -> Iterator[Any]:
    """A graphql-transport-ws connection with ``query`` subscribed as id "1"; completes it
    on the way out."""
    with client.websocket_connect("/graphql", subprotocols=["graphql-transport-ws"]) as ws:
        ws.send_json({"type": "connection_init"})
        assert ws.receive_json()["type"] == "connection_ack"
        payload = {"query": query, "variables": variables or {}}
        ws.send_json({"id": "1", "type": "subscribe", "payload": payload})
        yield ws
        ws.send_json({"id": "1", "type": "complete"})
