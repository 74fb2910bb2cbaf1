"""Security, tested (the decisions of issue 13, docs/decisions/0050-bounded-store-calls.md
to docs/decisions/0054-slow-client-limits.md): the embedded database listens on loopback
only; admin operations refuse every wrong or missing token and compare it in constant
time; no secret reaches a log line or an answer; a key acts only as the kind it registered
as; replays are idempotent; quotes and backticks in names and ids are data, never
Cypher."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
from starlette.testclient import TestClient

from graphsvc.api import schema
from graphsvc.api.app import create_app
from graphsvc.domain import EntityKind, Verdict
from graphsvc.records import builder, record_id
from graphsvc.records.builder import Actor
from graphsvc.services import Services, running_services
from graphsvc.settings import Settings
from graphsvc.store.embedded import running_servers
from graphsvc.store.endpoint import BoltEndpoint
from graphsvc.store.graph_store import GraphStore
from tests.network import MODEL, T0, Network
from tests.outage import serve_process
from tests.store_state import store_digest

TOKEN = "t0ken-" + "x" * 26
NOW = T0 + 10**9
RECOMPUTE = {"query": "mutation { recompute { id } }"}


def _listening(pid: int) -> list[tuple[str, int]]:
    """The (address, port) pairs process ``pid`` listens on, from /proc."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        target = str(fd.readlink()) if fd.is_symlink() else ""
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    found = []
    for table in ("tcp", "tcp6"):
        for line in Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]:
            fields = line.split()
            local, state, inode = fields[1], fields[3], fields[9]
            if state == "0A" and inode in inodes:  # LISTEN
                address, port = local.split(":")
                found.append((address, int(port, 16)))
    return found


def test_the_embedded_database_listens_on_loopback_only(embedded_endpoint: BoltEndpoint) -> None:
    (server,) = [s for s in running_servers() if s.endpoint == embedded_endpoint]
    assert server.pid is not None
    listening = _listening(server.pid)
    assert len(listening) >= 2, listening  # Bolt and HTTP
    loopback = {"0100007F", "00000000000000000000000001000000", "0000000000000000FFFF00000100007F"}
    assert {address for address, _ in listening} <= loopback, listening


@pytest.fixture
def guarded(clean_graph: BoltEndpoint) -> Iterator[tuple[TestClient, Services, GraphStore]]:
    settings = Settings(admin_token=TOKEN, snapshot_refresh=0)  # type: ignore[arg-type]
    with (
        GraphStore(clean_graph) as store,
        running_services(settings, store=store, clock=lambda: NOW) as services,
        TestClient(create_app(services)) as client,
    ):
        yield client, services, store


WRONG_AUTHORIZATIONS = [
    None,
    "",
    "Bearer",
    "Bearer ",
    f"Bearer {TOKEN[:-1]}",
    f"Bearer {TOKEN}x",
    f"Bearer {TOKEN.upper()}",
    f"Bearer  {TOKEN}",
    f"Bearer {TOKEN} ",
    f"Basic {TOKEN}",
    f"Token {TOKEN}",
    TOKEN,
    f"Bearer{TOKEN}",
    f"Bearer {TOKEN[1:]}",
    f"Bearer x{TOKEN}",
    f"Bearer {TOKEN}\t",
    "Bearer " + "x" * len(TOKEN),
    f"Bearer {TOKEN[::-1]}",
    f"bearer {TOKEN.swapcase()}",
    f"Bearer {TOKEN},{TOKEN}",
]


def test_admin_operations_refuse_every_wrong_token_in_constant_time(
    guarded: tuple[TestClient, Services, GraphStore], monkeypatch: pytest.MonkeyPatch
) -> None:
    client, services, store = guarded
    services.ingestor.submit([*Network().basics(), Network().receipt(0)])
    compared: list[tuple[bytes, bytes]] = []
    constant_time = secrets.compare_digest

    def spy(given: bytes, expected: bytes) -> bool:
        compared.append((given, expected))
        return constant_time(given, expected)

    monkeypatch.setattr(schema.secrets, "compare_digest", spy)
    before = store_digest(store)
    for authorization in WRONG_AUTHORIZATIONS:
        headers = {} if authorization is None else {"Authorization": authorization}
        body = client.post("/graphql", json=RECOMPUTE, headers=headers).json()
        message = body["errors"][0]["message"]
        assert message.startswith("not authorised"), (authorization, body)
        assert TOKEN not in json.dumps(body)
    assert store_digest(store) == before
    ok = client.post("/graphql", json=RECOMPUTE, headers={"Authorization": f"Bearer {TOKEN}"})
    assert "errors" not in ok.json(), ok.json()
    assert compared and all(expected == TOKEN.encode() for _, expected in compared)


def test_a_key_acts_only_as_its_kind_and_replays_are_idempotent(
    guarded: tuple[TestClient, Services, GraphStore],
) -> None:
    _, services, store = guarded
    net = Network()
    receipt = net.receipt(0)
    first = services.ingestor.submit([*net.basics(), receipt])
    assert {str(r.status) for r in first} == {"accepted"}
    impostors = [
        builder.attestation(net.node, record_id(receipt), Verdict.VALID, T0 + 50),  # a node
        builder.publish_model(net.witness, "wit/model@1", "0" * 64, T0 + 2),  # a witness
        builder.receipt(net.requester, MODEL, "sha256:" + "1" * 64, "sha256:" + "2" * 64, T0),
        builder.register(Actor(net.node.key, "again", EntityKind.WITNESS), T0 + 3),
    ]
    before = store_digest(store)
    results = services.ingestor.submit(impostors)
    for result in results:
        assert str(result.status) == "rejected", result
        assert "registered as a" in (result.reason or ""), result
    replay = services.ingestor.submit([*net.basics(), receipt])
    assert {str(r.status) for r in replay} == {"duplicate"}
    assert store_digest(store) == before


HOSTILE = [
    "O'Brien",
    'say "hi"',
    "back`tick`",
    "}) DETACH DELETE n //",
    "x' OR 1=1 RETURN n //",
    "\\`) MATCH (m) DELETE m //",
    "$rows",
]


def test_quotes_and_backticks_are_stored_and_returned_as_data(
    guarded: tuple[TestClient, Services, GraphStore],
) -> None:
    client, services, store = guarded
    actors = [Actor.derived(f"hostile-{i}", EntityKind.NODE) for i in range(len(HOSTILE))]
    records = [
        builder.register(Actor(a.key, name, a.kind), T0)
        for a, name in zip(actors, HOSTILE, strict=True)
    ]
    assert {str(r.status) for r in services.ingestor.submit(records)} == {"accepted"}
    query = "query($id: ID!) { entity(id: $id) { id name } }"
    for actor, name in zip(actors, HOSTILE, strict=True):
        body = client.post("/graphql", json={"query": query, "variables": {"id": actor.id}})
        assert body.json()["data"]["entity"] == {"id": actor.id, "name": name}
    nodes, edges, _ = store_digest(store)
    for name in HOSTILE:  # as ids and search texts: found nothing, changed nothing
        body = client.post("/graphql", json={"query": query, "variables": {"id": name}}).json()
        assert body == {"data": {"entity": None}}, body
        search = "query($t: String!) { search(text: $t) { items { name } } }"
        found = client.post("/graphql", json={"query": search, "variables": {"t": name}}).json()
        assert name in [e["name"] for e in found["data"]["search"]["items"]], found
    assert store_digest(store)[:2] == (nodes, edges)


def _secrets_in(data: Path) -> list[str]:
    return [(data / "arcadedb.password").read_text().strip(), TOKEN]


def test_no_secret_reaches_a_log_line_or_an_answer(tmp_path: Path) -> None:
    data, log = tmp_path / "data", tmp_path / "serve.log"
    with serve_process(data, log, GRAPHSVC_ADMIN_TOKEN=TOKEN) as (_proc, url):
        answers: list[Any] = []
        for authorization in (f"Bearer {TOKEN}x", f"Bearer {TOKEN}", "Bearer nope"):
            response = httpx2.post(
                f"{url}/graphql", json=RECOMPUTE, headers={"Authorization": authorization}
            )
            answers.append(response.text)
        answers += [httpx2.get(f"{url}{path}").text for path in ("/readyz", "/metrics")]
        answers.append(httpx2.post(f"{url}/graphql", content=b"\xff").text)
    captured = [log.read_text(), (data / "arcadedb" / "server.log").read_text(), *answers]
    assert "recompute" in captured[0] or "Uvicorn" in captured[0]
    for secret in _secrets_in(data):
        assert len(secret) >= 20
        assert not [text[:80] for text in captured if secret in text]
