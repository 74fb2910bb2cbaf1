"""The cost limit (issue 24): each operation's cost is estimated before it runs, counted
in the metrics, and refused above GRAPHSVC_MAX_QUERY_COST with the cost and the budget
named, unrun; the dashboard's and the documented demo queries stay well under the default budget;
one client's requests run a few at a time."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from graphql import parse
from starlette.testclient import TestClient

from graphsvc.api.app import create_app
from graphsvc.api.client_limits import ClientConcurrency
from graphsvc.api.query_cost import LIST_READ, TOTAL_COUNT, operation_cost
from graphsvc.api.schema import build_schema
from graphsvc.services import Services, running_services
from graphsvc.settings import Settings
from graphsvc.store.endpoint import BoltEndpoint
from graphsvc.store.graph_store import GraphStore
from tests.doc_blocks import demo_queries
from tests.network import T0, Network
from tests.test_fuzz_documents import doubling_chain
from tests.test_schema_contract import dashboard_documents

SCHEMA = build_schema(Settings())._schema
NESTED = """{ leaderboard(kind: NODE, first: 500) { items { entity { receipts(first: 500) {
  totalCount items { id record attestations(first: 500) { items { id verdict } } } } } } } }"""

SMALL = "{ leaderboard(kind: NODE, first: 5) { totalCount } }"


def cost(document: str, variables: dict[str, object] | None = None) -> int:
    found = operation_cost(SCHEMA, parse(document), None, variables, Settings().max_page_size)
    assert found is not None
    return found


def test_the_estimate_multiplies_lists_and_counts_reads_and_totals() -> None:
    # One page object (a read), 7 items of one object each, with an entity each.
    assert cost("{ leaderboard(kind: NODE, first: 7) { items { score entity { id } } } }") == (
        LIST_READ + 1 + 7 * (1 + 1)
    )
    assert cost(SMALL) == LIST_READ + 1 + TOTAL_COUNT
    # Variables and their defaults drive the sizes; the default page is 20.
    paged = "query($n: Int = 3) { snapshots(first: $n) { items { id } } }"
    assert cost(paged) == LIST_READ + 1 + 3
    assert cost(paged, {"n": 9}) == LIST_READ + 1 + 9
    assert cost("{ snapshots { items { id } } }") == LIST_READ + 1 + 20
    # A list of given ids costs one per id; scalars and introspection nothing more.
    assert cost('{ compare(ids: ["a", "b", "c"]) { score } }') == 3
    assert cost("{ __schema { types { name fields { name } } } }") == 0
    # Fragments cost what their fields cost inline, wherever they are spread.
    inline = "{ leaderboard(kind: NODE, first: 5) { items { entity { id name } } } }"
    spread = (
        "query { leaderboard(kind: NODE, first: 5) { ...Page } } "
        "fragment Page on ReputationPage { items { ...Who } } "
        "fragment Who on Reputation { entity { id name } }"
    )
    assert cost(spread) == cost(inline)


def test_the_nested_lists_and_the_fragment_explosion_cost_what_they_would() -> None:
    assert cost(NESTED) > 500 * 500 * 500
    assert cost(doubling_chain(40, alias=False)) == 2**40  # seeds: one object per path


def test_the_dashboards_and_the_demo_queries_stay_well_under_the_budget() -> None:
    budget = Settings().max_query_cost
    documents = {**dashboard_documents()}
    documents.update({f"docs/api.md demo {i}": q for i, q in enumerate(demo_queries())})
    assert len(documents) > 15
    # The largest page sizes the dashboard offers (its pickers stop at 100).
    largest = {"first": 100}
    costs = {where: cost(text, largest) for where, text in documents.items()}
    assert max(costs.values()) <= budget // 1.2, costs


@pytest.fixture
def served(clean_graph: BoltEndpoint) -> Iterator[tuple[TestClient, Services]]:
    with (
        GraphStore(clean_graph) as store,
        running_services(Settings(), store=store, clock=lambda: T0 + 10**9) as services,
        TestClient(create_app(services)) as client,
    ):
        services.ingestor.submit(Network().basics())
        services.scorer.recompute()
        yield client, services


def _store_calls(services: Services) -> float:
    samples = services.metrics.registry.get_sample_value
    return sum(
        samples("graphsvc_store_transaction_seconds_count", {"kind": kind}) or 0
        for kind in ("read", "write")
    )


def test_an_operation_over_the_budget_is_refused_unrun_with_its_cost(
    served: tuple[TestClient, Services],
) -> None:
    client, services = served
    budget = services.settings.max_query_cost
    expected = cost(NESTED)
    before = _store_calls(services)
    answer = client.post("/graphql", json={"query": NESTED})
    body = answer.json()
    assert answer.status_code == 200 and body["data"] is None, body
    (error,) = body["errors"]
    assert error["message"].startswith(f"query cost {expected:,} is over the budget of {budget:,}")
    assert error["extensions"] == {"code": "QUERY_TOO_COSTLY", "cost": expected, "budget": budget}
    assert _store_calls(services) == before  # refused before any read
    strict = client.post(
        "/graphql",
        json={"query": NESTED},
        headers={"Accept": "application/graphql-response+json"},
    )
    assert strict.status_code == 400 and "data" not in strict.json()
    # Under the budget: answered, and the costs of both counted in the metrics.
    small = client.post("/graphql", json={"query": SMALL}).json()
    assert "errors" not in small and small["data"]["leaderboard"]["totalCount"] > 0, small
    samples = services.metrics.registry.get_sample_value
    assert samples("graphsvc_graphql_operation_cost_count") == 3
    assert samples("graphsvc_graphql_operation_cost_sum") == 2 * expected + cost(SMALL)


def test_one_clients_requests_run_a_few_at_a_time() -> None:
    running: list[int] = []
    peak = [0]
    release = asyncio.Event()

    async def app(scope: object, receive: object, send: object) -> None:
        running.append(1)
        peak[0] = max(peak[0], len(running))
        await release.wait()
        running.pop()

    refusals: list[dict[str, object]] = []

    async def send(message: dict[str, object]) -> None:
        if message["type"] == "http.response.start":
            refusals.append(message)

    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": b""}

    async def main() -> None:
        limited = ClientConcurrency(app, limit=3, queue=2)  # type: ignore[arg-type]
        scope = {"type": "http", "path": "/graphql", "client": ("10.0.0.1", 1), "headers": []}
        other = {**scope, "client": ("10.0.0.2", 1)}
        tasks = [asyncio.create_task(limited(scope, receive, send)) for _ in range(5)]  # type: ignore[arg-type]
        tasks.append(asyncio.create_task(limited(other, receive, send)))  # type: ignore[arg-type]
        for _ in range(20):
            await asyncio.sleep(0)
        assert peak[0] == 4  # three of the first client, one of the other
        await limited(scope, receive, send)  # type: ignore[arg-type]  # the sixth: refused
        assert [m["status"] for m in refusals] == [429]
        release.set()
        await asyncio.gather(*tasks)
        assert limited._clients == {}

    asyncio.run(main())
