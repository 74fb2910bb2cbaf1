"""``/metrics`` tells the truth: each action below is read back from it."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from prometheus_client.parser import text_string_to_metric_families
from starlette.testclient import TestClient

from graphsvc.settings import Settings
from graphsvc.store.endpoint import BoltEndpoint
from tests.api_client import ADMIN_TOKEN, recompute, serving
from tests.network import T0, Network

SUBMIT = """
mutation Submit($records: [JSON!]!) { submitRecords(records: $records) { status } }
"""


def sample(client: TestClient, metric: str, /, **labels: str) -> float:
    """The value of one sample of ``/metrics`` (0 when it is not there yet)."""
    text = client.get("/metrics").text
    for family in text_string_to_metric_families(text):
        for found in family.samples:
            if found.name == metric and all(found.labels.get(k) == v for k, v in labels.items()):
                return float(found.value)
    return 0.0


@pytest.fixture
def client(embedded_endpoint: BoltEndpoint, clean_graph: None) -> Iterator[TestClient]:
    settings = Settings(admin_token=ADMIN_TOKEN)
    with serving(embedded_endpoint, settings, T0 + 10**9, []) as test_client:
        yield test_client


def test_records_are_counted_on_every_path(client: TestClient) -> None:
    net = Network()
    basics = net.basics()
    bulk = "\n".join(json.dumps(r) for r in basics[:4]) + "\n{not json\n"
    assert client.post("/records", content=bulk).status_code == 200
    assert sample(client, "graphsvc_records_total", status="accepted") == 4
    assert sample(client, "graphsvc_records_total", status="rejected") == 1

    client.post("/graphql", json={"query": SUBMIT, "variables": {"records": basics}})
    assert sample(client, "graphsvc_records_total", status="accepted") == len(basics)
    assert sample(client, "graphsvc_records_total", status="duplicate") == 4
    # Two batches: one of 5 lines (4 records and a line that is not JSON), one of 7.
    assert sample(client, "graphsvc_ingest_batch_records_count") == 2
    assert sample(client, "graphsvc_ingest_batch_records_sum") == 5 + len(basics)


def test_graphql_operations_by_type_name_and_outcome(client: TestClient) -> None:
    operations = [
        "query Stats { networkStats { records } }",
        "query Stats { networkStats { records } }",
        "{ networkStats { records } }",
        "query Broken { nope }",
        "query Paged { leaderboard(kind: NODE, first: 100000) { totalCount } }",
        "query `odd` { networkStats { records } }",  # does not parse
    ]
    for operation in operations:
        client.post("/graphql", json={"query": operation})
    seconds = "graphsvc_graphql_operation_seconds_count"
    assert sample(client, seconds, type="query", name="Stats", outcome="ok") == 2
    assert sample(client, seconds, type="query", name="anonymous", outcome="ok") == 1
    assert sample(client, seconds, type="query", name="Broken", outcome="invalid") == 1
    assert sample(client, seconds, type="query", name="Paged", outcome="error") == 1
    assert sample(client, seconds, type="unknown", outcome="invalid") == 1
    assert sample(client, "graphsvc_graphql_operation_seconds_sum", name="Stats") > 0


def test_operation_names_cannot_grow_the_registry(client: TestClient) -> None:
    metrics = client.app.state.metrics  # type: ignore[attr-defined]
    names = {metrics.operation_label(f"Op{i}") for i in range(500)}
    assert len(names) == 201 and "other" in names
    assert metrics.operation_label("has space") == "other"
    assert metrics.operation_label(None) == "anonymous"
    assert metrics.operation_label({"not": "a name"}) == "other"


def test_recomputes_store_calls_and_the_process(client: TestClient) -> None:
    client.post("/records", content="\n".join(json.dumps(r) for r in Network().basics()))
    recompute(client)
    assert sample(client, "graphsvc_recomputes_total", outcome="ok") == 1
    for phase in ("load", "compute", "explain", "persist"):
        assert sample(client, "graphsvc_recompute_seconds_count", phase=phase) == 1, phase
    assert sample(client, "graphsvc_snapshot_entities") > 0

    # The background recompute counts in the same registry.
    services = client.app.state.services  # type: ignore[attr-defined]
    client.post("/records", content=json.dumps(Network().receipt(3)))
    services.background.run_once()
    assert sample(client, "graphsvc_recomputes_total", outcome="ok") == 2

    assert sample(client, "graphsvc_store_transaction_seconds_count", kind="read") > 0
    assert sample(client, "graphsvc_store_transaction_seconds_count", kind="write") > 0
    assert sample(client, "process_resident_memory_bytes") > 10_000_000
    assert sample(client, "process_open_fds") > 0
    assert sample(client, "python_info") == 1
