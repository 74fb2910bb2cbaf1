"""A stalled (SIGSTOP) or killed database: every request fails fast with its code, and
the service recovers by itself (docs/decisions/0050-bounded-store-calls.md,
docs/decisions/0051-supervised-jvm.md)."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from tests.network import Network
from tests.outage import (
    STATS,
    SUBMIT,
    eventually,
    jvm_pid,
    outage_settings,
    own_service,
    resume,
    timed,
)

# Slow: stops and kills the database, then waits for recovery. scripts/test --fast leaves it out.
pytestmark = pytest.mark.slow

# Every request fails within the call timeout (3 s) plus the pool wait and some slack
# for a busy 2-core machine; without the bound they hung for as long as the outage.
BOUND_SECONDS = 10.0


def _ndjson(records: list[dict[str, object]]) -> str:
    return "".join(json.dumps(r) + "\n" for r in records)


def _store_first_records(client: TestClient, net: Network) -> None:
    # A fresh JVM's first transactions are slow (class loading, JIT) and may pass the
    # tests' short call timeout on a busy machine; re-sending is idempotent.
    body = _ndjson([*net.basics(), net.receipt(0)])
    eventually(
        lambda: client.post("/records", content=body).status_code == 200 or None,
        60,
        "the first records stored",
    )


def _assert_everything_fails_fast(client: TestClient, net: Network, cause: str) -> None:
    ready, took = timed(lambda: client.get("/readyz"))
    assert ready.status_code == 503 and took < BOUND_SECONDS, (ready.text, took)
    assert cause in ready.json()["cause"], ready.json()
    assert ready.headers["retry-after"]
    assert client.get("/healthz").status_code == 200

    read, took = timed(lambda: client.post("/graphql", json={"query": STATS}))
    assert took < BOUND_SECONDS, took
    error = read.json()["errors"][0]
    assert error["extensions"]["code"] == "STORE_UNAVAILABLE", error
    assert error["message"].startswith("store unavailable:"), error

    receipt = net.receipt(500)
    write, took = timed(
        lambda: client.post("/graphql", json={"query": SUBMIT, "variables": {"r": [receipt]}})
    )
    assert took < BOUND_SECONDS, took
    assert write.json()["errors"][0]["extensions"]["code"] == "STORE_UNAVAILABLE"

    bulk, took = timed(lambda: client.post("/records", content=_ndjson([net.receipt(501)])))
    assert took < BOUND_SECONDS, took
    assert bulk.status_code == 503, bulk.text
    assert bulk.headers["retry-after"] == "5"
    *answered, last = [json.loads(line) for line in bulk.text.splitlines()]
    assert answered == [] and "store unavailable" in last["error"], bulk.text


def _assert_serving(client: TestClient, net: Network, expected_receipts: int) -> None:
    # The receipts refused during the outage were never acknowledged: sent again they
    # are stored now (or found stored, if a commit went through after the caller gave up).
    again = client.post("/records", content=_ndjson([net.receipt(500), net.receipt(501)]))
    assert again.status_code == 200, again.text
    statuses = [json.loads(line).get("status") for line in again.text.splitlines()[:-1]]
    assert set(statuses) <= {"ACCEPTED", "DUPLICATE"}, again.text
    stats = client.post("/graphql", json={"query": STATS}).json()
    assert stats["data"]["networkStats"]["receipts"] == expected_receipts + 2, stats


def test_a_stopped_database_fails_requests_fast_then_they_resume(tmp_path: Path) -> None:
    net = Network()
    with own_service(outage_settings(tmp_path / "data")) as (_services, client):
        _store_first_records(client, net)
        pid = jvm_pid(tmp_path / "data")
        os.kill(pid, signal.SIGSTOP)
        try:
            _assert_everything_fails_fast(client, net, "is stopped")
        finally:
            resume(pid)
        eventually(lambda: client.get("/readyz").status_code == 200 or None, 30, "ready again")
        _assert_serving(client, net, expected_receipts=1)
        assert jvm_pid(tmp_path / "data") == pid  # the same process: nothing restarted
        metrics = client.get("/metrics").text
        assert "graphsvc_store_failures_total" in metrics


def test_a_killed_database_is_restarted_and_the_service_recovers(tmp_path: Path) -> None:
    net = Network()
    data = tmp_path / "data"
    # The supervisor waits 20 s before its restart: time to see the outage on a busy
    # machine, where each of the checks below may take a few seconds.
    with own_service(outage_settings(data, store_restart_backoff=20.0)) as (_services, client):
        _store_first_records(client, net)
        pid = jvm_pid(data)
        os.kill(pid, signal.SIGKILL)
        _assert_everything_fails_fast(client, net, "exited with status -9")
        eventually(lambda: client.get("/readyz").status_code == 200 or None, 120, "restarted")
        assert jvm_pid(data) != pid
        _assert_serving(client, net, expected_receipts=1)


def test_a_recompute_on_a_stopped_database_fails_in_bounded_time_and_frees_the_lock(
    tmp_path: Path,
) -> None:
    net = Network()
    data = tmp_path / "data"
    settings = outage_settings(data, store_transaction_timeout=4.0, score_interval=3600.0)
    with own_service(settings) as (services, client), services.background:
        _store_first_records(client, net)
        services.scorer.recompute()
        pid = jvm_pid(data)
        os.kill(pid, signal.SIGSTOP)
        try:
            # The background attempt, as its thread would make it: it fails within its
            # calls' (transaction) timeout, is counted, and leaves the lock free.
            _, took = timed(services.background.run_once)
            assert took < 4.0 * 3 + BOUND_SECONDS, took
        finally:
            resume(pid)
        status = services.background.status()
        assert status.consecutive_failures == 1 and "StoreUnavailable" in (status.last_error or "")
        ready = eventually(
            lambda: ((r := client.get("/readyz")).status_code == 200 and r.json()) or None,
            30,
            "ready again",
        )
        assert ready["status"] == "degraded" and "recompute failing" in ready["cause"]
        assert ready["snapshot"]["age_seconds"] >= 0
        metrics = client.get("/metrics").text
        assert 'graphsvc_recomputes_total{outcome="failed"} 1.0' in metrics
        client.post("/records", content=_ndjson([net.receipt(7)]))
        services.background.run_once()  # the lock was free: this one goes through
        assert services.background.status().consecutive_failures == 0
