"""The demo network (graphsvc.demo): deterministic, valid, in dependency order, and every
story present in the records. Whether the stories show in the *scores* is tested once the
store loader and the engine are joined (see graphsvc/demo/stories.py)."""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest

from graphsvc.demo import (
    GENERATOR_VERSION,
    DemoNetwork,
    NetworkParams,
    ParamsError,
    ensure_ndjson,
    generate,
    load_params,
)
from graphsvc.demo.__main__ import main
from graphsvc.demo.network_params import MS_PER_DAY
from graphsvc.domain import EntityKind, ProofType
from graphsvc.domain.batch import KnownState
from graphsvc.domain.outcomes import RecordStatus
from graphsvc.ingest.resolution import EvidenceRules, Resolver
from graphsvc.records import record_id, validate_record

# A scaled-down network (2,000 receipts): fast enough to generate several times.
SMALL = NetworkParams.from_dict(
    {
        "rng_seed": 7,
        "population": {
            "providers": 4,
            "models": 12,
            "nodes": 30,
            "witnesses": 6,
            "requesters": 40,
        },
        "traffic": {"receipts": 2_000},
        "stories": {
            "faulty_nodes": {"count": 2},
            "model_fault": {"provider_models": 5, "popularity_rank": 4},
            "disputes": {"upheld": 6, "rejected": 5, "serial": 2},
            "sybil_ring": {"requesters": 5, "nodes": 3, "receipts": 300},
        },
    }
)


@pytest.fixture(scope="module")
def small() -> DemoNetwork:
    return generate(SMALL)


@pytest.fixture(scope="module")
def full() -> DemoNetwork:
    # The network `serve --demo` loads: the parameters shipped in seed_data/.
    return generate(load_params())


@dataclass
class Index:
    """The records of a network, looked up the way the stories are told."""

    receipts: dict[str, dict[str, Any]] = field(default_factory=dict)
    attestations: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))
    disputes: dict[str, dict[str, Any]] = field(default_factory=dict)

    def votes_on(
        self, node: str | None = None, model: str | None = None
    ) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
        """(receipt, attestation) pairs on receipts run by ``node`` / of ``model``."""
        for rid, attestations in self.attestations.items():
            receipt = self.receipts[rid]
            if node is not None and receipt["signer"] != node:
                continue
            if model is not None and receipt["model"] != model:
                continue
            for attestation in attestations:
                yield receipt, attestation


def index(network: DemoNetwork) -> Index:
    found = Index()
    for record in network.records:
        if record["type"] == "receipt":
            found.receipts[record_id(record)] = record
        elif record["type"] == "attestation":
            found.attestations[record["receipt"]].append(record)
        elif record["type"] == "dispute":
            found.disputes[record_id(record)] = record
    return found


@pytest.fixture(scope="module")
def full_index(full: DemoNetwork) -> Index:
    return index(full)


# --- parameters ---------------------------------------------------------------------------


def test_shipped_parameters_are_the_defaults() -> None:
    assert load_params() == NetworkParams()


def test_parameters_round_trip_through_json(tmp_path: Path) -> None:
    path = tmp_path / "network.json"
    path.write_text(json.dumps({"_note": "comments are ignored", **SMALL.to_dict()}))
    assert load_params(path) == SMALL
    assert NetworkParams.from_dict(SMALL.to_dict()).digest() == SMALL.digest()
    assert SMALL.digest() != NetworkParams().digest()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"seeds": 1}, "unknown parameter(s) seeds"),
        ({"traffic": {"receipt": 10}}, "traffic.receipt"),
        ({"traffic": {"receipts": "many"}}, "traffic.receipts = 'many': must be an integer"),
        ({"traffic": {"cosigned_share": 1.5}}, "traffic.cosigned_share = 1.5"),
        ({"end": "2026-11-01T00:00:00"}, "needs a timezone"),
        ({"stories": {"disputes": {"serial": 99}}}, "stories.disputes.serial"),
        ({"population": {"models": 12}}, "population.models = 12"),
    ],
)
def test_bad_parameters_are_named(data: dict[str, Any], message: str) -> None:
    with pytest.raises(ParamsError, match=re.escape(message)):
        NetworkParams.from_dict(data)


def test_impossible_story_sizes_are_explained() -> None:
    greedy = replace(
        SMALL,
        stories=replace(SMALL.stories, disputes=replace(SMALL.stories.disputes, upheld=5_000)),
    )
    with pytest.raises(ParamsError, match=re.escape("stories.disputes.upheld = 5000")):
        generate(greedy)


# --- determinism and output ---------------------------------------------------------------


def test_same_parameters_give_identical_records(small: DemoNetwork) -> None:
    again = generate(SMALL)
    assert again.records == small.records
    assert again.stories == small.stories
    assert again.ndjson_digest() == small.ndjson_digest()


# The cache in the data directory is keyed by the parameters and GENERATOR_VERSION, so a
# change to the generated bytes must come with a version bump, or users keep a stale file.
SMALL_DIGEST = (
    GENERATOR_VERSION,
    "6853382b4836c437c6085d4ca051b44105cbe30438bde945e9efe9b10ea373a7",
)


def test_output_changes_only_with_the_generator_version(small: DemoNetwork) -> None:
    assert (GENERATOR_VERSION, small.ndjson_digest()) == SMALL_DIGEST, (
        "the generated network changed: bump graphsvc.demo.network_params.GENERATOR_VERSION "
        "and update SMALL_DIGEST"
    )


def test_another_seed_gives_another_network(small: DemoNetwork) -> None:
    other = generate(replace(SMALL, rng_seed=8))
    assert other.ndjson_digest() != small.ndjson_digest()


def test_full_network_ndjson_is_stable(full: DemoNetwork, tmp_path: Path) -> None:
    written = full.write_ndjson(tmp_path / "network.ndjson")
    data = (tmp_path / "network.ndjson").read_bytes()
    assert written == hashlib.sha256(data).hexdigest() == full.ndjson_digest()
    lines = data.decode().splitlines()
    assert len(lines) == len(full.records)
    assert json.loads(lines[-1]) == full.records[-1]


def test_ensure_ndjson_generates_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = ensure_ndjson(tmp_path, SMALL)
    assert path.parent == tmp_path and SMALL.digest()[:16] in path.name
    first = path.read_bytes()

    def fail(*_: object) -> None:
        raise AssertionError("regenerated a cached network")

    monkeypatch.setattr("graphsvc.demo.cache.generate", fail)
    assert ensure_ndjson(tmp_path, SMALL) == path
    assert path.read_bytes() == first


def test_module_entry_point_writes_the_network(tmp_path: Path) -> None:
    params = tmp_path / "params.json"
    params.write_text(json.dumps(SMALL.to_dict()))
    out, cast = tmp_path / "out.ndjson", tmp_path / "cast.json"
    assert main(["--out", str(out), "--params", str(params), "--cast", str(cast)]) == 0
    assert len(out.read_text().splitlines()) == len(generate(SMALL).records)
    story = json.loads(cast.read_text())
    assert story["names"][story["dishonest_witness"]].startswith("witness-")
    assert main(["--out", str(out), "--params", str(tmp_path / "missing.json")]) == 2


# --- validity and order -------------------------------------------------------------------


def test_every_record_validates(small: DemoNetwork) -> None:
    for record in small.records:
        validate_record(record, now_ms=small.params.end_ms)


def test_full_network_sample_validates(full: DemoNetwork) -> None:
    # Validating all 60,000 records takes ~15 s; every type appears in a 1-in-40 sample.
    head = [r for r in full.records if r["type"] in ("register", "model")]
    for record in [*head, *full.records[::40], *_disputes(full)]:
        validate_record(record, now_ms=full.params.end_ms)


def _disputes(network: DemoNetwork) -> list[dict[str, Any]]:
    return [r for r in network.records if r["type"] == "dispute"]


@pytest.mark.parametrize("which", ["small", "full"])
def test_records_are_in_dependency_order(which: str, request: pytest.FixtureRequest) -> None:
    network: DemoNetwork = request.getfixturevalue(which)
    end = network.params.end_ms
    registered: dict[str, str] = {}
    models: set[str] = set()
    receipts: dict[str, int] = {}
    votes: set[tuple[str, str]] = set()
    claims: set[tuple[str, str]] = set()
    last_ts = 0
    seen_types: list[str] = []
    for record in network.records:
        kind, signer, ts = record["type"], record["signer"], record["ts"]
        assert ts <= end
        # The whole file is chronological: `serve --demo` replays it in time order.
        assert ts >= last_ts
        last_ts = ts
        if not seen_types or seen_types[-1] != kind:
            seen_types.append(kind)
        if kind == "register":
            assert signer not in registered
            registered[signer] = record["kind"]
            continue
        if kind == "model":
            assert registered[signer] == "provider"
            models.add(record["model"])
        elif kind == "receipt":
            assert registered[signer] == "node" and record["model"] in models
            if "requester" in record:
                assert registered[record["requester"]] == "requester"
            receipts[record_id(record)] = ts
        else:
            signer_kind = "witness" if kind == "attestation" else "requester"
            assert registered[signer] == signer_kind
            assert ts > receipts[record["receipt"]]
            key = (signer, record["receipt"])
            assert key not in (votes if kind == "attestation" else claims)
            (votes if kind == "attestation" else claims).add(key)
    assert seen_types[:3] == ["register", "model", "receipt"]


def test_the_store_accepts_the_records_in_file_order(small: DemoNetwork) -> None:
    rules = EvidenceRules(
        half_life_ms=30 * MS_PER_DAY,
        proof_weights={ProofType.TEE: 1.0, ProofType.ZK: 1.0, ProofType.NONE: 0.5},
    )
    state = KnownState()
    now = small.params.end_ms
    for start in range(0, len(small.records), 500):
        chunk = small.records[start : start + 500]
        batch = [(i, validate_record(r, now_ms=now)) for i, r in enumerate(chunk)]
        results = Resolver(state, rules).resolve(batch)
        rejected = [r for r in results if r.status is not RecordStatus.ACCEPTED]
        assert not rejected, rejected[:3]


# --- shape of the network -----------------------------------------------------------------


@pytest.mark.parametrize("which", ["small", "full"])
def test_counts_match_parameters(which: str, request: pytest.FixtureRequest) -> None:
    network: DemoNetwork = request.getfixturevalue(which)
    params, cast = network.params, network.stories
    pop, ring = params.population, params.stories.sybil_ring
    types = Counter(r["type"] for r in network.records)
    kinds = Counter(r["kind"] for r in network.records if r["type"] == "register")
    assert kinds == {
        "provider": pop.providers,
        "node": pop.nodes + ring.nodes,
        "witness": pop.witnesses,
        "requester": pop.requesters + ring.requesters,
    }
    assert types["model"] == pop.models
    assert types["receipt"] == params.traffic.receipts
    disputes = params.stories.disputes
    assert types["dispute"] == disputes.upheld + disputes.rejected
    assert (len(cast.disputes_upheld), len(cast.disputes_rejected)) == (
        disputes.upheld,
        disputes.rejected,
    )
    assert len(cast.sybil_requesters) == ring.requesters
    assert len(cast.sybil_nodes) == ring.nodes
    assert len(cast.faulty_nodes) == params.stories.faulty_nodes.count


def test_traffic_looks_like_a_real_network(full: DemoNetwork, full_index: Index) -> None:
    receipts = list(full_index.receipts.values())
    ring_nodes = set(full.stories.sybil_nodes)
    honest = [r for r in receipts if r["signer"] not in ring_nodes]
    proofs = Counter(r["proof"]["type"] for r in honest)
    assert all(0.05 < proofs[p] / len(honest) < 0.75 for p in ("tee", "zk", "none"))
    cosigned = sum("requester" in r for r in honest) / len(honest)
    assert 0.85 < cosigned < 0.97
    attested = [
        r for r in full_index.attestations if full_index.receipts[r]["signer"] not in ring_nodes
    ]
    assert 0.10 <= len(attested) / len(honest) <= 0.20
    panels = Counter(len(full_index.attestations[r]) for r in attested)
    assert set(panels) == {1, 2, 3}
    # Zipf-like popularity: the top model carries several times the median model.
    per_model = sorted(Counter(r["model"] for r in honest).values(), reverse=True)
    assert per_model[0] > 10 * per_model[len(per_model) // 2]
    # Re-executions agree: some outputs are named by more than one receipt.
    outputs = Counter(r["output_hash"] for r in honest)
    assert sum(1 for n in outputs.values() if n > 1) > 100
    # Every actor named in the cast exists under the kind the story says.
    kinds = full.kinds
    assert {kinds[n] for n in full.stories.faulty_nodes} == {EntityKind.NODE}
    assert kinds[full.stories.faulty_model] is EntityKind.MODEL
    assert kinds[full.stories.dishonest_witness] is EntityKind.WITNESS


# --- the seven stories, as the records tell them ------------------------------------------


def _honest(full: DemoNetwork, attestation: dict[str, Any]) -> bool:
    return bool(attestation["signer"] != full.stories.dishonest_witness)


def test_story1_faulty_nodes_are_caught_all_along(full: DemoNetwork, full_index: Index) -> None:
    cast = full.stories
    for node in cast.faulty_nodes:
        # (A faulty node may also serve the degrading model, whose faults name the model.)
        faults = [
            a["ts"]
            for _, a in full_index.votes_on(node=node)
            if a.get("fault") == "node" and _honest(full, a)
        ]
        assert len(faults) >= 40
        # Steadily: every month of the window has some.
        months = Counter((ts - cast.start_ms) // (30 * MS_PER_DAY) for ts in faults)
        assert all(months[m] >= 5 for m in range(3)), months


def test_story2_model_fault_spares_the_provider_and_nodes(
    full: DemoNetwork, full_index: Index
) -> None:
    cast = full.stories
    bad = [a for _, a in full_index.votes_on(model=cast.faulty_model) if a["verdict"] == "invalid"]
    assert len(bad) >= 50
    assert all(a["fault"] == "model" for a in bad if _honest(full, a))
    # The provider publishes the bad model and several healthy ones, none of them faulted.
    published = {r["model"]: r["signer"] for r in full.records if r["type"] == "model"}
    assert published[cast.faulty_model] == cast.model_fault_provider
    assert len(cast.provider_healthy_models) >= 4
    for model in cast.provider_healthy_models:
        assert published[model] == cast.model_fault_provider
        assert not any(a.get("fault") == "model" for _, a in full_index.votes_on(model=model))
    # The bad model ran on ordinary healthy nodes that also serve other models.
    assert len(cast.faulty_model_nodes) >= 3
    assert not set(cast.faulty_model_nodes) & {*cast.faulty_nodes, cast.reformed_node}
    models_of: dict[str, set[str]] = defaultdict(set)
    for receipt in full_index.receipts.values():
        models_of[receipt["signer"]].add(receipt["model"])
    for node in cast.faulty_model_nodes:
        assert len(models_of[node]) >= 2
        assert not any(
            a.get("fault") == "node" for _, a in full_index.votes_on(node=node) if _honest(full, a)
        )


def test_story3_reformed_node_faults_only_in_its_bad_month(
    full: DemoNetwork, full_index: Index
) -> None:
    cast = full.stories
    faults = [
        a["ts"]
        for r, a in full_index.votes_on(node=cast.reformed_node)
        if a["verdict"] == "invalid" and _honest(full, a)
    ]
    assert len(faults) >= 20
    assert cast.reformed_until_ms == cast.start_ms + 30 * MS_PER_DAY
    # Attested within hours of the receipt, so all before the end of the first month + 1 day.
    assert max(faults) < cast.reformed_until_ms + MS_PER_DAY
    later = [
        r
        for r in full_index.receipts.values()
        if r["signer"] == cast.reformed_node and r["ts"] >= cast.reformed_until_ms
    ]
    assert len(later) >= 100  # it keeps serving, cleanly


def test_story4_dishonest_witness_is_in_the_minority(full: DemoNetwork, full_index: Index) -> None:
    witness = full.stories.dishonest_witness
    contested = minority = 0
    for attestations in full_index.attestations.values():
        mine = [a for a in attestations if a["signer"] == witness]
        if not mine:
            continue
        assert len(attestations) == 3  # it sits only where a majority exists
        verdicts = Counter(a["verdict"] for a in attestations)
        if len(verdicts) > 1:
            contested += 1
            minority += verdicts[mine[0]["verdict"]] == 1
    assert contested >= 100
    assert minority / contested >= 0.8
    # The honest witnesses never disagree among themselves.
    for attestations in full_index.attestations.values():
        assert len({a["verdict"] for a in attestations if _honest(full, a)}) == 1


def test_story5_disputes_upheld_and_rejected(full: DemoNetwork, full_index: Index) -> None:
    cast = full.stories
    for ids, verdict in ((cast.disputes_upheld, "invalid"), (cast.disputes_rejected, "valid")):
        for dispute_id in ids:
            dispute = full_index.disputes[dispute_id]
            receipt = full_index.receipts[dispute["receipt"]]
            assert receipt["requester"] == dispute["signer"]  # the requester who asked
            votes = full_index.attestations[dispute["receipt"]]
            assert votes and {a["verdict"] for a in votes} == {verdict}
    serial = Counter(full_index.disputes[d]["signer"] for d in cast.disputes_rejected)
    assert serial[cast.serial_disputer] == full.params.stories.disputes.serial


def test_story6_sybil_ring_is_closed_and_unwitnessed(full: DemoNetwork, full_index: Index) -> None:
    cast = full.stories
    ring_nodes, ring_requesters = set(cast.sybil_nodes), set(cast.sybil_requesters)
    ring = [r for r in full_index.receipts.values() if r["signer"] in ring_nodes]
    assert len(ring) == full.params.stories.sybil_ring.receipts
    assert all(r.get("requester") in ring_requesters for r in ring)
    published = {r["model"] for r in full.records if r["type"] == "model"}
    assert {r["model"] for r in ring} <= published
    assert not any(
        full_index.receipts[rid]["signer"] in ring_nodes for rid in full_index.attestations
    )
    # The ring's requesters never touch an honest node.
    assert not any(
        r.get("requester") in ring_requesters
        for r in full_index.receipts.values()
        if r["signer"] not in ring_nodes
    )


def test_story7_degrading_model_fails_more_at_the_end(full: DemoNetwork, full_index: Index) -> None:
    cast = full.stories
    before: Counter[bool] = Counter()
    during: Counter[bool] = Counter()
    for rid, attestations in full_index.attestations.items():
        receipt = full_index.receipts[rid]
        if receipt["model"] != cast.degrading_model:
            continue
        wrong = any(a.get("fault") == "model" for a in attestations if _honest(full, a))
        (during if receipt["ts"] >= cast.degrading_since_ms else before)[wrong] += 1
    assert cast.degrading_since_ms == cast.end_ms - 21 * MS_PER_DAY
    rate_before = before[True] / (before[True] + before[False])
    rate_during = during[True] / (during[True] + during[False])
    assert rate_during > 3 * rate_before
    assert during[True] >= 20
