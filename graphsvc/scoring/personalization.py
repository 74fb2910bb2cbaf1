"""The personalization (teleport) vector ``p = sigma*p_seeds + (1 - sigma)*p_usage``
(docs/design.md §3).

- ``p_seeds`` is uniform over ``evidence.seeds``. With no configured seeds it falls back to
  every WITNESS entity (the default: registered witnesses). Note that registering a
  witness identity is free, so a deployment should configure seeds explicitly.
- ``p_usage`` spreads over requesters in proportion to ``volume ** usage_exponent``, where
  ``volume`` is the requester's decayed COSIGN weight on edges into NODE entities that
  have at least one ATTEST edge (a witness attested them valid at least once). COSIGN
  edges into models are not counted: every receipt adds both a requester -> node and a
  requester -> model edge, and counting both would count each receipt twice. A requester
  that only uses never-attested nodes gets no teleport mass, so a ring of fake
  requesters and nodes cannot buy any.
- If one part is empty (no seeds and no witnesses; or no attested usage) the other takes
  the whole vector; if both are empty, ``p`` is uniform over all entities (every entity
  is then equally trusted a priori, which is plain PageRank).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from graphsvc.domain import EntityKind
from graphsvc.scoring.evidence import (
    KIND_CODES,
    Channel,
    Evidence,
    FloatArray,
    IntArray,
    weighted_counts,
)
from graphsvc.scoring.params import ScoringParams

BoolArray = npt.NDArray[np.bool_]


def seed_indices(evidence: Evidence) -> IntArray:
    """The entities ``p_seeds`` spreads over: configured seeds, else all witnesses."""
    if len(evidence.seeds):
        return np.unique(evidence.seeds)
    return np.flatnonzero(evidence.entity_kinds == KIND_CODES[EntityKind.WITNESS])


def attested_nodes(evidence: Evidence) -> BoolArray:
    """Boolean per entity: a NODE with at least one non-zero ATTEST row into it."""
    ev = evidence
    attest = (ev.edge_channel == Channel.ATTEST) & (ev.edge_amount > 0)
    hits = np.bincount(ev.edge_dst[attest], minlength=ev.entity_count) > 0
    result: BoolArray = hits & (ev.entity_kinds == KIND_CODES[EntityKind.NODE])
    return result


def usage_volume(evidence: Evidence, decayed: FloatArray, scratch: FloatArray) -> FloatArray:
    """Decayed COSIGN volume per source entity on edges into attested nodes.

    ``decayed`` holds each edge row's decayed weight; ``scratch`` is a float buffer of the
    same length that is overwritten (the caller reuses it to avoid a fresh allocation).
    """
    ev = evidence
    eligible = attested_nodes(ev)
    mask = ev.edge_channel == Channel.COSIGN
    mask &= eligible[ev.edge_dst]
    np.multiply(decayed, mask, out=scratch)
    return weighted_counts(ev.edge_src, scratch, ev.entity_count)


def personalization_vector(
    evidence: Evidence, params: ScoringParams, volume: FloatArray
) -> FloatArray:
    """``p`` (sums to 1) from the seeds and the per-requester usage ``volume``."""
    n = evidence.entity_count
    seeds = seed_indices(evidence)
    p_seeds = np.zeros(n, dtype=np.float64)
    if len(seeds):
        p_seeds[seeds] = 1.0 / len(seeds)

    p_usage = np.zeros(n, dtype=np.float64)
    active = volume > 0
    # `where` keeps 0 ** 0 = 1 from giving teleport mass to entities without any volume.
    np.power(volume, params.usage_exponent, out=p_usage, where=active)
    total_usage = float(p_usage.sum())
    if total_usage > 0:
        p_usage /= total_usage

    has_seeds, has_usage = len(seeds) > 0, total_usage > 0
    if has_seeds and has_usage:
        p = params.sigma * p_seeds + (1.0 - params.sigma) * p_usage
    elif has_seeds:
        p = p_seeds
    elif has_usage:
        p = p_usage
    else:
        p = np.full(n, 1.0 / n if n else 0.0, dtype=np.float64)
    total = float(p.sum())
    if total > 0:
        p /= total
    return p
