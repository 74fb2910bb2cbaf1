"""Write the evidence graph and personalization a score used, for audits and oracle checks.

Files written into ``out_dir``:

- ``edges.csv`` ``source,target,weight``: the effective transition weights propagation
  used, after decay and phi: ``W[u, v] = phi_u * weight(u -> v) / out_weight_u``, summed
  over rows and channels of the same pair. Each row of ``W`` sums to ``phi_u``; without
  faults it sums to 1, so ``networkx.pagerank`` on this graph with the same
  personalization and dangling vector gives ``raw_mass``.
- ``personalization.csv`` ``entity,weight``: ``p`` for every entity (zeros included).
- ``phi.csv`` ``entity,phi,dangling``: phi and the share of the entity's mass that
  goes to ``p`` (``1 - phi`` with out-edges, 1 without).
- ``scores.csv`` ``entity,kind,mass,score,rank,raw_mass``.
- ``params.json``: every parameter (``alpha`` included), ``as_of_ms``,
  ``evidence_digest``, the iteration count and the reproduction rule.

With faults, mass is reproduced by ``x <- alpha*W^T x + (alpha*sum(dangling*x) + 1 - alpha)*p``
to convergence and ``mass = phi*x`` (see ``tests/test_scoring_export.py``).
Floats are written with ``repr`` (shortest round-trip form): reading them back gives the
exact same doubles.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from graphsvc.scoring.engine import decayed_weights
from graphsvc.scoring.evidence import KINDS_BY_CODE, FloatArray, IntArray, weighted_counts
from graphsvc.scoring.explain import internals_of
from graphsvc.scoring.scores import Scores

FILES = ("edges.csv", "personalization.csv", "phi.csv", "scores.csv", "params.json")


def effective_edges(scores: Scores) -> tuple[IntArray, IntArray, FloatArray]:
    """``(src, dst, weight)`` of the effective transition matrix, one row per pair.

    Pairs are sorted by (source index, target index), i.e. by id; zero weights are left
    out (they carry nothing and would make networkx count a dangling row as non-dangling).
    """
    internals = internals_of(scores)
    ev = internals.evidence
    n = ev.entity_count
    w = decayed_weights(ev.edge_amount, ev.edge_ref_ms, scores.as_of_ms, scores.params.half_life_ms)
    src = np.concatenate((ev.edge_src, ev.struct_src))
    dst = np.concatenate((ev.edge_dst, ev.struct_dst))
    weight = np.concatenate((w, np.full(len(ev.struct_src), scores.params.structural_weight)))
    weight *= internals.transition_scale[src]
    keys, inverse = np.unique(src * n + dst, return_inverse=True)
    sums = weighted_counts(inverse, weight, len(keys))
    keep = sums > 0
    keys, sums = keys[keep], sums[keep]
    return keys // n, keys % n, sums


def write_evidence_export(out_dir: str | Path, scores: Scores) -> dict[str, Path]:
    """Write the five files (see module doc) and return their paths by name."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    internals = internals_of(scores)
    ids = scores.entity_ids
    paths = {name: out / name for name in FILES}

    src, dst, weight = effective_edges(scores)
    with paths["edges.csv"].open("w", newline="") as f:
        f.write("source,target,weight\n")
        writer = csv.writer(f, lineterminator="\n")
        writer.writerows(
            (ids[s], ids[d], repr(x))
            for s, d, x in zip(src.tolist(), dst.tolist(), weight.tolist(), strict=True)
        )
    _columns(
        paths["personalization.csv"], ("entity", "weight"), ids, scores.personalization.tolist()
    )
    _columns(
        paths["phi.csv"],
        ("entity", "phi", "dangling"),
        ids,
        scores.phi.tolist(),
        internals.dangling.tolist(),
    )
    _columns(
        paths["scores.csv"],
        (
            "entity",
            "kind",
            "mass",
            "score",
            "rank",
            "raw_mass",
            "risk",
            "risk_events",
        ),
        ids,
        [str(KINDS_BY_CODE[k]) for k in scores.kinds.tolist()],
        scores.mass.tolist(),
        scores.score.tolist(),
        scores.rank.tolist(),
        scores.raw_mass.tolist(),
        scores.risk.tolist(),
        scores.risk_events.tolist(),
    )
    meta = {
        **scores.params.to_dict(),
        "as_of_ms": scores.as_of_ms,
        "evidence_digest": scores.evidence_digest,
        "entities": len(ids),
        "edges": len(src),
        "iterations": scores.iterations,
        "teleport": internals.teleport,
        "reproduce": (
            "x <- alpha*W^T x + (alpha*sum(dangling*x) + 1 - alpha)*p from x = p until the "
            "L1 change < tol; raw_mass = x; mass = phi*x (W: edges.csv; p: "
            "personalization.csv; phi, dangling: phi.csv)"
        ),
    }
    paths["params.json"].write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
    return paths


def _columns(path: Path, header: tuple[str, ...], *columns: Sequence[object]) -> None:
    with path.open("w", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(header)
        for row in zip(*columns, strict=True):
            writer.writerow(repr(v) if isinstance(v, float) else v for v in row)
