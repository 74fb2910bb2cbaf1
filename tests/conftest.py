"""Shared fixtures: one embedded ArcadeDB server for the whole session, an optional Neo4j."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import neo4j
import pytest
from hypothesis import settings as hypothesis_settings
from playwright.sync_api import Browser, Page, Request, Route

from graphsvc.domain.score_snapshots import SnapshotInfo
from graphsvc.services import Services, running_services
from graphsvc.settings import Settings
from graphsvc.store.embedded import EmbeddedArcadeDB
from graphsvc.store.endpoint import BoltEndpoint
from graphsvc.store.graph_store import GraphStore
from tests.browser import DESKTOP, Traffic
from tests.live_server import chromium
from tests.network import T0, TEST_SEEDS, Network


def pytest_configure(config: pytest.Config) -> None:
    # Every Settings() of the suite, in this process and in the servers it starts, trusts
    # the test networks' witnesses; a test of the default passes seeds=[] itself.
    os.environ.setdefault("GRAPHSVC_SEEDS", json.dumps(list(TEST_SEEDS)))
    # Seeded, reproducible examples, and no wall-clock deadline: a test's verdict must
    # not depend on how busy the machine is.
    hypothesis_settings.register_profile("graphsvc", derandomize=True, deadline=None, database=None)
    hypothesis_settings.load_profile("graphsvc")


@pytest.fixture(scope="session")
def embedded_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BoltEndpoint]:
    """Bolt endpoint of one embedded ArcadeDB started for the whole test session."""
    data: Path = tmp_path_factory.mktemp("embedded") / "data"
    # 1 GB: with the demo network loaded and the list indexes
    # (docs/decisions/0048-keyset-pages.md), a 512 MB heap ran short in a full run ("Server
    # overloaded") and later tests errored.
    with EmbeddedArcadeDB(data, heap="1g") as server:
        yield server.endpoint


@pytest.fixture(scope="session")
def _embedded_driver(embedded_endpoint: BoltEndpoint) -> Iterator[neo4j.Driver]:
    with neo4j.GraphDatabase.driver(embedded_endpoint.uri, auth=embedded_endpoint.auth) as driver:
        yield driver


@pytest.fixture
def clean_graph(embedded_endpoint: BoltEndpoint, _embedded_driver: neo4j.Driver) -> BoltEndpoint:
    """The session's embedded endpoint, with every node deleted before the test."""
    _embedded_driver.execute_query(
        "MATCH (n) DETACH DELETE n", database_=embedded_endpoint.database
    )
    return embedded_endpoint


@pytest.fixture
def store(clean_graph: BoltEndpoint) -> Iterator[GraphStore]:
    """The session's embedded store, emptied and with the schema applied, for tests that
    call the store layer directly (a module may define its own)."""
    with GraphStore(clean_graph) as graph:
        graph.apply_schema()
        yield graph


@pytest.fixture
def store_env(
    embedded_endpoint: BoltEndpoint,
    clean_graph: None,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """The CLI's environment: the session's (cleaned) store over Bolt, data in tmp_path."""
    monkeypatch.setenv("GRAPHSVC_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("GRAPHSVC_NEO4J_URI", embedded_endpoint.uri)
    monkeypatch.setenv("GRAPHSVC_NEO4J_USER", embedded_endpoint.user)
    monkeypatch.setenv("GRAPHSVC_NEO4J_PASSWORD", embedded_endpoint.password)
    monkeypatch.setenv("GRAPHSVC_NEO4J_DATABASE", embedded_endpoint.database or "")


@dataclass
class Clocked:
    """The running service over the session's (cleaned) store, with a clock the test
    moves: ``now[0]`` is the time every part reads."""

    services: Services
    store: GraphStore
    now: list[int]

    def scored_once(self) -> tuple[Network, SnapshotInfo]:
        """A small network ingested (its basics and one receipt) and scored once."""
        net = Network()
        self.services.ingestor.submit([*net.basics(), net.receipt(0)])
        return net, self.services.scorer.recompute()


@pytest.fixture
def clocked(clean_graph: BoltEndpoint) -> Iterator[Clocked]:
    now = [T0 + 86_400_000]
    settings = Settings(snapshot_refresh=0)
    with (
        GraphStore(clean_graph) as store,
        running_services(settings, store=store, clock=lambda: now[0]) as services,
    ):
        yield Clocked(services, store, now)


@pytest.fixture(scope="session")
def neo4j_endpoint() -> BoltEndpoint:
    """A real Neo4j from GRAPHSVC_TEST_NEO4J_URI / _USER / _PASSWORD / _DATABASE, or skip.

    Tests using it get the ``neo4j`` marker (see below), so ``-m "not neo4j"`` works.
    """
    uri = os.environ.get("GRAPHSVC_TEST_NEO4J_URI")
    if not uri:
        pytest.skip("GRAPHSVC_TEST_NEO4J_URI is not set")
    return BoltEndpoint(
        uri=uri,
        user=os.environ.get("GRAPHSVC_TEST_NEO4J_USER", "neo4j"),
        password=os.environ.get("GRAPHSVC_TEST_NEO4J_PASSWORD", ""),
        database=os.environ.get("GRAPHSVC_TEST_NEO4J_DATABASE") or None,
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Marks on fixtures have no effect in pytest, so mark the tests that use it.
    for item in items:
        if "neo4j_endpoint" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.neo4j)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One headless chromium per module of browser tests (tests/browser.py). Not one for
    the session: Playwright's sync API keeps an event loop running while it is open,
    and later tests' asyncio.run() would fail."""
    with chromium() as found:
        yield found


@pytest.fixture
def traffic() -> Traffic:
    return Traffic()


@pytest.fixture
def page(browser: Browser, traffic: Traffic) -> Iterator[Page]:
    """A fresh window at desktop size; what it asks for and its errors go to ``traffic``,
    and any request that leaves this machine is refused."""
    context = browser.new_context(viewport=DESKTOP)

    def record(route: Route, request: Request) -> None:
        traffic.urls.append(request.url)
        if request.url.startswith("http://127.0.0.1:"):
            route.continue_()
        else:
            route.abort()

    context.route("**/*", record)
    found = context.new_page()
    found.on("websocket", lambda ws: traffic.urls.append(ws.url))
    found.on("pageerror", lambda error: traffic.errors.append(str(error)))
    # Refusals by the pages' content security policy show up as console errors only.
    found.on(
        "console",
        lambda message: (
            traffic.errors.append(message.text)
            if message.type == "error" and "Content Security Policy" in message.text
            else None
        ),
    )
    yield found
    context.close()
