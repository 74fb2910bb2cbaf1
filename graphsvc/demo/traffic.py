"""Who asked which node to run which model, and when: the receipt plan.

Everything is drawn as NumPy arrays (one entry per receipt, sorted by time) so the only
per-record Python work left is signing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from graphsvc.demo.network_params import MS_PER_DAY, NetworkParams
from graphsvc.demo.sampling import Bools, Floats, Ints, below, categorical, stream
from graphsvc.demo.world import TEE, World

NO_REQUESTER = -1


@dataclass(frozen=True)
class Plan:
    """One entry per receipt, in time order; indices point into the World's tuples."""

    ts: Ints
    model: Ints
    node: Ints
    requester: Ints  # NO_REQUESTER when the receipt is not co-signed
    proof: Ints  # TEE, ZK or NONE
    ring: Bools  # a Sybil ring receipt
    input_key: Ints  # receipts with the same key ran the same input (re-executions)

    def __len__(self) -> int:
        return len(self.ts)


def plan_traffic(params: NetworkParams, world: World) -> Plan:
    traffic = params.traffic
    ring = params.stories.sybil_ring
    honest = traffic.receipts - ring.receipts
    span = params.days * MS_PER_DAY

    rng = stream(params.rng_seed, "traffic")
    h_ts = params.start_ms + _growing_offsets(rng.random(honest), traffic.growth, span)
    h_model = categorical(rng.random(honest), world.model_popularity)
    node_draw = rng.random(honest)
    h_node = np.empty(honest, dtype=np.int64)
    for m, serving in enumerate(world.model_nodes):
        mine = np.flatnonzero(h_model == m)
        h_node[mine] = serving[categorical(node_draw[mine], world.node_capacity[serving])]
    h_requester = categorical(rng.random(honest), world.requester_activity)
    h_requester[rng.random(honest) >= traffic.cosigned_share] = NO_REQUESTER
    reexecute = rng.random(honest) < traffic.reexecution_share
    reexecute_pick = rng.random(honest)

    # The ring trades from its start day to the end of the window.
    rrng = stream(params.rng_seed, "ring")
    ring_start = params.start_ms + ring.start_day * MS_PER_DAY
    r_ts = ring_start + below(rrng.random(ring.receipts), params.end_ms - ring_start)
    r_model = categorical(rrng.random(ring.receipts), world.model_popularity)
    r_node = world.honest_nodes + below(rrng.random(ring.receipts), ring.nodes)
    r_requester = world.honest_requesters + below(rrng.random(ring.receipts), ring.requesters)

    ts = np.concatenate([h_ts, r_ts])
    # Stable sort: equal timestamps keep honest-before-ring, index order.
    order = np.argsort(ts, kind="stable")
    none_in_ring = np.zeros(ring.receipts, dtype=np.bool_)
    is_ring = np.concatenate([np.zeros(honest, dtype=np.bool_), ~none_in_ring])[order]
    node = np.concatenate([h_node, r_node])[order]
    model = np.concatenate([h_model, r_model])[order]
    # Ring nodes claim TEE to get full weight; honest receipts carry their node's proof.
    honest_proof = world.node_proof[np.minimum(node, world.honest_nodes - 1)]
    return Plan(
        ts=ts[order],
        model=model,
        node=node,
        requester=np.concatenate([h_requester, r_requester])[order],
        proof=np.where(is_ring, TEE, honest_proof).astype(np.int64),
        ring=is_ring,
        input_key=_input_keys(
            model,
            np.concatenate([reexecute, none_in_ring])[order],
            np.concatenate([reexecute_pick, np.zeros(ring.receipts)])[order],
        ),
    )


def _growing_offsets(u: Floats, growth: float, span: int) -> Ints:
    """Offsets in ``[0, span)`` whose density rises linearly by the factor ``growth``.

    Inverse CDF of the density ``1 + (g - 1) x`` on ``[0, 1)``; sqrt is exact in IEEE
    arithmetic, so the draw does not depend on the platform's maths library.
    """
    if growth == 1.0:
        return np.floor(u * span).astype(np.int64)
    x = (np.sqrt(1.0 + (growth * growth - 1.0) * u) - 1.0) / (growth - 1.0)
    return np.minimum(np.floor(x * span), span - 1).astype(np.int64)


def _input_keys(model: Ints, reexecute: Bools, pick: Floats) -> Ints:
    """A re-execution repeats the input of a uniformly chosen earlier receipt of its model,
    so its (correct) output hash is the same and both receipts point at one Output."""
    keys = np.arange(len(model), dtype=np.int64)
    earlier: dict[int, list[int]] = {}
    for i in range(len(model)):
        seen = earlier.setdefault(int(model[i]), [])
        if reexecute[i] and seen:
            keys[i] = keys[seen[min(int(pick[i] * len(seen)), len(seen) - 1)]]
        seen.append(i)
    return keys
