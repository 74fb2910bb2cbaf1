"""What went wrong, who checked, what they said, and who complained.

Wrong outputs come from the stories (lazy nodes, the reformed node's bad month, the bad
model, the degrading model); witnesses re-check a share of receipts and, being honest,
report the truth, except the dishonest witness; requesters dispute some of their
receipts, rightly (the witnesses found them invalid) or not (all found them valid).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from graphsvc.demo.network_params import MS_PER_DAY, NetworkParams, ParamsError
from graphsvc.demo.sampling import Ints, categorical, distinct, stream
from graphsvc.demo.traffic import NO_REQUESTER, Plan
from graphsvc.demo.world import World
from graphsvc.domain import FaultParty

# Wrong-output codes per receipt.
CORRECT, NODE_WRONG, MODEL_WRONG = 0, 1, 2
FAULT_OF = {NODE_WRONG: FaultParty.NODE, MODEL_WRONG: FaultParty.MODEL}

_MINUTE_MS = 60_000
_DISPUTE_DELAY_MS = 2 * 3_600_000


@dataclass(frozen=True)
class Vote:
    witness: int
    ts: int
    honest: bool  # False: the dishonest witness contradicting the truth


@dataclass(frozen=True)
class PlannedDispute:
    receipt: int
    requester: int
    ts: int
    upheld: bool


@dataclass(frozen=True)
class Verdicts:
    wrong: Ints  # CORRECT, NODE_WRONG or MODEL_WRONG per receipt
    panels: dict[int, tuple[Vote, ...]]  # audited receipt -> its witnesses' votes
    disputes: tuple[PlannedDispute, ...]  # in receipt order
    serial_disputer: int | None


def decide(params: NetworkParams, world: World, plan: Plan) -> Verdicts:
    wrong = _wrong_outputs(params, world, plan)
    panels = _panels(params, world, plan)
    disputes, serial = _disputes(params, plan, wrong, panels)
    return Verdicts(wrong, panels, disputes, serial)


def _wrong_outputs(params: NetworkParams, world: World, plan: Plan) -> Ints:
    stories = params.stories
    rng = stream(params.rng_seed, "faults")
    node_u, model_u = rng.random(len(plan)), rng.random(len(plan))

    node_rate = np.zeros(len(plan))
    node_rate[np.isin(plan.node, world.faulty_nodes)] = stories.faulty_nodes.error_rate
    reformed_until = params.start_ms + stories.reformed_node.bad_days * MS_PER_DAY
    bad_month = (plan.node == world.reformed_node) & (plan.ts < reformed_until)
    node_rate[bad_month] = stories.reformed_node.error_rate

    model_rate = np.zeros(len(plan))
    model_rate[plan.model == world.faulty_model] = stories.model_fault.error_rate
    decline = stories.degrading_model
    since = params.end_ms - decline.days * MS_PER_DAY
    degrading = plan.model == world.degrading_model
    progress = np.clip((plan.ts - since) / (params.end_ms - since), 0.0, 1.0)
    model_rate[degrading] = (
        decline.base_rate + (decline.peak_rate - decline.base_rate) * progress[degrading]
    )

    wrong = np.full(len(plan), CORRECT, dtype=np.int64)
    wrong[model_u < model_rate] = MODEL_WRONG
    # A node that skipped the work is the cause whatever the model would have done.
    wrong[node_u < node_rate] = NODE_WRONG
    # The ring's outputs are never checked, so whether they are right does not matter.
    wrong[plan.ring] = CORRECT
    return wrong


def _panels(params: NetworkParams, world: World, plan: Plan) -> dict[int, tuple[Vote, ...]]:
    w = params.witnessing
    rng = stream(params.rng_seed, "audits")
    rates = np.array([w.audit_rate.tee, w.audit_rate.zk, w.audit_rate.none])
    audited = (rng.random(len(plan)) < rates[plan.proof]) & ~plan.ring
    sizes = 1 + categorical(rng.random(len(plan)), np.array(w.panel_weights))

    everyone = np.ones(len(world.witnesses))
    honest_only = everyone.copy()
    honest_only[world.dishonest_witness] = 0.0
    flip_rate = params.stories.dishonest_witness.flip_rate
    max_delay = round(w.max_delay_hours * 3_600_000) - _MINUTE_MS
    panels: dict[int, tuple[Vote, ...]] = {}
    for i in np.flatnonzero(audited):
        size = int(sizes[i])
        # The dishonest witness only sits on three-witness panels, where a majority exists
        # to expose it; smaller panels are drawn from the honest witnesses.
        members = distinct(rng, everyone if size == 3 else honest_only, size)
        draws = rng.random(size + 1)
        lies = draws[-1] < flip_rate
        receipt_ts = int(plan.ts[i])
        panels[int(i)] = tuple(
            Vote(
                witness=m,
                ts=min(receipt_ts + _MINUTE_MS + int(d * d * max_delay), params.end_ms),
                honest=not (m == world.dishonest_witness and lies),
            )
            for m, d in zip(members, draws[:size], strict=True)
        )
    return panels


def _disputes(
    params: NetworkParams, plan: Plan, wrong: Ints, panels: dict[int, tuple[Vote, ...]]
) -> tuple[tuple[PlannedDispute, ...], int | None]:
    wanted = params.stories.disputes
    rng = stream(params.rng_seed, "disputes")
    # Only unanimous panels: an upheld dispute's receipt is attested invalid by every
    # witness, a rejected one's valid by every witness.
    unanimous = np.zeros(len(plan), dtype=np.bool_)
    for i, votes in panels.items():
        unanimous[i] = all(v.honest for v in votes)
    disputable = unanimous & (plan.requester != NO_REQUESTER)
    upheld_pool = np.flatnonzero(disputable & (wrong != CORRECT))
    rejected_pool = np.flatnonzero(disputable & (wrong == CORRECT))

    upheld = _some(rng, upheld_pool, wanted.upheld, "stories.disputes.upheld", "invalid")
    serial: int | None = None
    serial_picks = np.zeros(0, dtype=np.int64)
    if wanted.serial:
        serial = _serial_disputer(plan, rejected_pool, wanted.serial)
        mine = rejected_pool[plan.requester[rejected_pool] == serial]
        serial_picks = _some(rng, mine, wanted.serial, "stories.disputes.serial", "valid")
        rejected_pool = rejected_pool[plan.requester[rejected_pool] != serial]
    scattered = _some(
        rng, rejected_pool, wanted.rejected - wanted.serial, "stories.disputes.rejected", "valid"
    )

    delays = rng.random(len(plan))
    disputes = [
        PlannedDispute(
            receipt=int(i),
            requester=int(plan.requester[i]),
            ts=min(
                int(plan.ts[i]) + _MINUTE_MS + int(delays[i] ** 2 * _DISPUTE_DELAY_MS),
                params.end_ms,
            ),
            upheld=bool(wrong[i] != CORRECT),
        )
        for i in sorted([*upheld, *serial_picks, *scattered])
    ]
    return tuple(disputes), serial


def _some(rng: np.random.Generator, pool: Ints, count: int, param: str, verdict: str) -> Ints:
    if count > len(pool):
        raise ParamsError(
            f"{param} = {count}: only {len(pool)} eligible co-signed receipts attested "
            f"{verdict} by every witness; lower it or raise traffic.receipts"
        )
    return pool[distinct(rng, np.ones(len(pool)), count)] if count else pool[:0]


def _serial_disputer(plan: Plan, pool: Ints, count: int) -> int:
    """A mid-sized customer (not one of the three biggest) with enough valid receipts."""
    requesters, counts = np.unique(plan.requester[pool], return_counts=True)
    order = np.argsort(-counts, kind="stable")
    eligible = [int(requesters[j]) for j in order if counts[j] >= count]
    if not eligible:
        raise ParamsError(
            f"stories.disputes.serial = {count}: no requester has that many co-signed "
            "receipts attested valid by every witness; lower it or raise traffic.receipts"
        )
    return eligible[3] if len(eligible) > 3 else eligible[-1]


__all__ = ["CORRECT", "FAULT_OF", "MODEL_WRONG", "NODE_WRONG", "Verdicts", "Vote", "decide"]
