"""The attack book (docs/decisions/0070-standing.md): what an attacker who registers as many
keys as it likes can do to the scores, on a synthetic network ten times the demo's size
(1,000 nodes, 400 models, 150 witnesses, 3,000 requesters), with the honest witnesses as
the trusted seeds and without seeds.

Every attack here used to work when every registered witness was trusted and a vote
counted by heads. Each test states its bound as a number:

- a ring that attests itself holds no mass (bound: ring share <= 5 %; it is exactly 0);
- any number of accusations from keys without standing move no score (bound: <= 5 %;
  they move nothing);
- keys without standing never outvote a seed, and are judged for voting against it;
- k attacker keys against m seeds decide nothing, for k up to 1,000;
- keys that first agree with the seeds, then defect, have no standing either way;
- requesters spread over honest nodes lift their ring by at most p(S)/(1 - alpha);
- without seeds, nobody has standing and every mass is 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from graphsvc.domain import EntityKind, Verdict
from graphsvc.scoring.engine import compute_scores
from graphsvc.scoring.evidence import Channel, FaultCause
from graphsvc.scoring.evidence_builder import EvidenceBuilder
from graphsvc.scoring.explain import internals_of
from graphsvc.scoring.params import ScoringParams
from graphsvc.scoring.scores import Scores
from graphsvc.scoring.verdicts import attested_faults, vote_faults
from tests.scoring_factories import DAY_MS, T0

# Slow: scores a network ten times the demo's, many times. scripts/test --fast leaves it out.
pytestmark = pytest.mark.slow

PARAMS = ScoringParams()
NODE, MODEL = EntityKind.NODE, EntityKind.MODEL


@dataclass
class World:
    """An honest network as the store keeps it (one row per source, target, channel)."""

    builder: EvidenceBuilder
    nodes: list[str]
    models: list[str]
    witnesses: list[str]
    requesters: list[str]


def honest_world(seed: int = 7, *, seeded: bool = True, scale: int = 10) -> World:
    """The demo's shape times ``scale``: providers publish models, nodes run them,
    requesters co-sign receipts on a few nodes and models, witnesses attest samples."""
    rng = np.random.default_rng(seed)
    b = EvidenceBuilder()
    names = {
        EntityKind.PROVIDER: [f"prov-{i:04d}" for i in range(10 * scale)],
        MODEL: [f"model-{i:04d}" for i in range(40 * scale)],
        NODE: [f"node-{i:04d}" for i in range(100 * scale)],
        EntityKind.WITNESS: [f"wit-{i:04d}" for i in range(15 * scale)],
        EntityKind.REQUESTER: [f"req-{i:05d}" for i in range(300 * scale)],
    }
    for kind, members in names.items():
        for name in members:
            b.entity(name, kind)
    for i, model in enumerate(names[MODEL]):
        b.structural(model, names[EntityKind.PROVIDER][i % len(names[EntityKind.PROVIDER])])
    nodes, models = names[NODE], names[MODEL]
    # Zipf-like popularity, so there is a clear top node.
    weights = 1.0 / np.arange(1, len(nodes) + 1) ** 0.8
    weights /= weights.sum()
    for req in names[EntityKind.REQUESTER]:
        for node in rng.choice(nodes, size=8, replace=False, p=weights):
            volume = float(rng.integers(5, 60))
            ts = T0 - int(rng.integers(0, 30 * DAY_MS))
            b.edge(req, str(node), Channel.COSIGN, ts, volume)
            b.edge(req, str(rng.choice(models)), Channel.COSIGN, ts, volume)
    for wit in names[EntityKind.WITNESS]:
        for node in rng.choice(nodes, size=40, replace=False, p=weights):
            ts = T0 - int(rng.integers(0, 30 * DAY_MS))
            b.edge(wit, str(node), Channel.ATTEST, ts, float(rng.integers(1, 8)))
            b.edge(wit, str(rng.choice(models)), Channel.ATTEST, ts, 1.0)
        if seeded:
            b.seed(wit)
    return World(b, nodes, models, names[EntityKind.WITNESS], names[EntityKind.REQUESTER])


def fresh_witnesses(world: World, count: int, prefix: str = "attacker") -> list[str]:
    keys = [f"{prefix}-wit-{i:04d}" for i in range(count)]
    for key in keys:
        world.builder.entity(key, EntityKind.WITNESS)
    return keys


def accuse(world: World, claims: list[tuple[str, str, str, int]]) -> None:
    """Unopposed `invalid` attestations (receipt, witness, party, ts): each stands."""
    trusted = frozenset(world.witnesses)
    world.builder.faults(f.as_row() for f in attested_faults(claims, [], trusted))


def score_of(scores: Scores, entity: str) -> float:
    return float(scores.score[scores.index_of(entity)])


def top_node(scores: Scores, world: World) -> str:
    return max(world.nodes, key=lambda n: (score_of(scores, n), n))


def share(scores: Scores, members: list[str]) -> float:
    idx = [scores.index_of(m) for m in members]
    return float(scores.mass[idx].sum() / scores.mass.sum())


def add_ring(world: World, requesters: int, receipts: int) -> list[str]:
    """A provider, a model, a node and ``requesters`` requesters, all the attacker's,
    co-signing ``receipts`` receipts among themselves."""
    b = world.builder
    ring = ["ring-prov", "ring-model", "ring-node"]
    b.entity("ring-prov", EntityKind.PROVIDER)
    b.entity("ring-model", MODEL)
    b.entity("ring-node", NODE)
    b.structural("ring-model", "ring-prov")
    for i in range(requesters):
        req = f"ring-req-{i:03d}"
        b.entity(req, EntityKind.REQUESTER)
        ring.append(req)
        b.edge(req, "ring-node", Channel.COSIGN, T0 - DAY_MS, receipts / requesters)
        b.edge(req, "ring-model", Channel.COSIGN, T0 - DAY_MS, receipts / requesters)
    return ring


@pytest.fixture(scope="module")
def baseline() -> tuple[World, Scores]:
    world = honest_world()
    return world, compute_scores(world.builder.build(), PARAMS, T0)


def test_the_honest_network_is_scored_with_standing(baseline: tuple[World, Scores]) -> None:
    world, scores = baseline
    stood = internals_of(scores).standing
    seeds = [scores.index_of(w) for w in world.witnesses]
    assert np.all(stood[seeds] > 0.9) and np.all(stood[seeds] < 1.0)
    assert score_of(scores, top_node(scores, world)) == pytest.approx(100.0)


def test_a_ring_that_attests_itself_holds_no_mass() -> None:
    """Attack 1: 20 requesters, a node, a model, a provider and a witness, all the
    attacker's, with 10,000 co-signed receipts and the ring's own `valid` attestation."""
    world = honest_world()
    before = compute_scores(world.builder.build(), PARAMS, T0)
    ring = add_ring(world, requesters=20, receipts=10_000)
    (own,) = fresh_witnesses(world, 1, prefix="ring")
    world.builder.edge(own, "ring-node", Channel.ATTEST, T0 - DAY_MS, 1.0)
    world.builder.edge(own, "ring-model", Channel.ATTEST, T0 - DAY_MS, 1.0)
    after = compute_scores(world.builder.build(), PARAMS, T0)
    assert share(after, [*ring, own]) <= 0.05  # the bound; in fact:
    assert share(after, [*ring, own]) == 0.0  # exact: no trusted party vouched for it
    nodes = [n for n in after.entity_ids if n.startswith("node-") or n == "ring-node"]
    rank = int(after.rank[after.index_of("ring-node")])
    assert rank > len(nodes) // 2  # out of the top half
    top = top_node(before, world)
    assert score_of(after, top) == pytest.approx(score_of(before, top), rel=0.05)


@pytest.mark.parametrize("accusations", [1, 100, 10_000])
def test_a_fresh_key_accusing_the_top_node_moves_nothing(accusations: int) -> None:
    """Attack 2: a new witness key files invalid attestations against the top node."""
    world = honest_world()
    before = compute_scores(world.builder.build(), PARAMS, T0)
    top = top_node(before, world)
    (key,) = fresh_witnesses(world, 1)
    claims = [(f"r-{i}", key, top, T0 - i) for i in range(accusations)]
    world.builder.faults(
        f.as_row() for f in attested_faults(claims, [], frozenset(world.witnesses))
    )
    after = compute_scores(world.builder.build(), PARAMS, T0)
    moved = abs(score_of(after, top) - score_of(before, top)) / score_of(before, top)
    assert moved <= 0.05  # the bound; in fact the accusations weigh nothing:
    assert after.fault_weight[after.index_of(top)] == 0.0  # exact: no standing weighs 0
    assert after.rank[after.index_of(top)] == before.rank[before.index_of(top)]


@pytest.mark.parametrize(("attackers", "seeds"), [(2, 1), (10, 1), (1_000, 1), (1_000, 3)])
def test_keys_without_standing_never_outvote_seeds(attackers: int, seeds: int) -> None:
    """Attack 3 and collusion: ``attackers`` fresh keys vote `valid` on 20 receipts of a
    node ahead of time; ``seeds`` seeded witnesses then find them invalid."""
    world = honest_world(scale=1)
    keys = fresh_witnesses(world, attackers)
    honest = world.witnesses[:seeds]
    node = world.nodes[0]
    votes: list[tuple[str, str, Verdict, int]] = []
    claims = []
    for r in range(20):
        receipt = f"shielded-{r}"
        votes += [(receipt, k, Verdict.VALID, T0 - 10 * DAY_MS) for k in keys]
        votes += [(receipt, w, Verdict.INVALID, T0 - DAY_MS) for w in honest]
        claims += [(receipt, w, node, T0 - DAY_MS) for w in honest]
    trusted = frozenset(world.witnesses)
    faults = [*attested_faults(claims, votes, trusted), *vote_faults(votes, [], PARAMS, trusted)]
    accusations = [f for f in faults if f.cause is FaultCause.ATTESTED_INVALID]
    minority = {f.party_id for f in faults if f.cause is FaultCause.WITNESS_MINORITY}
    assert len(accusations) == 20 * seeds  # every seed's accusation stands
    assert minority == set(keys)  # the attackers are judged, no seed is
    world.builder.faults(f.as_row() for f in faults)
    scores = compute_scores(world.builder.build(), PARAMS, T0)
    assert scores.fault_weight[scores.index_of(node)] > 10 * seeds  # the node pays
    for w in honest:
        assert scores.fault_weight[scores.index_of(w)] == 0.0  # exact: none


def test_agreeing_first_then_defecting_buys_no_standing() -> None:
    """A ring that votes honestly for a while (1,000 agreeing votes on the receipts the
    seeds attested) and then defects: agreement is free to copy, so it earns nothing."""
    world = honest_world(scale=1)
    before = compute_scores(world.builder.build(), PARAMS, T0)
    top = top_node(before, world)
    copycats = fresh_witnesses(world, 5)
    for i, key in enumerate(copycats):
        for j in range(200):
            node = world.nodes[(i * 200 + j) % len(world.nodes)]
            world.builder.edge(key, node, Channel.ATTEST, T0 - 20 * DAY_MS + j, 1.0)
    honest_phase = compute_scores(world.builder.build(), PARAMS, T0)
    stood = internals_of(honest_phase).standing
    assert all(stood[honest_phase.index_of(k)] == 0.0 for k in copycats)  # exact: none
    claims = [(f"d-{i}-{k}", k, top, T0 - i) for k in copycats for i in range(100)]
    world.builder.faults(
        f.as_row() for f in attested_faults(claims, [], frozenset(world.witnesses))
    )
    defected = compute_scores(world.builder.build(), PARAMS, T0)
    assert defected.fault_weight[defected.index_of(top)] == 0.0  # exact: none
    assert score_of(defected, top) == pytest.approx(score_of(before, top), rel=0.05)


def test_requesters_spread_over_honest_nodes_lift_their_ring_within_the_bound() -> None:
    """Ring requesters also use honest, attested nodes (real usage): the ring's mass
    stays within ``x(S) <= (p(S) + alpha*cut_in(S))/(1 - alpha)``, with no cut_in."""
    world = honest_world()
    ring = add_ring(world, requesters=50, receipts=10_000)
    for i, req in enumerate(r for r in ring if r.startswith("ring-req")):
        for j in range(10):
            node = world.nodes[(i * 10 + j) % len(world.nodes)]
            world.builder.edge(req, node, Channel.COSIGN, T0 - DAY_MS, 5.0)
    scores = compute_scores(world.builder.build(), PARAMS, T0)
    idx = [scores.index_of(m) for m in ring]
    p_ring = float(scores.personalization[idx].sum())
    assert 0 < p_ring < 0.05  # its real usage earns it a small teleport share
    bound = p_ring / (1 - PARAMS.alpha)
    assert float(scores.raw_mass[idx].sum()) <= bound + 1e-12
    assert share(scores, ring) <= 0.05


def test_without_seeds_nobody_has_standing_and_no_mass_moves() -> None:
    """The safe default: no registered witness is trusted unless named."""
    world = honest_world(scale=1, seeded=False)
    ring = add_ring(world, requesters=20, receipts=10_000)
    (own,) = fresh_witnesses(world, 1, prefix="ring")
    world.builder.edge(own, "ring-node", Channel.ATTEST, T0 - DAY_MS, 1.0)
    scores = compute_scores(world.builder.build(), PARAMS, T0)
    assert not internals_of(scores).standing.any()
    assert not scores.raw_mass.any() and not scores.mass.any()  # exact: nobody vouched
    assert float(scores.raw_mass[[scores.index_of(m) for m in ring]].sum()) == 0.0
