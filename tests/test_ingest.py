"""Ingest into the embedded ArcadeDB over Bolt: attribution rule, idempotency, evidence."""

from __future__ import annotations

import math
import threading
from typing import Any

import pytest

from graphsvc.domain import EntityKind, FaultParty, ProofType, Verdict
from graphsvc.domain.outcomes import RecordStatus
from graphsvc.ingest.ingestor import Ingestor
from graphsvc.ingest.resolution import EvidenceRules
from graphsvc.records import record_id
from graphsvc.settings import Settings
from graphsvc.store import stats, trail
from graphsvc.store.graph_store import GraphStore
from tests.network import T0, TEST_SEEDS, Network

NOW = T0 + 10 * 86_400_000
HALF_LIFE = EvidenceRules.of(Settings().scoring).half_life_ms


@pytest.fixture
def ingestor(store: GraphStore) -> Ingestor:
    return Ingestor(store, EvidenceRules.of(Settings().scoring), clock=lambda: NOW)


def statuses(results: list[Any]) -> list[str]:
    return [str(r.status) for r in results]


def node_count(store: GraphStore) -> int:
    return int(
        store.read("MATCH (n) WHERE NOT n:Meta AND NOT n:LogEntries RETURN count(n) AS c")[0]["c"]
    )


def test_full_trail_is_written_and_read_back(ingestor: Ingestor, store: GraphStore) -> None:
    net = Network()
    receipt = net.receipt()
    rid = record_id(receipt)
    attestation = net.attest(rid)
    dispute = net.dispute(rid)
    results = ingestor.submit([*net.basics(), receipt, attestation, dispute])
    assert statuses(results) == ["accepted"] * 10

    found = trail.receipt_trails(store, [rid], frozenset(TEST_SEEDS))[rid]
    assert found.node == net.node.id
    assert found.model == "acme/llama-3-8b@1"
    assert found.provider == net.provider.id
    assert found.requester == net.requester.id
    assert found.proof_type == "tee"
    assert found.record == receipt
    assert [a.id for a in found.attestations] == [record_id(attestation)]
    assert [d.id for d in found.disputes] == [record_id(dispute)]
    assert found.verdict == "valid"
    assert trail.receipt_ids_for_output(store, receipt["output_hash"], 10) == [rid]
    entities = trail.entities(store, [net.node.id, "acme/llama-3-8b@1"])
    assert entities[net.node.id].name == "node-1"
    assert entities["acme/llama-3-8b@1"].provider == net.provider.id


def test_resubmission_is_duplicate_and_changes_nothing(
    ingestor: Ingestor, store: GraphStore
) -> None:
    net = Network()
    batch = [*net.basics(), net.receipt()]
    assert set(statuses(ingestor.submit(batch))) == {"accepted"}
    before = node_count(store)
    evidence = store.read("MATCH (e:Evidence) RETURN e.id AS id, e.amount AS a ORDER BY id")
    again = ingestor.submit(batch)
    assert statuses(again) == ["duplicate"] * len(batch)
    assert [r.id for r in again] == [record_id(r) for r in batch]
    assert node_count(store) == before
    # Exact: the amounts as stored before.
    assert store.read("MATCH (e:Evidence) RETURN e.id AS id, e.amount AS a ORDER BY id") == (
        evidence
    )


def test_same_record_twice_in_one_batch(ingestor: Ingestor) -> None:
    net = Network()
    registration = net.registrations()[0]
    results = ingestor.submit([registration, registration])
    assert statuses(results) == ["accepted", "duplicate"]
    assert results[1].reason == "same record as index 0"


def test_references_resolve_within_a_batch_in_any_order(ingestor: Ingestor) -> None:
    net = Network()
    receipt = net.receipt()
    batch = [net.attest(record_id(receipt)), receipt, net.model(), *net.registrations()]
    assert statuses(ingestor.submit(batch)) == ["accepted"] * len(batch)


@pytest.mark.parametrize(
    ("make", "field", "words"),
    [
        (lambda n: n.receipt(), "signer", "has not registered"),
        (lambda n: n.model(), "signer", "has not registered"),
        (lambda n: n.attest("sha256:" + "a" * 64), "signer", "has not registered"),
    ],
)
def test_unknown_signer_is_rejected(
    ingestor: Ingestor, store: GraphStore, make: Any, field: str, words: str
) -> None:
    results = ingestor.submit([make(Network())])
    assert results[0].status is RecordStatus.REJECTED
    assert results[0].reason is not None
    assert f"field `{field}`" in results[0].reason and words in results[0].reason
    assert node_count(store) == 0


def test_unknown_model_and_receipt_are_rejected(ingestor: Ingestor, store: GraphStore) -> None:
    net = Network()
    ingestor.submit(net.registrations())
    before = node_count(store)
    results = ingestor.submit([net.receipt(), net.attest("sha256:" + "b" * 64)])
    assert statuses(results) == ["rejected", "rejected"]
    assert results[0].reason == (
        "field `model`: unknown model: acme/llama-3-8b@1 has no provider `model` record"
    )
    assert results[1].reason == "field `receipt`: unknown receipt: sha256:" + "b" * 64
    assert node_count(store) == before


def test_signer_acting_as_another_kind_is_rejected(ingestor: Ingestor) -> None:
    net = Network()
    ingestor.submit(net.basics())
    # A node publishing a model, a witness co-signing as requester.
    from graphsvc.records import builder

    as_provider = builder.publish_model(net.node, "evil/model@1", "1" * 64, T0 + 5)
    net_swapped = Network(requester=net.witness)
    results = ingestor.submit([as_provider, net_swapped.receipt(7)])
    assert statuses(results) == ["rejected", "rejected"]
    assert results[0].reason == (
        f"field `signer`: {net.node.id} is registered as a node, not a provider"
    )
    assert results[1].reason == (
        f"field `requester`: {net.witness.id} is registered as a witness, not a requester"
    )


def test_conflicting_claims_are_rejected(ingestor: Ingestor) -> None:
    net = Network()
    receipt = net.receipt()
    ingestor.submit([*net.basics(), receipt])
    from graphsvc.domain import EntityKind
    from graphsvc.records import builder
    from graphsvc.records.builder import Actor

    rival = Actor.derived("rival", EntityKind.PROVIDER)
    results = ingestor.submit(
        [
            builder.register(rival, T0),
            builder.publish_model(rival, "acme/llama-3-8b@1", "2" * 64, T0 + 9),
            net.attest(record_id(receipt), ts=T0 + 1),
            net.attest(record_id(receipt), ts=T0 + 2),
            builder.register(Actor(net.node.key, "again", EntityKind.WITNESS), T0 + 3),
        ]
    )
    assert statuses(results) == ["accepted", "rejected", "accepted", "rejected", "rejected"]
    assert "already published by " + net.provider.id in str(results[1].reason)
    assert "already attested this receipt" in str(results[3].reason)
    assert "already registered as a node" in str(results[4].reason)


def test_bad_and_good_records_in_one_batch(ingestor: Ingestor, store: GraphStore) -> None:
    net = Network()
    tampered = dict(net.registrations()[0], name="mallory")
    results = ingestor.submit([tampered, *net.basics(), {"type": "nope"}, 42])
    assert statuses(results) == ["rejected"] + ["accepted"] * 7 + ["rejected"] * 2
    assert "signature does not verify" in str(results[0].reason)
    assert results[0].id == record_id(tampered)
    assert results[9].id is None
    assert node_count(store) == 7


def test_cosigned_evidence_decays_and_merges_across_batches(
    ingestor: Ingestor, store: GraphStore
) -> None:
    net = Network()
    day = 86_400_000
    receipts = [
        net.receipt(1, ts=T0 + day, proof=ProofType.TEE),
        net.receipt(2, ts=T0 + 3 * day, proof=ProofType.NONE),
        net.receipt(3, ts=T0 + 2 * day, proof=ProofType.ZK),  # out of order on purpose
        net.receipt(4, cosigned=False),  # no requester signature: no endorsement
    ]
    ingestor.submit([*net.basics(), receipts[0]])
    ingestor.submit(receipts[1:])
    rows = store.read(
        "MATCH (e:Evidence {src: $src, dst: $dst}) RETURN e.ref_ms AS ref, e.amount AS amount,"
        " e.count AS count",
        src=net.requester.id,
        dst=net.node.id,
    )
    # The tee and zk proofs are only claimed, so they weigh as none (0.5).
    expected = 0.5 * math.exp2(-2 * day / HALF_LIFE) + 0.5 + 0.5 * math.exp2(-day / HALF_LIFE)
    assert rows == [{"ref": T0 + 3 * day, "amount": pytest.approx(expected, rel=1e-12), "count": 3}]


def test_invalid_attestations_fault_only_the_named_party_unless_outvoted(
    ingestor: Ingestor, store: GraphStore
) -> None:
    from graphsvc.domain import EntityKind
    from graphsvc.records import builder
    from graphsvc.records.builder import Actor
    from graphsvc.scoring.evidence import FaultCause
    from graphsvc.scoring.params import ScoringParams
    from graphsvc.store.evidence_loader import read_all

    net = Network()
    third = Actor.derived("wit-3", EntityKind.WITNESS)
    r1, r2, r3 = net.receipt(1), net.receipt(2), net.receipt(3)
    ingestor.submit([*net.basics(), builder.register(third, T0), r1, r2, r3])
    ingestor.submit(
        [
            net.attest(record_id(r1), Verdict.INVALID, fault=FaultParty.NODE),
            net.attest(record_id(r2), Verdict.INVALID, fault=FaultParty.MODEL),
            # r3: two witnesses say valid, one blames the node: the accusation is void.
            net.attest(record_id(r3), Verdict.VALID),
            net.attest(record_id(r3), Verdict.VALID, witness=net.witness2),
            net.attest(record_id(r3), Verdict.INVALID, witness=third, fault=FaultParty.NODE),
        ]
    )
    parties = store.read(
        "MATCH (a:Attestation {verdict: 'invalid'}) RETURN a.receipt AS r, a.party AS party"
    )
    assert {(p["r"], p["party"]) for p in parties} == {
        (record_id(r1), net.node.id),
        (record_id(r2), "acme/llama-3-8b@1"),
        (record_id(r3), net.node.id),
    }
    votes = store.read("MATCH (r:Receipt) RETURN r.id AS id, r.valid_by AS v, r.invalid_by AS i")
    by_receipt = {row["id"]: (sorted(row["v"]), sorted(row["i"])) for row in votes}
    assert by_receipt[record_id(r3)] == (sorted([net.witness.id, net.witness2.id]), [third.id])
    assert by_receipt[record_id(r1)] == ([], [net.witness.id])

    # The three witnesses are among the suite's seeds: two of them outvote the third.
    evidence, _ = read_all(store).evidence(ScoringParams(), seeds=TEST_SEEDS)
    ids = evidence.entity_ids
    faults = sorted(
        (ids[p], ids[s], FaultCause(c).name)
        for p, s, c in zip(
            evidence.fault_party, evidence.fault_source, evidence.fault_cause, strict=True
        )
    )
    assert faults == sorted(
        [
            (net.node.id, net.witness.id, "ATTESTED_INVALID"),
            ("acme/llama-3-8b@1", net.witness.id, "ATTESTED_INVALID"),
            (third.id, third.id, "WITNESS_MINORITY"),
        ]
    )


def test_concurrent_submissions_accept_each_record_once(
    ingestor: Ingestor, store: GraphStore
) -> None:
    net = Network()
    ingestor.submit(net.basics())
    receipts = [net.receipt(i) for i in range(60)]
    outcomes: list[list[str]] = []

    def submit(part: list[dict[str, Any]]) -> None:
        outcomes.append(statuses(ingestor.submit(part)))

    threads = [threading.Thread(target=submit, args=(receipts[i : i + 40],)) for i in (0, 20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    flat = [s for batch in outcomes for s in batch]
    assert flat.count("accepted") == 60 and flat.count("duplicate") == 20
    assert store.read("MATCH (r:Receipt) RETURN count(r) AS c") == [{"c": 60}]


def _output_edges(store: GraphStore, output: str) -> list[tuple[str, str]]:
    rows = store.read(
        "MATCH (o:Output {id: $id})-[e]-(x) RETURN type(e) AS t, x.id AS x", id=output
    )
    return sorted((r["t"], r["x"]) for r in rows)


@pytest.mark.parametrize("split", [False, True], ids=["one batch", "two batches"])
def test_output_edges_exist_once_across_re_executions(
    ingestor: Ingestor, store: GraphStore, split: bool
) -> None:
    net = Network()
    output = "sha256:" + "c" * 64
    first = net.receipt(1, output=output)
    again = [
        net.receipt(2, node=net.node2, output=output),  # another node: a new EXECUTED_ON
        net.receipt(3, output=output),  # the same node and requester again: no new edge
    ]
    if split:
        ingestor.submit([*net.basics(), first])
        results = ingestor.submit(again)
    else:
        results = ingestor.submit([*net.basics(), first, *again])
    assert {str(r.status) for r in results} == {"accepted"}
    receipts = sorted(("FOR_OUTPUT", record_id(r)) for r in [first, *again])
    assert _output_edges(store, output) == sorted(
        [
            ("EXECUTED_ON", net.node.id),
            ("EXECUTED_ON", net.node2.id),
            ("GENERATED_BY", "acme/llama-3-8b@1"),
            ("REQUESTED", net.requester.id),
            *receipts,
        ]
    )
    first_ts = store.read("MATCH (o:Output {id: $id}) RETURN o.first_ts AS t", id=output)
    assert first_ts == [{"t": first["ts"]}]


def test_submit_many_answers_batch_by_batch_like_submit(
    ingestor: Ingestor, store: GraphStore
) -> None:
    net = Network()
    receipt = net.receipt(1)
    batches = [
        net.basics(),
        [receipt, {"type": "nope"}, receipt],  # refers to the batch before
        [net.attest(record_id(receipt)), net.receipt(2, cosigned=False)],
    ]
    answers = [statuses(results) for results in ingestor.submit_many(batches)]
    assert answers == [
        ["accepted"] * len(batches[0]),
        ["accepted", "rejected", "duplicate"],
        ["accepted", "accepted"],
    ]
    # Submitted again one by one: the same records, now all known.
    assert [statuses(ingestor.submit(batch)) for batch in batches] == [
        ["duplicate"] * len(batches[0]),
        ["duplicate", "rejected", "duplicate"],
        ["duplicate", "duplicate"],
    ]
    assert list(ingestor.submit_many([])) == []


def test_network_counts_read_zeros_on_an_empty_store_then_what_was_ingested(
    ingestor: Ingestor, store: GraphStore
) -> None:
    empty = stats.network_counts(store)
    assert (empty.receipts, empty.records, empty.last_ingest_ms) == (0, 0, None)
    assert set(empty.entities.values()) == {0}

    net = Network()
    batch = [*net.basics(), net.receipt()]
    ingestor.submit(batch)
    counts = stats.network_counts(store)
    assert (counts.receipts, counts.outputs, counts.records) == (1, 1, len(batch))
    assert counts.entities[EntityKind.NODE] == 2
    assert counts.last_ingest_ms == NOW
