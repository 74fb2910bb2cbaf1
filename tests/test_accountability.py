"""Incidents and accountability policies: pure rules, then through the API and the
embedded store."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import pytest
from starlette.testclient import TestClient

from graphsvc.domain import EntityKind, FaultParty, ProofType, Verdict
from graphsvc.domain.entities import ProofMix
from graphsvc.domain.score_snapshots import ScoreRow
from graphsvc.domain.votes import ClaimStatus, InvalidClaim, claim_status
from graphsvc.policy import Policy, recommend
from graphsvc.records import builder, record_id
from graphsvc.scoring.params import ScoringParams
from graphsvc.scoring.verdicts import attested_faults, vote_faults
from graphsvc.settings import Settings
from graphsvc.store.endpoint import BoltEndpoint
from tests.api_client import ADMIN_TOKEN, gql, recompute, serving, subscription
from tests.network import T0, SignedNetwork, signed_network
from tests.scoring_factories import RISKIEST

# ------------------------------------------------------------------ pure rules

INVALID, VALID = Verdict.INVALID, Verdict.VALID


TRUSTED = frozenset({"w1", "w2", "w3", "w4"})


def test_an_invalid_claim_stands_unless_outvoted() -> None:
    claim = InvalidClaim("r", "w1", "node", 10)
    assert claim_status(claim, {}, TRUSTED) is ClaimStatus.STANDS
    assert claim_status(claim, {"w1": (INVALID, 10)}, TRUSTED) is ClaimStatus.STANDS
    tie = {"w1": (INVALID, 10), "w2": (VALID, 11)}
    assert claim_status(claim, tie, TRUSTED) is ClaimStatus.STANDS
    outvoted = {**tie, "w3": (VALID, 12)}
    assert claim_status(claim, outvoted, TRUSTED) is ClaimStatus.OUTVOTED
    assert claim_status(claim, {**outvoted, "w4": (INVALID, 13)}, TRUSTED) is ClaimStatus.STANDS


def test_keys_without_standing_never_outvote_a_trusted_witness() -> None:
    """Any number of fresh keys voting valid leave a seed's accusation standing."""
    claim = InvalidClaim("r", "seed", "node", 10)
    fresh = {f"fresh-{i}": (VALID, 11 + i) for i in range(50)}
    votes = {"seed": (INVALID, 10), **fresh}
    assert claim_status(claim, votes, frozenset({"seed"})) is ClaimStatus.STANDS
    # ... and they are judged: each is in the minority of the trusted verdict.
    rows = [("r", w, v, t) for w, (v, t) in votes.items()]
    minority = vote_faults(rows, [], ScoringParams(), frozenset({"seed"}))
    assert {f.party_id for f in minority} == set(fresh)


def test_outvoted_claims_fault_no_one() -> None:
    claims = [("r", "w1", "node", 10), ("q", "w1", "node", 15)]
    votes = [("r", "w1", INVALID, 10), ("r", "w2", VALID, 11), ("r", "w3", VALID, 12)]
    faults = attested_faults(claims, votes, TRUSTED)
    assert [(f.receipt_id, f.party_id, f.source_id) for f in faults] == [("q", "node", "w1")]
    # Before the majority had voted, the claim stood.
    assert [f.receipt_id for f in attested_faults(claims, votes, TRUSTED, as_of_ms=11)] == ["r"]
    # Votes of keys without standing decide nothing: the claim stands.
    assert len(attested_faults(claims, votes, frozenset({"w1"}))) == 2


def row(entity: str, kind: EntityKind, rank: int, **figures: float) -> ScoreRow:
    defaults = {"score": 50.0, "fault_rate": 0.0, "positive_evidence": 10.0}
    values = {**defaults, **figures}
    return ScoreRow(
        entity=entity,
        kind=kind,
        score=values["score"],
        rank=rank,
        percentile=50.0,
        mass=0.1,
        raw_mass=0.1,
        fault_rate=values["fault_rate"],
        confidence=0.5,
        positive_evidence=values["positive_evidence"],
        fault_weight=0.0,
        phi=1.0,
        breakdown={},
        as_of_ms=T0,
        **RISKIEST,
    )


def test_proof_share_counts_stronger_proofs() -> None:
    mix = ProofMix("m", "p", tee=2, zk=1, none=1)
    assert mix.share_at_least(ProofType.NONE) == pytest.approx(1.0)
    assert mix.share_at_least(ProofType.TEE) == pytest.approx(0.75)
    assert mix.share_at_least(ProofType.ZK) == pytest.approx(0.25)
    assert ProofMix("m", "p", 0, 0, 0).share_at_least(ProofType.NONE) == 0.0  # exact: defined


def test_claimed_proofs_count_as_none_unless_the_policy_accepts_claims() -> None:
    mix = ProofMix("m", "p", tee=3, zk=1, none=0, tee_verified=1)
    assert mix.share_at_least(ProofType.NONE, accept_claimed=False) == pytest.approx(1.0)
    assert mix.share_at_least(ProofType.TEE, accept_claimed=False) == pytest.approx(0.25)
    assert mix.share_at_least(ProofType.ZK, accept_claimed=False) == pytest.approx(0.0)
    assert mix.share_at_least(ProofType.TEE, accept_claimed=True) == pytest.approx(1.0)


def test_recommend_filters_models_and_providers_and_orders_by_rank() -> None:
    scores = {
        "good": row("good", EntityKind.PROVIDER, 1, score=100.0),
        "faulty": row("faulty", EntityKind.PROVIDER, 2, fault_rate=0.5),
        "weak": row("weak", EntityKind.PROVIDER, 3, score=5.0),
        "m-zk": row("m-zk", EntityKind.MODEL, 2),
        "m-tee": row("m-tee", EntityKind.MODEL, 1),
        "m-none": row("m-none", EntityKind.MODEL, 3),
        "m-thin": row("m-thin", EntityKind.MODEL, 4, positive_evidence=0.5),
        "m-f": row("m-f", EntityKind.MODEL, 5),
        "m-w": row("m-w", EntityKind.MODEL, 6),
    }
    mixes = [
        ProofMix("m-zk", "good", tee=0, zk=9, none=1),
        ProofMix("m-tee", "good", tee=10, zk=0, none=0),
        ProofMix("m-none", "good", tee=0, zk=0, none=10),
        ProofMix("m-thin", "good", tee=10, zk=0, none=0),
        ProofMix("m-f", "faulty", tee=10, zk=0, none=0),
        ProofMix("m-w", "weak", tee=10, zk=0, none=0),
        ProofMix("m-unscored", "good", tee=10, zk=0, none=0),
    ]

    def offered(policy: Policy) -> list[tuple[str, list[str]]]:
        return [
            (o.row.entity, [m.row.entity for m in o.models])
            for o in recommend(scores, mixes, policy)
        ]

    everything = [
        ("good", ["m-tee", "m-zk", "m-none", "m-thin"]),
        ("faulty", ["m-f"]),
        ("weak", ["m-w"]),
    ]
    assert offered(Policy()) == everything
    claims = {"accept_claimed": True}  # these mixes hold only claimed proofs
    assert offered(Policy(min_proof=ProofType.TEE, min_evidence=1.0, **claims))[0] == (
        "good",
        ["m-tee"],
    )
    assert offered(Policy(min_proof=ProofType.TEE, min_proof_share=0.9, **claims))[0] == (
        "good",
        ["m-tee", "m-zk", "m-thin"],
    )
    assert offered(Policy(min_proof=ProofType.ZK, min_proof_share=0.9, **claims)) == [
        ("good", ["m-zk"])
    ]
    assert offered(Policy(min_proof=ProofType.TEE)) == []  # nothing verified
    assert offered(Policy(max_fault_rate=0.1, min_score=10.0)) == [everything[0]]
    # maxRisk: rows here are certain to fail, so any bound below 1 admits nothing; with
    # risks, the bound applies to providers and models alike.
    assert offered(Policy(max_risk=0.9)) == []
    for entity, risk in (("good", 0.01), ("m-tee", 0.02), ("m-zk", 0.3), ("weak", 0.01)):
        scores[entity] = replace(scores[entity], risk=risk, risk_events=10.0)
    assert offered(Policy(max_risk=0.05)) == [("good", ["m-tee"])]


def test_policy_bounds_are_named() -> None:
    with pytest.raises(ValueError, match=r"minProofShare must be between 0 and 1: 1\.5"):
        Policy(min_proof_share=1.5)
    with pytest.raises(ValueError, match="maxFaultRate"):
        Policy(max_fault_rate=-0.1)
    with pytest.raises(ValueError, match="maxRisk"):
        Policy(max_risk=1.5)


# ------------------------------------------------------------------ through the API


@dataclass
class Incidents:
    """The scored network with four invalid attestations, one of each fate."""

    net: SignedNetwork
    stands_on: str  # receipt whose node was faulted by one witness
    outvoted_on: str  # receipt where the accuser was outvoted two to one
    model_fault_on: str  # receipt whose model was faulted
    tied_on: str  # receipt where one witness accused and one vouched


def incident_records(net: SignedNetwork) -> tuple[list[dict[str, Any]], Incidents]:
    w0, w1, w2 = net.witnesses
    unattested = [r for i, r in enumerate(net.receipts) if i % 3 != 0]
    (a, _, _), (b, _, _), (c, _, _), (d, _, _) = unattested[:4]
    ids = [record_id(x) for x in (a, b, c, d)]

    def vote(
        witness: Any, receipt: str, verdict: Verdict, dt: int, fault: FaultParty | None
    ) -> Any:
        return builder.attestation(
            witness, receipt, verdict, T0 + 35 * 86_400_000 + dt, fault=fault
        )

    records = [
        vote(w0, ids[0], INVALID, 0, FaultParty.NODE),
        vote(w1, ids[1], INVALID, 0, FaultParty.NODE),
        vote(w0, ids[1], VALID, 1, None),
        vote(w2, ids[1], VALID, 2, None),
        vote(w2, ids[2], INVALID, 0, FaultParty.MODEL),
        vote(w0, ids[3], INVALID, 0, FaultParty.NODE),
        vote(w1, ids[3], VALID, 5, None),
    ]
    return records, Incidents(net, *ids)


@pytest.fixture
def incidents_client(
    embedded_endpoint: BoltEndpoint, clean_graph: None
) -> Iterator[tuple[TestClient, Incidents]]:
    settings = Settings(admin_token=ADMIN_TOKEN, subscription_poll=0.05)  # type: ignore[arg-type]
    net = signed_network(11)
    extra, story = incident_records(net)
    with serving(embedded_endpoint, settings, T0 + 40 * 86_400_000, net.records + extra) as client:
        recompute(client)
        yield client, story


INCIDENTS = """
query($id: ID!) {
  entity(id: $id) {
    incidents { items {
      id status fault note cursor party { id kind } witness { id } receipt { id } } }
  }
}
"""


def incidents_of(client: TestClient, entity_id: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = gql(client, INCIDENTS, id=entity_id)["data"]["entity"][
        "incidents"
    ]["items"]
    return found


def trail(client: TestClient, receipt: str) -> dict[str, Any]:
    query = (
        "query($id: ID!) { receipt(id: $id) { verdict node { id } model { id provider { id } } } }"
    )
    found: dict[str, Any] = gql(client, query, id=receipt)["data"]["receipt"]
    return found


def test_incidents_name_the_blamed_party_and_what_became_of_them(
    incidents_client: tuple[TestClient, Incidents],
) -> None:
    client, story = incidents_client
    expected = {
        story.stands_on: ("STANDS", "NODE"),
        story.outvoted_on: ("OUTVOTED", "NODE"),
        story.tied_on: ("STANDS", "NODE"),
        story.model_fault_on: ("STANDS", "MODEL"),
    }
    seen: dict[str, tuple[str, str]] = {}
    for receipt, (_, fault) in expected.items():
        path = trail(client, receipt)
        blamed = path["node"]["id"] if fault == "NODE" else path["model"]["id"]
        for incident in incidents_of(client, blamed):
            assert incident["party"]["id"] == blamed
            assert incident["party"]["kind"] == ("NODE" if fault == "NODE" else "MODEL")
            seen[incident["receipt"]["id"]] = (incident["status"], incident["fault"])
    assert seen == expected

    # A provider sees the incidents of its models; witnesses and requesters have none.
    faulted_model = trail(client, story.model_fault_on)["model"]
    provider = incidents_of(client, faulted_model["provider"]["id"])
    assert [i["receipt"]["id"] for i in provider] == [story.model_fault_on]
    assert incidents_of(client, story.net.witnesses[0].id) == []

    assert trail(client, story.tied_on)["verdict"] == "CONTESTED"
    assert trail(client, story.outvoted_on)["verdict"] == "VALID"
    assert trail(client, story.stands_on)["verdict"] == "INVALID"


RECOMMEND = """
query($policy: ProviderPolicy) {
  recommendProviders(policy: $policy) {
    reputation { entity { id } rank faultRate }
    models {
      reputation { entity { id } rank faultRate }
      proofs { tee zk none shareAtLeastMinProof }
    }
  }
}
"""


def test_recommend_providers_applies_the_policy_to_stored_proofs_and_scores(
    incidents_client: tuple[TestClient, Incidents],
) -> None:
    client, story = incidents_client
    counts: Counter[tuple[str, str]] = Counter(
        (model, receipt["proof"]["type"]) for receipt, model, _ in story.net.receipts
    )
    everything = gql(client, RECOMMEND)["data"]["recommendProviders"]
    assert [p["reputation"]["rank"] for p in everything] == [1, 2]
    for provider in everything:
        ranks = [m["reputation"]["rank"] for m in provider["models"]]
        assert ranks == sorted(ranks)
        for offer in provider["models"]:
            model = offer["reputation"]["entity"]["id"]
            proofs = offer["proofs"]
            assert story.net.models[model].id == provider["reputation"]["entity"]["id"]
            assert (proofs["tee"], proofs["zk"], proofs["none"]) == tuple(
                counts[model, p] for p in ("tee", "zk", "none")
            )
            assert proofs["shareAtLeastMinProof"] == pytest.approx(1.0)

    def models(policy: dict[str, Any]) -> set[str]:
        answer = gql(client, RECOMMEND, policy=policy)
        assert "errors" not in answer, answer
        return {
            m["reputation"]["entity"]["id"]
            for p in answer["data"]["recommendProviders"]
            for m in p["models"]
        }

    def share(model: str, floor: set[str]) -> float:
        total = sum(n for (m, _), n in counts.items() if m == model)
        return sum(counts[model, p] for p in floor) / total

    # The story's proofs are claims: without acceptClaimed none of them passes minProof.
    assert models({"minProof": "TEE", "minProofShare": 0.01}) == set()
    claims = {"acceptClaimed": True}
    proven = models({"minProof": "TEE", "minProofShare": 0.7, **claims})
    assert proven == {m for m in story.net.models if share(m, {"tee", "zk"}) >= 0.7}
    zk_only = models({"minProof": "ZK", "minProofShare": 0.3, **claims})
    assert zk_only == {m for m in story.net.models if share(m, {"zk"}) >= 0.3}
    faulted = trail(client, story.model_fault_on)["model"]["id"]
    assert models({"maxFaultRate": 0.0}) == set(story.net.models) - {faulted}

    refused = gql(client, RECOMMEND, policy={"minProofShare": 2})
    assert refused["errors"][0]["message"] == "policy minProofShare must be between 0 and 1: 2.0"


def test_incidents_subscription_resumes_after_a_cursor_and_filters_by_provider(
    incidents_client: tuple[TestClient, Incidents],
) -> None:
    client, story = incidents_client
    wanted_provider = trail(client, story.model_fault_on)["model"]["provider"]["id"]

    def receipt_of(provider_wanted: bool) -> str:
        return next(
            record_id(r)
            for r, model, _ in reversed(story.net.receipts)
            if (story.net.models[model].id == wanted_provider) is provider_wanted
        )

    wanted_receipt, other_receipt = receipt_of(True), receipt_of(False)
    start = incidents_of(client, trail(client, story.stands_on)["node"]["id"])[0]["cursor"]

    query = (
        "subscription($ids: [ID!], $after: String) { incidents(ids: $ids, after: $after) "
        "{ id status receipt { id } party { id } } }"
    )
    with subscription(client, query, {"ids": [wanted_provider], "after": start}) as ws:
        w = story.net.witnesses[1]
        later = T0 + 39 * 86_400_000
        accusations = [
            builder.attestation(w, other_receipt, INVALID, later, fault=FaultParty.MODEL),
            builder.attestation(w, wanted_receipt, INVALID, later, fault=FaultParty.MODEL),
        ]
        submitted = gql(
            client,
            "mutation($r: [JSON!]!) { submitRecords(records: $r) { status } }",
            r=accusations,
        )
        assert [s["status"] for s in submitted["data"]["submitRecords"]] == ["ACCEPTED"] * 2
        received: list[str] = []
        while wanted_receipt not in received:
            message = ws.receive_json()
            assert message["type"] == "next", message
            received.append(message["payload"]["data"]["incidents"]["receipt"]["id"])
    # Replayed from the cursor: the provider's earlier model incident, then the new one;
    # never the other provider's, never twice.
    assert other_receipt not in received
    assert len(received) == len(set(received))
    assert received[-1] == wanted_receipt
