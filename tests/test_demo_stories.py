"""The demo network, ingested into the embedded store and scored as history, tells its
seven stories (seed_data/README.md). Slow-ish by nature: it loads the full network."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pytest
from starlette.testclient import TestClient

from graphsvc.api.app import create_app
from graphsvc.demo import generate
from graphsvc.demo.load import replay_history, store_is_empty
from graphsvc.demo.network_params import load_params
from graphsvc.demo.stories import StoryCast
from graphsvc.domain import EntityKind
from graphsvc.reputation.maker import SnapshotMaker
from graphsvc.reputation.reader import SnapshotReader
from graphsvc.reputation.views import SnapshotView
from graphsvc.scoring.engine import compute_scores
from graphsvc.scoring.evidence import FaultCause
from graphsvc.services import Services, running_services
from graphsvc.settings import Settings
from graphsvc.store.endpoint import BoltEndpoint
from graphsvc.store.graph_store import GraphStore

# Slow: loads the whole demo network (about a minute). scripts/test --fast leaves it out.
pytestmark = pytest.mark.slow

DAY = 86_400_000


@dataclass
class Demo:
    services: Services
    cast: StoryCast
    checkpoints: list[int]

    @property
    def reputation(self) -> SnapshotReader:
        return self.services.reputation

    @property
    def scorer(self) -> SnapshotMaker:
        return self.services.scorer

    def view(self, as_of_ms: int | None = None) -> SnapshotView:
        view = self.reputation.view(as_of_ms)
        assert view is not None
        return view

    def score_at(self, entity: str, as_of_ms: int) -> float:
        return self.view(as_of_ms).by_entity[entity].score


@pytest.fixture(scope="module")
def demo(embedded_endpoint: BoltEndpoint, _embedded_driver: Any) -> Iterator[Demo]:
    _embedded_driver.execute_query("MATCH (n) DETACH DELETE n")
    network = generate(load_params())
    end = network.stories.end_ms
    settings = Settings(snapshot_refresh=0)
    with (
        GraphStore(embedded_endpoint) as store,
        running_services(settings, store=store, clock=lambda: end) as services,
    ):
        assert store_is_empty(services)
        checkpoints = replay_history(services, network.records)
        yield Demo(services, network.stories, checkpoints)


def test_history_has_weekly_snapshots_up_to_the_end(demo: Demo) -> None:
    assert demo.checkpoints[-1] == demo.cast.end_ms
    assert len(demo.checkpoints) >= 13  # 90 days of traffic, registrations just before
    assert set(np.diff(demo.checkpoints)) == {7 * DAY}
    assert demo.view().info.as_of_ms == demo.cast.end_ms


def test_faulty_nodes_rank_in_the_bottom_decile_of_honest_nodes(demo: Demo) -> None:
    # The Sybil ring's nodes have no mass at all; they would fill any bottom decile.
    honest = [
        r for r in demo.view().ranked[EntityKind.NODE] if r.entity not in demo.cast.sybil_nodes
    ]
    bottom = {r.entity for r in honest[-len(honest) // 10 :]}
    assert set(demo.cast.faulty_nodes) <= bottom


def test_a_bad_model_costs_its_provider_far_less_and_its_nodes_nothing(demo: Demo) -> None:
    cast = demo.cast
    evidence, _ = demo.scorer.evidence()
    index = {entity: i for i, entity in enumerate(evidence.entity_ids)}
    model_faults = (evidence.fault_party == index[cast.faulty_model]) & (
        evidence.fault_cause == FaultCause.ATTESTED_INVALID
    )
    assert model_faults.any()
    keep = ~model_faults
    without = replace(
        evidence,
        **{
            name: getattr(evidence, name)[keep]
            for name in (
                "fault_party",
                "fault_source",
                "fault_cause",
                "fault_ref_ms",
                "fault_amount",
            )
        },
    )
    params = demo.scorer.params
    with_faults = compute_scores(evidence, params, cast.end_ms)
    clean = compute_scores(without, params, cast.end_ms)

    def loss(entity: str) -> float:
        i = index[entity]
        return 1 - float(with_faults.mass[i]) / float(clean.mass[i])

    assert loss(cast.faulty_model) > 0.3
    assert 0 <= loss(cast.model_fault_provider) < loss(cast.faulty_model) / 5
    for node in cast.faulty_model_nodes:
        i = index[node]
        assert with_faults.score[i] == pytest.approx(clean.score[i], rel=5e-3)


def test_the_reformed_node_recovers_over_the_last_60_days(demo: Demo) -> None:
    cast = demo.cast
    points = [cast.end_ms - 60 * DAY, cast.end_ms - 30 * DAY, cast.end_ms]
    scores = [demo.score_at(cast.reformed_node, t) for t in points]
    assert scores[0] < scores[1] < scores[2]


def test_the_dishonest_witness_ranks_last_among_witnesses(demo: Demo) -> None:
    witnesses = demo.view().ranked[EntityKind.WITNESS]
    assert witnesses[-1].entity == demo.cast.dishonest_witness
    assert witnesses[-1].breakdown["faults"][0]["cause"] == "witness_minority"


def test_rejected_disputes_cost_the_challenger(demo: Demo) -> None:
    requesters = demo.view().ranked[EntityKind.REQUESTER]
    most_faulted = max(requesters, key=lambda r: r.fault_weight)
    assert most_faulted.entity == demo.cast.serial_disputer
    assert most_faulted.breakdown["faults"][0]["cause"] == "rejected_dispute"


def test_the_sybil_ring_gains_at_most_five_percent_of_mass(demo: Demo) -> None:
    view = demo.view()
    ring = set(demo.cast.sybil_requesters) | set(demo.cast.sybil_nodes)
    total = sum(r.raw_mass for r in view.by_entity.values())
    ring_mass = sum(view.by_entity[e].raw_mass for e in ring)
    assert len(ring) == 40
    assert ring_mass <= 0.05 * total


def test_the_degrading_models_history_falls(demo: Demo) -> None:
    cast = demo.cast
    history = demo.reputation.history(
        cast.degrading_model, cast.degrading_since_ms, cast.end_ms, limit=100
    )
    assert len(history) >= 3
    assert history[-1].score < history[0].score
    assert history[-1].fault_rate > 2 * history[0].fault_rate


def test_graphql_shows_the_stories(demo: Demo) -> None:
    with TestClient(create_app(demo.services)) as client:
        body = client.post(
            "/graphql",
            json={
                "query": """
            { leaderboard(kind: WITNESS, first: 20) { items { entity { id name } rank } } }
        """
            },
        ).json()
        items = body["data"]["leaderboard"]["items"]
        assert items[-1]["entity"]["id"] == demo.cast.dishonest_witness
        history = client.post(
            "/graphql",
            json={
                "query": "query($id: ID!) { scoreHistory(id: $id) { asOf score } }",
                "variables": {"id": demo.cast.reformed_node},
            },
        ).json()["data"]["scoreHistory"]
        assert len(history) == len(demo.checkpoints)
        assert np.argmax([p["score"] for p in history]) >= len(history) - 3


def test_the_documented_demo_queries_answer(demo: Demo) -> None:
    from tests.doc_blocks import README, demo_queries, graphql_blocks

    queries = demo_queries()
    assert len(queries) == 9
    # The README shows some of them: those are checked here too, as written there.
    shown = graphql_blocks(README.read_text(encoding="utf-8"))
    assert shown and [q for q in shown if q not in queries] == []
    with TestClient(create_app(demo.services)) as client:
        for query in queries:
            body = client.post("/graphql", json={"query": query}).json()
            assert "errors" not in body, (query, body)
            assert all(body["data"].values()), (query, body)


def test_risk_is_served_for_every_entity_and_tells_the_stories(demo: Demo) -> None:
    view, cast = demo.view(), demo.cast
    rows = list(view.by_entity.values())
    assert all(r.risk is not None and r.risk_events is not None for r in rows)
    prior = {r.kind: r.breakdown["riskPrior"] for r in rows}
    for node in cast.faulty_nodes:
        assert view.by_entity[node].risk > prior[EntityKind.NODE]  # type: ignore[operator]
    for fake in (*cast.sybil_nodes, *cast.sybil_requesters):
        row = view.by_entity[fake]
        # Exactly no event, so the risk is the prior s*p0/s: to rounding, never better.
        assert row.risk_events == 0.0 and row.risk == pytest.approx(prior[row.kind], rel=1e-12)
    witnesses = sorted(view.ranked[EntityKind.WITNESS], key=lambda r: r.risk or 0.0)
    assert witnesses[-1].entity == cast.dishonest_witness
    from tests.doc_blocks import API_DOC, graphql_blocks, section

    (query,) = graphql_blocks(section(API_DOC, "Reading risk"))
    with TestClient(create_app(demo.services)) as client:
        body = client.post("/graphql", json={"query": query}).json()
        assert "errors" not in body, body
        items = body["data"]["leaderboard"]["items"]
        assert items and [i["risk"] for i in items] == sorted(i["risk"] for i in items)
        assert all(i["riskLow"] <= i["risk"] <= min(0.05, i["riskHigh"]) for i in items)
        assert all(i["riskEvents"] > 0 for i in items)
        none = "{ recommendProviders(first: 10, policy: {maxRisk: 0.0}) { reputation { risk } } }"
        body = client.post("/graphql", json={"query": none}).json()
        assert body["data"]["recommendProviders"] == []  # no provider is certainly safe
