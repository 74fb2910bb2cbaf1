"""Background recomputes fail visibly: logged with their cause, counted, retried with
backoff, reported by /readyz, and recovered from when the store answers again."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence

import pytest
from prometheus_client import generate_latest
from starlette.testclient import TestClient

from graphsvc.api.app import create_app
from graphsvc.reputation.periodic import FIRST_RETRY_SECONDS, PeriodicRecompute
from graphsvc.services import Services, running_services
from graphsvc.settings import Settings
from graphsvc.store.endpoint import BoltEndpoint
from graphsvc.store.graph_store import GraphStore, Row, Statement, StoreUnavailable
from tests.network import T0, Network

NOW = T0 + 86_400_000


class RefusingStore(GraphStore):
    """The real store, except that it refuses every call while ``refusing`` is set."""

    refusing = False

    def _transaction(
        self, statements: Sequence[Statement], *, write: bool, timeout: float | None = None
    ) -> list[list[Row]]:
        if self.refusing:
            raise StoreUnavailable("connection refused (test)")
        return super()._transaction(statements, write=write, timeout=timeout)


@pytest.fixture
def store(clean_graph: BoltEndpoint) -> Iterator[RefusingStore]:
    with RefusingStore(clean_graph) as graph:
        yield graph


@pytest.fixture
def services(store: RefusingStore) -> Iterator[Services]:
    settings = Settings(score_interval=3600, snapshot_refresh=0)
    with running_services(settings, store=store, clock=lambda: NOW) as running:
        running.ingestor.submit([*Network().basics(), Network().receipt(0)])
        yield running


def metric(services: Services, name: str, **labels: str) -> float:
    value = services.metrics.registry.get_sample_value(name, labels)
    return 0.0 if value is None else value


def test_a_failing_recompute_is_logged_counted_backed_off_and_recovered(
    services: Services, store: RefusingStore, caplog: pytest.LogCaptureFixture
) -> None:
    background = PeriodicRecompute(services.scorer, interval=300)
    store.refusing = True
    with caplog.at_level(logging.INFO):
        for attempt in range(1, 4):
            background.run_once()
            assert background.status().consecutive_failures == attempt
            assert background.delay() == FIRST_RETRY_SECONDS * 2 ** (attempt - 1)
    assert "connection refused (test)" in (background.status().last_error or "")
    failures = [r for r in caplog.records if "background recompute failed" in r.getMessage()]
    assert len(failures) == 3 and "next attempt in 20 s" in failures[-1].getMessage()
    assert metric(services, "graphsvc_recomputes_total", outcome="failed") == 3

    store.refusing = False
    caplog.clear()
    with caplog.at_level(logging.INFO):
        background.run_once()
    assert background.status().consecutive_failures == 0
    assert background.delay() == 300  # back to the interval
    assert metric(services, "graphsvc_recomputes_total", outcome="ok") == 1
    messages = [r.getMessage() for r in caplog.records]
    assert any("recovered after 3 failures" in m for m in messages)
    assert any(m.startswith("recompute stored snapshot") and "2 edges" in m for m in messages)


def test_backoff_never_waits_longer_than_the_interval(services: Services) -> None:
    background = PeriodicRecompute(services.scorer, interval=12)
    background._failures = 10  # as after ten failures in a row
    assert background.delay() == 12


def test_readyz_reports_a_failing_background_recompute_and_an_unreachable_store(
    services: Services, store: RefusingStore
) -> None:
    services.scorer.recompute()
    with services.background, TestClient(create_app(services)) as client:
        ready = client.get("/readyz").json()
        assert ready["status"] == "ready" and ready["snapshot"]["age_seconds"] == 0
        assert ready["recompute"]["consecutive_failures"] == 0
        store.refusing = True
        services.background.run_once()  # as the thread would, without waiting for it
        store.refusing = False
        degraded = client.get("/readyz").json()
        assert degraded["status"] == "degraded"
        assert "background recompute failing" in degraded["cause"]
        store.refusing = True
        down = client.get("/readyz")
        assert down.status_code == 503 and down.json()["cause"] == "connection refused (test)"
        store.refusing = False
        body = client.get("/metrics").text
    assert 'graphsvc_recomputes_total{outcome="failed"} 1.0' in body
    assert 'graphsvc_recompute_seconds_count{phase="compute"} 1.0' in body
    assert "graphsvc_snapshot_entities 7.0" in body


def test_a_recompute_through_the_api_is_counted(services: Services) -> None:
    before = metric(services, "graphsvc_recomputes_total", outcome="ok")
    services.scorer.recompute()
    assert metric(services, "graphsvc_recomputes_total", outcome="ok") == before + 1
    report = services.scorer.last_report
    assert report is not None and set(report.seconds) == {"load", "compute", "explain", "persist"}
    assert b"graphsvc_snapshot_edges 2.0" in generate_latest(services.metrics.registry)
