"""Why an entity has its score: top contributors of incoming mass and the faults applied.

At the fixed point an entity's raw mass is exactly the sum of what flows into it:
``x_v = sum_u alpha*M[v, u]*x_u + teleport*p_v``. Each term is attributed to its source
entity and channel (cosign, attest, rating, structural) or to ``teleport``; ``share`` is
the term divided by ``x_v`` (shares of all terms add up to 1).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from graphsvc.scoring.engine import decayed_weights
from graphsvc.scoring.evidence import Channel, FaultCause
from graphsvc.scoring.scores import Propagation, Scores

STRUCTURAL = len(Channel)  # pseudo channel code for structural links


def channel_name(code: int) -> str:
    return "structural" if code == STRUCTURAL else Channel(code).name.lower()


def internals_of(scores: Scores) -> Propagation:
    if scores.internals is None:
        raise ValueError("these scores carry no internals (computed elsewhere or stripped)")
    return scores.internals


def breakdown(
    scores: Scores, entity: int | str, top: int = 5, max_faults: int = 20
) -> dict[str, Any]:
    """JSON-safe explanation of one entity (by index or id), deterministic ordering."""
    internals = internals_of(scores)
    ev = internals.evidence
    v = scores.index_of(entity) if isinstance(entity, str) else int(entity)
    if not 0 <= v < len(scores.entity_ids):
        raise IndexError(f"entity index {v} out of range")
    params = scores.params
    alpha, half_life = params.alpha, params.half_life_ms
    x = scores.raw_mass

    # Incoming flow per (source, channel).
    rows = np.flatnonzero(ev.edge_dst == v)
    w = decayed_weights(ev.edge_amount[rows], ev.edge_ref_ms[rows], scores.as_of_ms, half_life)
    srcs = ev.edge_src[rows]
    chans = ev.edge_channel[rows]
    struct_srcs = ev.struct_src[ev.struct_dst == v]
    srcs = np.concatenate((srcs, struct_srcs))
    chans = np.concatenate((chans, np.full(len(struct_srcs), STRUCTURAL, dtype=np.int64)))
    flow = np.concatenate((w, np.full(len(struct_srcs), params.structural_weight)))
    flow *= alpha * x[srcs] * internals.transition_scale[srcs]
    keys, inverse = np.unique(srcs * (STRUCTURAL + 1) + chans, return_inverse=True)
    sums = np.bincount(inverse, weights=flow, minlength=len(keys))

    x_v = float(x[v])
    incoming: list[dict[str, Any]] = [
        {
            "source": scores.entity_ids[int(key) // (STRUCTURAL + 1)],
            "kind": str(scores.kind_of(int(key) // (STRUCTURAL + 1))),
            "channel": channel_name(int(key) % (STRUCTURAL + 1)),
            "mass": float(amount),
            "share": float(amount) / x_v if x_v > 0 else 0.0,
        }
        for key, amount in zip(keys.tolist(), sums.tolist(), strict=True)
        if amount > 0
    ]
    teleport = internals.teleport * float(scores.personalization[v])
    if teleport > 0:
        incoming.append(
            {
                "source": None,
                "kind": None,
                "channel": "teleport",
                "mass": teleport,
                "share": teleport / x_v if x_v > 0 else 0.0,
            }
        )
    incoming.sort(key=lambda c: (-c["mass"], c["source"] or "", c["channel"]))
    shown = incoming[:top]

    # Faults per (source, cause).
    frows = np.flatnonzero(ev.fault_party == v)
    fw = decayed_weights(ev.fault_amount[frows], ev.fault_ref_ms[frows], scores.as_of_ms, half_life)
    fkeys, finv = np.unique(
        ev.fault_source[frows] * len(FaultCause) + ev.fault_cause[frows], return_inverse=True
    )
    fsums = np.bincount(finv, weights=fw, minlength=len(fkeys))
    fcounts = np.bincount(finv, minlength=len(fkeys))
    faults: list[dict[str, Any]] = [
        {
            "source": scores.entity_ids[int(key) // len(FaultCause)],
            "kind": str(scores.kind_of(int(key) // len(FaultCause))),
            "cause": FaultCause(int(key) % len(FaultCause)).name.lower(),
            "weight": float(weight),
            "events": int(count),
        }
        for key, weight, count in zip(fkeys.tolist(), fsums.tolist(), fcounts.tolist(), strict=True)
    ]
    faults.sort(key=lambda f: (-f["weight"], f["source"], f["cause"]))

    return {
        **scores.entity(scores.entity_ids[v]),
        "asOf": scores.as_of_ms,
        "incoming": shown,
        "incomingOtherShare": float(sum(c["share"] for c in incoming[top:])),
        "incomingSources": len(incoming),
        "faults": faults[:max_faults],
        "faultSources": len(faults),
        "faultEvents": len(frows),
    }
