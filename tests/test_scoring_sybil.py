"""Property 4 (Sybil resistance) and the split-proof usage exponent.

Bound. For any set ``S`` of entities, summing the fixed point over ``S`` gives
``x(S) = alpha*sum_u x_u*M(u -> S) + c*p(S)`` with ``c = alpha*dangling(x) + 1 - alpha <= 1``.
Rows of ``M`` sum to at most 1, so ``alpha*sum_{u in S} x_u*M(u -> S) <= alpha*x(S)`` and

    x(S) <= (p(S) + alpha * cut_in(S)) / (1 - alpha),

where ``cut_in(S)`` is the mass flowing into ``S`` from outside. A ring of fake requesters
and nodes that co-sign only among themselves has no witness attestation, so
``p_usage(S) = 0`` (usage counts only attested nodes), it holds no seeds
(``p_seeds(S) = 0``), and no honest party endorses it (``cut_in(S) = 0``): its mass is
exactly 0 whatever the number ``k`` of identities and the number of receipts. When the
ring also does some real business on an honestly attested node, ``p(S)`` is the
``(1 - sigma)`` share of that attested volume: the bound is ``p(S)/(1 - alpha)`` however many
receipts it makes among itself and (with ``usage_exponent = 1``) however it splits
that volume over identities.
"""

from __future__ import annotations

import numpy as np
import pytest

from graphsvc.domain import EntityKind
from graphsvc.scoring.engine import compute_scores
from graphsvc.scoring.evidence import Channel
from graphsvc.scoring.params import ScoringParams
from graphsvc.scoring.scores import Scores
from tests.scoring_factories import DAY_MS, T0, Product, product

PARAMS = ScoringParams()


def _add_ring(net: Product, k: int, receipts: int, tie_volume: float = 0.0) -> list[str]:
    """k fake requesters and k fake nodes (plus a fake model and provider) co-signing."""
    b = net.builder
    ring = []
    for i in range(k):
        for kind in (EntityKind.REQUESTER, EntityKind.NODE):
            name = f"sybil-{kind}-{i:04d}"
            b.entity(name, kind)
            ring.append(name)
    b.entity("sybil-model", EntityKind.MODEL)
    b.entity("sybil-provider", EntityKind.PROVIDER)
    b.structural("sybil-model", "sybil-provider")
    ring += ["sybil-model", "sybil-provider"]
    # The honest node the ring may also use is attested (so the tie counts as usage).
    b.edge(net.witnesses[0], net.nodes[0], Channel.ATTEST, T0 - DAY_MS, 1.0)
    per_requester = receipts / k  # rows are aggregated usage, as the store keeps them
    for i in range(k):
        req = f"sybil-{EntityKind.REQUESTER}-{i:04d}"
        for j in (i, (i + 1) % k):
            node = f"sybil-{EntityKind.NODE}-{j:04d}"
            b.edge(req, node, Channel.COSIGN, T0 - DAY_MS, per_requester / 2)
        b.edge(req, "sybil-model", Channel.COSIGN, T0 - DAY_MS, per_requester)
        if tie_volume:
            b.edge(req, net.nodes[0], Channel.COSIGN, T0 - DAY_MS, tie_volume / k)
    return ring


def _share(scores: Scores, members: list[str]) -> float:
    idx = [scores.index_of(m) for m in members]
    return float(scores.mass[idx].sum() / scores.mass.sum())


@pytest.mark.parametrize("k", [10, 100, 1000])
@pytest.mark.parametrize("receipts", [10, 1_000, 100_000])
def test_isolated_ring_gains_nothing(k: int, receipts: int) -> None:
    net = product(seed=k + receipts)
    ring = _add_ring(net, k, receipts)
    scores = compute_scores(net.builder.build(), PARAMS, T0)
    assert _share(scores, ring) <= 0.05
    # Exactly zero, by design: no edge enters the ring, so not one bit of mass does.
    assert _share(scores, ring) == 0.0  # the bound above: p(S) = cut_in(S) = 0
    assert scores.score[scores.index_of(ring[0])] == 0.0  # exact, as its mass


@pytest.mark.parametrize("k", [10, 1000])
def test_ring_with_a_small_real_tie_stays_within_its_bound(k: int) -> None:
    net = product(seed=k)
    tie = 0.01 * len(net.receipts)  # 1% of the honest requesters' receipts
    shares = []
    for receipts in (1_000, 100_000):
        net = product(seed=k)
        ring = _add_ring(net, k, receipts, tie_volume=tie)
        scores = compute_scores(net.builder.build(), PARAMS, T0)
        p_ring = float(scores.personalization[[scores.index_of(m) for m in ring]].sum())
        share = _share(scores, ring)
        assert share <= p_ring / (1 - PARAMS.alpha) + 1e-12
        assert share <= 0.05
        shares.append(share)
    # 100x more internal receipts buys (almost) nothing more.
    assert shares[1] <= shares[0] * 1.25


def _split_usage(parts: int, exponent: float) -> float:
    """Teleport mass of one requester's attested volume split over `parts` identities."""
    net = product(seed=99)
    b = net.builder
    names = [f"split-{i:03d}" for i in range(parts)]
    for name in names:
        b.entity(name, EntityKind.REQUESTER)
        b.edge(name, net.nodes[0], Channel.COSIGN, T0 - DAY_MS, 100.0 / parts)
        b.edge(name, net.models[0], Channel.COSIGN, T0 - DAY_MS, 100.0 / parts)
    b.edge(net.witnesses[0], net.nodes[0], Channel.ATTEST, T0 - DAY_MS, 1.0)
    scores = compute_scores(b.build(), ScoringParams(usage_exponent=exponent), T0)
    return float(scores.personalization[[scores.index_of(n) for n in names]].sum())


def test_splitting_volume_over_identities_gains_nothing_when_linear() -> None:
    one = _split_usage(1, 1.0)
    for parts in (2, 10, 100):
        assert _split_usage(parts, 1.0) == pytest.approx(one, rel=1e-12)


def test_splitting_pays_off_with_sqrt_usage() -> None:
    one = _split_usage(1, 0.5)
    ten = _split_usage(10, 0.5)
    hundred = _split_usage(100, 0.5)
    assert one < ten < hundred
    assert hundred > 2 * one
    assert np.isfinite(hundred)
