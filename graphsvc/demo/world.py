"""The demo network's cast of identities and its fixed structure.

Who exists (providers, models, nodes, witnesses, requesters, the Sybil ring), what each
node can run and prove, how popular each model and requester is, and which of them play
the stories. Traffic and verdicts are drawn later (``traffic``, ``verdicts``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from graphsvc.demo.network_params import NetworkParams, ParamsError
from graphsvc.demo.sampling import (
    Floats,
    Ints,
    apportion,
    below,
    distinct,
    permutation,
    stream,
    zipf_weights,
)
from graphsvc.domain import EntityKind, ProofType
from graphsvc.records.builder import Actor, sha256_hex

# Proof codes used in the plan arrays, in ProofShares field order.
PROOFS = (ProofType.TEE, ProofType.ZK, ProofType.NONE)
TEE, ZK, NONE = 0, 1, 2


def _words(text: str) -> tuple[str, ...]:
    # Space-separated vocabularies stay short blocks after formatting.
    return tuple(text.split())


_PROVIDERS = _words(
    "helios-labs northwind-ai bluefin quanta-research lumen cobalt-ml meridian orchid-ai "
    "tessera vantage-labs kestrel aurora-compute"
)
_FAMILIES = _words("chat coder reason vision embed summarize translate guard rerank speech")
_SIZES = ("1b", "3b", "7b", "8b", "13b", "34b", "70b")
_REGIONS = ("fra", "iad", "sin", "gru", "syd", "nrt", "ams", "ord", "lhr", "bom")
_ORGS = _words(
    "atlas pixel nimbus delta harbor summit cedar ember fjord granite ivy juniper kite "
    "lattice mosaic nova onyx prism quill raven"
)
_PRODUCTS = _words(
    "search studio assist docs health legal tutor support finance travel games news code "
    "shop mail notes"
)


@dataclass(frozen=True)
class Model:
    name: str
    provider: int  # index into World.providers
    digest: str


@dataclass(frozen=True)
class World:
    providers: tuple[Actor, ...]
    models: tuple[Model, ...]
    model_popularity: Floats  # traffic weight per model
    nodes: tuple[Actor, ...]  # honest nodes first, then the Sybil ring's
    honest_nodes: int
    node_proof: Ints  # proof code per honest node (TEE, ZK, NONE)
    node_capacity: Floats  # relative traffic share of each honest node among its peers
    model_nodes: tuple[Ints, ...]  # honest nodes serving each model
    witnesses: tuple[Actor, ...]
    requesters: tuple[Actor, ...]  # honest requesters first, then the Sybil ring's
    honest_requesters: int
    requester_activity: Floats  # traffic weight per honest requester
    # The cast (indices into the tuples above).
    model_fault_provider: int
    faulty_model: int
    degrading_model: int
    faulty_nodes: tuple[int, ...]
    reformed_node: int
    dishonest_witness: int
    # Per-model strings precomputed once instead of per receipt.
    measurements: tuple[str, ...]  # TEE measurement of each model's runtime image

    @property
    def ring_nodes(self) -> range:
        return range(self.honest_nodes, len(self.nodes))

    @property
    def ring_requesters(self) -> range:
        return range(self.honest_requesters, len(self.requesters))

    def actors(self) -> list[Actor]:
        """Every identity, in registration order."""
        return [*self.providers, *self.witnesses, *self.nodes, *self.requesters]


def build_world(params: NetworkParams) -> World:
    pop = params.population
    secret = f"graphsvc-demo/{params.rng_seed}"

    def actors(names: list[str], kind: EntityKind) -> tuple[Actor, ...]:
        return tuple(Actor.derived(name, kind, secret) for name in names)

    names = stream(params.rng_seed, "names")
    providers = actors(_numbered(_shuffled(names, _PROVIDERS), pop.providers), EntityKind.PROVIDER)
    region = below(names.random(pop.nodes), len(_REGIONS))
    node_names = [f"node-{_REGIONS[r]}-{i + 1:03d}" for i, r in enumerate(region)]
    ring = params.stories.sybil_ring
    # The ring picks ordinary-looking names: it is exposed by its evidence, not its label.
    node_names += [f"fastgpu-{i + 1:02d}" for i in range(ring.nodes)]
    witness_names = [f"witness-{i + 1:02d}" for i in range(pop.witnesses)]
    orgs = [f"{o}-{p}" for o in _ORGS for p in _PRODUCTS]
    requester_names = _numbered(_shuffled(names, tuple(orgs)), pop.requesters)
    requester_names += [f"quickprompt-{i + 1:02d}" for i in range(ring.requesters)]

    models, popularity, p_index, faulty_model, degrading_model = _catalogue(params, providers)
    node_proof, capacity, model_nodes = _deployment(params, popularity)

    cast = stream(params.rng_seed, "cast")
    faulty_nodes, reformed = _lazy_nodes(params, cast, node_proof, model_nodes[faulty_model])
    return World(
        providers=providers,
        models=models,
        model_popularity=popularity,
        nodes=actors(node_names, EntityKind.NODE),
        honest_nodes=pop.nodes,
        node_proof=node_proof,
        node_capacity=capacity,
        model_nodes=model_nodes,
        witnesses=actors(witness_names, EntityKind.WITNESS),
        requesters=actors(requester_names, EntityKind.REQUESTER),
        honest_requesters=pop.requesters,
        requester_activity=zipf_weights(pop.requesters, params.traffic.requester_zipf)[
            permutation(names, pop.requesters)
        ],
        model_fault_provider=p_index,
        faulty_model=faulty_model,
        degrading_model=degrading_model,
        faulty_nodes=faulty_nodes,
        reformed_node=reformed,
        dishonest_witness=int(below(cast.random(1), pop.witnesses)[0]),
        measurements=tuple("tdx-mrtd:" + sha256_hex(f"runtime/{m.name}")[7:71] for m in models),
    )


def _shuffled(rng: np.random.Generator, names: tuple[str, ...]) -> list[str]:
    return [names[i] for i in permutation(rng, len(names))]


def _numbered(names: list[str], count: int) -> list[str]:
    """The first ``count`` names; past the list's end, names repeat with a number."""
    return [
        names[i % len(names)] + ("" if i < len(names) else f"-{i // len(names) + 1}")
        for i in range(count)
    ]


def _catalogue(
    params: NetworkParams, providers: tuple[Actor, ...]
) -> tuple[tuple[Model, ...], Floats, int, int, int]:
    """Models, their popularity, and the story-2 provider, bad model and degrading model."""
    pop = params.population
    rng = stream(params.rng_seed, "models")
    # Story 2 needs a provider with many healthy models besides the bad one: provider 0
    # (a random one, the names were shuffled) is the big lab, the others share the rest.
    big = params.stories.model_fault.provider_models
    owned = [
        big,
        *(
            int(c) + 1
            for c in apportion(
                pop.models - big - (pop.providers - 1), 0.5 + rng.random(pop.providers - 1)
            )
        ),
    ]
    models: list[Model] = []
    if max(owned) > len(_FAMILIES) * len(_SIZES):
        raise ParamsError(
            f"population.models = {pop.models}: too many models per provider "
            f"(at most {len(_FAMILIES) * len(_SIZES)} distinct names each); add providers"
        )
    for p, count in enumerate(owned):
        prefix = providers[p].name
        used: set[str] = set()
        while len(used) < count:
            u = rng.random(3)
            family = _FAMILIES[int(below(u[:1], len(_FAMILIES))[0])]
            size = _SIZES[int(below(u[1:2], len(_SIZES))[0])]
            name = f"{prefix}/{family}-{size}@{1 + int(below(u[2:], 3)[0])}"
            if name.split("@")[0] not in {n.split("@")[0] for n in used}:
                used.add(name)
        models += [Model(name, p, sha256_hex(f"weights/{name}")) for name in sorted(used)]
    first_of = np.cumsum([0, *owned])
    rank = permutation(rng, pop.models)  # rank[m]: 0 = most popular

    def place(model: int, at: int) -> None:
        other = int(np.flatnonzero(rank == at)[0])
        rank[other], rank[model] = rank[model], at

    # Provider 0's first model is the network's favourite, so the bad model (its second)
    # is a small part of the provider's evidence; the degrading model is the runner-up,
    # from another provider, so its decline is plain to see.
    faulty_model = 1
    degrading_model = int(first_of[1] + below(rng.random(1), pop.models - owned[0])[0])
    place(0, 0)
    place(degrading_model, 1)
    place(faulty_model, params.stories.model_fault.popularity_rank - 1)
    popularity = zipf_weights(pop.models, params.traffic.model_zipf)[rank]
    return tuple(models), popularity, 0, faulty_model, degrading_model


def _deployment(params: NetworkParams, popularity: Floats) -> tuple[Ints, Floats, tuple[Ints, ...]]:
    """Each honest node's proof type, capacity and served models."""
    traffic = params.traffic
    n = params.population.nodes
    rng = stream(params.rng_seed, "nodes")
    shares = traffic.node_proofs
    node_proof = np.repeat(
        np.arange(3, dtype=np.int64),
        apportion(n, np.array([shares.tee, shares.zk, shares.none])),
    )[permutation(rng, n)]
    capacity = 0.5 + rng.random(n)
    # Operators deploy popular models more often, but not in proportion (sqrt), so the
    # long tail stays served.
    appeal = np.sqrt(popularity)
    span = traffic.models_per_node_max - traffic.models_per_node_min + 1
    served: list[set[int]] = []
    for k in traffic.models_per_node_min + below(rng.random(n), span):
        served.append(set(distinct(rng, appeal, min(int(k), len(popularity)))))
    for model in range(len(popularity)):
        missing = traffic.min_nodes_per_model - sum(model in s for s in served)
        if missing > 0:
            idle = np.array([0.0 if model in s else 1.0 for s in served])
            for node in distinct(rng, idle, min(missing, int(idle.sum()))):
                served[node].add(model)
    model_nodes = tuple(
        np.array([i for i, s in enumerate(served) if m in s], dtype=np.int64)
        for m in range(len(popularity))
    )
    return node_proof, capacity, model_nodes


def _lazy_nodes(
    params: NetworkParams, rng: np.random.Generator, node_proof: Ints, bad_model_nodes: Ints
) -> tuple[tuple[int, ...], int]:
    """Stories 1 and 3: nodes without TEE or zk proofs (nothing forces them to compute
    honestly), and not serving the bad model (so story 2's nodes stay healthy)."""
    count = params.stories.faulty_nodes.count
    eligible = (node_proof == NONE).astype(np.float64)
    eligible[bad_model_nodes] = 0.0
    if eligible.sum() < count + 1:
        raise ParamsError(
            f"stories.faulty_nodes.count = {count}: only {int(eligible.sum())} nodes without "
            "proofs (and not serving the bad model) exist for the faulty and reformed nodes; "
            "add nodes or raise traffic.node_proofs.none"
        )
    chosen = distinct(rng, eligible, count + 1)
    return tuple(sorted(chosen[:count])), chosen[count]


__all__ = ["NONE", "PROOFS", "TEE", "ZK", "Model", "World", "build_world"]
