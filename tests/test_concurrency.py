"""Writers that race (docs/decisions/0055-ingest-reads-not-a-snapshot.md): 8 writers send
overlapping batches of the same records in different orders, half through `submitRecords`,
half through `POST /records`, spread over two services on one store (as two API processes
would be: each its own connection pool and ingest lock). Afterwards the store equals one
built by a single writer: the same nodes and relationships (no duplicate, none lost), the
same evidence sums and counters.

``-m soak`` runs a larger version (more records and rounds)."""

from __future__ import annotations

import json
import math
import random
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any

import pytest
from starlette.testclient import TestClient

from graphsvc.api.app import create_app
from graphsvc.domain import RecordType
from graphsvc.services import Services, running_services
from graphsvc.settings import Settings
from graphsvc.store.endpoint import BoltEndpoint
from graphsvc.store.graph_store import GraphStore
from tests.network import T0, signed_network

WRITERS = 8
NOW = T0 + 40 * 86_400_000
SUBMIT = "mutation($r: [JSON!]!) { submitRecords(records: $r) { id status reason } }"
STATE = {
    "labels": "MATCH (n) RETURN labels(n) AS labels, count(*) AS n",
    "edges": "MATCH ()-[r]->() RETURN type(r) AS type, count(*) AS n",
    "evidence": "MATCH (e:Evidence) RETURN e.id AS id, e.ref_ms AS ref, e.count AS count, "
    "e.amount AS amount",
    "models": "MATCH (m:Model) RETURN m.id AS id, m.receipts_tee AS tee, "
    "m.receipts_zk AS zk, m.receipts_none AS none",
    "ids": "MATCH (n) WHERE n.leaf IS NOT NULL RETURN n.id AS id",
    "meta": "MATCH (m:Meta {id: 'ingest'}) RETURN m.records AS records",
}


def _state(store: GraphStore) -> dict[str, Any]:
    rows = {name: store.read(query) for name, query in STATE.items()}
    ids = [r["id"] for r in rows["ids"]]
    return {
        # What records make; not the nodes written once per batch (the evidence log's,
        # the evidence changed: batches differ by design) nor the Meta nodes other parts
        # create on first use.
        "labels": sorted(
            (tuple(sorted(r["labels"])), r["n"])
            for r in rows["labels"]
            if not {"LogEntries", "ChangedEvidence", "Meta"} & set(r["labels"])
        ),
        "edges": sorted((r["type"], r["n"]) for r in rows["edges"]),
        "evidence": {r["id"]: (r["ref"], r["count"], r["amount"]) for r in rows["evidence"]},
        "models": sorted(tuple(r.values()) for r in rows["models"]),
        "ids": sorted(ids),
        "distinct_ids": len(set(ids)),
        "records": rows["meta"][0]["records"],
    }


def _same_state(concurrent: dict[str, Any], reference: dict[str, Any]) -> None:
    evidence, expected = concurrent.pop("evidence"), reference.pop("evidence")
    for key in reference:
        assert concurrent[key] == reference[key], (key, concurrent[key], reference[key])
    assert evidence.keys() == expected.keys()
    for key, (ref, count, amount) in evidence.items():
        assert (ref, count) == expected[key][:2], key
        assert math.isclose(amount, expected[key][2], rel_tol=1e-9), key


def _send(client: TestClient, records: list[dict[str, Any]], bulk: bool) -> list[dict[str, Any]]:
    if bulk:
        response = client.post("/records", content="".join(json.dumps(r) + "\n" for r in records))
        assert response.status_code == 200, response.text
        return [json.loads(line) for line in response.text.splitlines()[:-1]]
    body = client.post("/graphql", json={"query": SUBMIT, "variables": {"r": records}}).json()
    assert "errors" not in body, body
    return list(body["data"]["submitRecords"])


def _race(services: list[Services], phase: list[dict[str, Any]], rng: random.Random) -> int:
    """Each record goes to 2-4 writers, each writer sends its share shuffled in batches;
    returns how many records more than one writer sent."""
    shares: list[list[dict[str, Any]]] = [[] for _ in range(WRITERS)]
    for record in phase:
        for writer in rng.sample(range(WRITERS), rng.randint(2, 4)):
            shares[writer].append(record)
    failures: list[BaseException] = []

    def write(writer: int) -> None:
        share = shares[writer]
        rng_w = random.Random(writer)
        rng_w.shuffle(share)
        try:
            with TestClient(create_app(services[writer % len(services)])) as client:
                start = 0
                while start < len(share):
                    size = rng_w.randint(5, 30)
                    batch = share[start : start + size]
                    start += size
                    answers = _send(client, batch, bulk=writer >= WRITERS // 2)
                    bad = [a for a in answers if a["status"] == "REJECTED"]
                    assert not bad, bad
        except BaseException as error:
            failures.append(error)

    threads = [threading.Thread(target=write, args=(w,)) for w in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures, failures
    return len(phase)  # every record was sent by at least two writers


def _phases(records: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Registrations and models, then receipts, then what refers to receipts: a record
    may only refer to one stored before its batch, so the phases keep that order."""
    order = [
        {RecordType.REGISTER.value},
        {RecordType.MODEL.value},
        {RecordType.RECEIPT.value},
        {RecordType.ATTESTATION.value, RecordType.DISPUTE.value},
    ]
    return [[r for r in records if r["type"] in types] for types in order]


@pytest.fixture
def two_services(clean_graph: BoltEndpoint) -> Iterator[list[Services]]:
    settings = Settings(snapshot_refresh=0)
    with ExitStack() as stack:
        running = []
        for _ in range(2):
            store = stack.enter_context(GraphStore(clean_graph))
            running.append(
                stack.enter_context(running_services(settings, store=store, clock=lambda: NOW))
            )
        yield running


def _concurrency(services: list[Services], receipts: int, seed: int) -> dict[str, int]:
    records = signed_network(seed, receipts=receipts, attest_every=2).records
    store = services[0].ingestor._store  # the same store both services write to
    for phase in _phases(records):
        services[0].ingestor.submit(phase)
    reference = _state(store)
    assert reference["records"] == len(records) == reference["distinct_ids"]
    store.write_one("MATCH (n) DETACH DELETE n")
    for service in services:
        service.ingestor.ensure_rules()

    rng = random.Random(seed)
    contested = sum(_race(services, phase, rng) for phase in _phases(records))
    _same_state(_state(store), reference)
    counts = Counter(r["type"] for r in records)
    return {"records": len(records), "contested": contested, **counts}


def test_eight_racing_writers_on_two_services_store_each_record_once(
    two_services: list[Services],
) -> None:
    figures = _concurrency(two_services, receipts=90, seed=3)
    print(f"\nconcurrency: {figures}")
    assert figures["contested"] == figures["records"]


@pytest.mark.soak
@pytest.mark.timeout(3600)
def test_racing_writers_at_larger_scale(two_services: list[Services]) -> None:
    for seed in range(4):
        figures = _concurrency(two_services, receipts=1_500, seed=seed)
        print(f"\nconcurrency seed {seed}: {figures}")
