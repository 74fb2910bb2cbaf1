"""The personalization (teleport) vector ``p = sigma*p_seeds + (1 - sigma)*p_usage``
(docs/reference.md#propagation, docs/decisions/0070-standing.md).

- ``p_seeds`` is uniform over ``evidence.seeds``, the trusted seeds an administrator
  named. Without seeds nobody has standing and ``p_seeds`` is empty: registering a
  witness is free, so no registered witness is trusted by default.
- ``p_usage`` spreads over requesters in proportion to ``volume ** usage_exponent``, where
  ``volume`` is the requester's decayed COSIGN weight on edges into NODE entities, each
  counted through the node's **usage gate**: the credibility of the witnesses that
  attested it valid, summed and capped at 1. A node attested only by keys without standing (a
  ring's own witness) opens nothing, so a ring of fake requesters, nodes and witnesses
  cannot buy teleport mass. COSIGN edges into models are not counted: every receipt adds
  both a requester -> node and a requester -> model edge, and counting both would count
  each receipt twice.
- If one part is empty the other takes the whole vector. If both are, ``p`` is uniform
  over all entities only for a network without witnesses (a trust network's replay,
  where ratings are the evidence: plain PageRank); a network with witnesses and nobody
  with standing gets ``p = 0``, so every mass is 0: nobody vouched for anyone.
"""

from __future__ import annotations

import numpy as np

from graphsvc.domain import EntityKind
from graphsvc.scoring.evidence import (
    KIND_CODES,
    Channel,
    Evidence,
    FloatArray,
    weighted_counts,
)
from graphsvc.scoring.params import ScoringParams
from graphsvc.scoring.standing import seed_teleport


def usage_gate(evidence: Evidence, credibility: FloatArray) -> FloatArray:
    """Per entity, how far it opens the usage teleport: for a NODE, the credibility of
    the witnesses with a non-zero ATTEST row into it, summed and capped at 1; 0
    otherwise."""
    ev = evidence
    attest = (ev.edge_channel == Channel.ATTEST) & (ev.edge_amount > 0)
    vouched = weighted_counts(
        ev.edge_dst[attest], credibility[ev.edge_src[attest]], ev.entity_count
    )
    gate: FloatArray = np.minimum(vouched, 1.0)
    gate[ev.entity_kinds != KIND_CODES[EntityKind.NODE]] = 0.0
    return gate


def usage_volume(
    evidence: Evidence, decayed: FloatArray, gate: FloatArray, scratch: FloatArray
) -> FloatArray:
    """Decayed COSIGN volume per source entity on edges into nodes, through their gate.

    ``decayed`` holds each edge row's decayed weight; ``scratch`` is a float buffer of the
    same length that is overwritten (the caller reuses it to avoid a fresh allocation).
    """
    ev = evidence
    np.multiply(decayed, gate[ev.edge_dst], out=scratch)
    scratch *= ev.edge_channel == Channel.COSIGN
    return weighted_counts(ev.edge_src, scratch, ev.entity_count)


def personalization_vector(
    evidence: Evidence, params: ScoringParams, volume: FloatArray
) -> FloatArray:
    """``p`` (sums to 1, or 0 with nobody to trust) from the seeds and the per-requester
    usage ``volume``."""
    n = evidence.entity_count
    p_seeds = seed_teleport(evidence)

    p_usage = np.zeros(n, dtype=np.float64)
    active = volume > 0
    # `where` keeps 0 ** 0 = 1 from giving teleport mass to entities without any volume.
    np.power(volume, params.usage_exponent, out=p_usage, where=active)
    total_usage = float(p_usage.sum())
    if total_usage > 0:
        p_usage /= total_usage

    has_seeds, has_usage = bool(p_seeds.any()), total_usage > 0
    if has_seeds and has_usage:
        p = params.sigma * p_seeds + (1.0 - params.sigma) * p_usage
    elif has_seeds:
        p = p_seeds
    elif has_usage:
        p = p_usage
    elif (evidence.entity_kinds == KIND_CODES[EntityKind.WITNESS]).any():
        p = np.zeros(n, dtype=np.float64)
    else:
        p = np.full(n, 1.0 / n if n else 0.0, dtype=np.float64)
    total = float(p.sum())
    if total > 0:
        p /= total
    return p
