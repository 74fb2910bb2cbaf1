"""Evidence generators shared by the scoring property tests (seeded, small, fast)."""

from __future__ import annotations

from dataclasses import dataclass, field

import networkx as nx
import numpy as np
from hypothesis import strategies as st

from graphsvc.domain import EntityKind
from graphsvc.scoring.evidence import Channel, Evidence, FaultCause
from graphsvc.scoring.evidence_builder import EvidenceBuilder
from graphsvc.scoring.scores import Scores

DAY_MS = 86_400_000
T0 = 1_700_000_000_000  # scoring time used by the tests
KINDS = list(EntityKind)


@dataclass
class Product:
    """A small product-shaped network and the builder that holds it."""

    builder: EvidenceBuilder
    providers: list[str] = field(default_factory=list)
    models: list[str] = field(default_factory=list)
    nodes: list[str] = field(default_factory=list)
    witnesses: list[str] = field(default_factory=list)
    requesters: list[str] = field(default_factory=list)
    provider_of: dict[str, str] = field(default_factory=dict)
    receipts: list[tuple[str, str, str, str, int]] = field(default_factory=list)


def product(
    seed: int,
    providers: int = 3,
    models: int = 6,
    nodes: int = 8,
    witnesses: int = 4,
    requesters: int = 20,
    receipts: int = 200,
) -> Product:
    """Requesters co-sign receipts (model, node); witnesses attest most of them valid."""
    rng = np.random.default_rng(seed)
    b = EvidenceBuilder()
    net = Product(b)
    for kind, count, names in (
        (EntityKind.PROVIDER, providers, net.providers),
        (EntityKind.MODEL, models, net.models),
        (EntityKind.NODE, nodes, net.nodes),
        (EntityKind.WITNESS, witnesses, net.witnesses),
        (EntityKind.REQUESTER, requesters, net.requesters),
    ):
        for i in range(count):
            name = f"{kind}-{i:03d}"
            b.entity(name, kind)
            names.append(name)
            if kind is EntityKind.WITNESS:
                b.seed(name)  # the administrator trusts the product's witnesses
    for i, model in enumerate(net.models):
        provider = net.providers[i % providers]
        net.provider_of[model] = provider
        b.structural(model, provider)
    for r in range(receipts):
        req = net.requesters[int(rng.integers(requesters))]
        model = net.models[int(rng.integers(models))]
        node = net.nodes[int(rng.integers(nodes))]
        ts = T0 - int(rng.integers(0, 60 * DAY_MS))
        q = float(rng.choice([0.5, 1.0]))
        b.edge(req, model, Channel.COSIGN, ts, q)
        b.edge(req, node, Channel.COSIGN, ts, q)
        net.receipts.append((f"receipt-{r:05d}", req, model, node, ts))
        if rng.random() < 0.7:
            wit = net.witnesses[int(rng.integers(witnesses))]
            b.edge(wit, node, Channel.ATTEST, ts + 1000, 1.0)
            b.edge(wit, model, Channel.ATTEST, ts + 1000, 1.0)
    return net


@st.composite
def random_evidence(draw: st.DrawFn, faults: bool = False) -> Evidence:
    """Arbitrary small graphs: any kinds, channels, structural links, seeds and times."""
    n = draw(st.integers(1, 14))
    b = EvidenceBuilder()
    names = [f"e{i:02d}" for i in range(n)]
    for name in names:
        b.entity(name, draw(st.sampled_from(KINDS)))
    node = st.sampled_from(names)
    for _ in range(draw(st.integers(0, 40))):
        b.edge(
            draw(node),
            draw(node),
            draw(st.sampled_from(list(Channel))),
            T0 - draw(st.integers(0, 400 * DAY_MS)),
            draw(st.floats(0.01, 20.0)),
        )
    for _ in range(draw(st.integers(0, 4))):
        b.structural(draw(node), draw(node))
    if faults:
        for _ in range(draw(st.integers(0, 10))):
            b.fault(
                draw(node),
                draw(node),
                draw(st.sampled_from(list(FaultCause))),
                T0 - draw(st.integers(0, 100 * DAY_MS)),
                draw(st.floats(0.1, 5.0)),
            )
    for _ in range(draw(st.integers(0, 3))):
        b.seed(draw(node))
    return b.build()


def networkx_pagerank(scores: Scores, edges: tuple[np.ndarray, ...]) -> np.ndarray:
    """networkx.pagerank on the effective evidence graph with the engine's personalization."""
    src, dst, weight = edges
    g = nx.DiGraph()
    g.add_nodes_from(range(len(scores.entity_ids)))
    g.add_weighted_edges_from(zip(src.tolist(), dst.tolist(), weight.tolist(), strict=True))
    p = {i: float(v) for i, v in enumerate(scores.personalization) if v > 0}
    if not p:  # nobody to trust (witnesses but no seeds): no mass anywhere
        return np.zeros(len(scores.entity_ids))
    pr = nx.pagerank(
        g,
        alpha=scores.params.alpha,
        personalization=p,
        dangling=p,
        weight="weight",
        tol=1e-13,
        max_iter=10_000,
    )
    return np.array([pr[i] for i in range(len(scores.entity_ids))])


# A row's risk figures when a test does not care: certain to fail (no evidence, a prior
# of 1), so any maxRisk bound below 1 refuses it.
RISKIEST = {
    "risk": 1.0,
    "risk_events": 0.0,
    "risk_fault_events": 0.0,
    "risk_prior": 1.0,
    "risk_prior_strength": 2.0,
}
