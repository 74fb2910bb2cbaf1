"""The reputation engine: time-decayed personalized PageRank with faults
(docs/reference.md#reputation).

``compute_scores`` is pure: it reads an :class:`Evidence`, a :class:`ScoringParams` and
the scoring time ``T`` and returns :class:`Scores`; it touches no database and no clock.

Model, per entity ``u``:

- edge rows weigh ``amount * 2^(-(T - ref)/H)``; structural links weigh
  ``structural_weight`` and never decay;
- ``e_u`` = decayed positive evidence into ``u``; ``f_u`` = decayed fault weight on ``u``;
  ``phi_u = (e_u + beta) / (e_u + beta + lambda*f_u)``;
- ``u`` passes ``alpha*phi_u`` of its mass along its out-edges in proportion to their weights;
  the share ``1 - phi_u`` (all of it with no out-edges) is dangling and goes to ``p``;
- ``x ← alpha*Mx + (alpha*dangling(x) + 1 - alpha)*p`` until the L1 change is below ``tol``
  (``M[v, u]`` = effective weight of ``u -> v``); ``raw_mass = x``, ``mass = phi*x``.

Speed (bench/RESULTS.md#targets): an entity nobody points at (requesters and witnesses, in practice
the bulk of the entities and the sources of almost every edge) receives only teleport,
so at every iterate its mass is exactly ``c*p_u`` for a scalar ``c``. Their edges are
therefore folded once into a fixed vector ``b = M[:, S]*p[S]`` and the iteration runs on
the remaining entities only: the same iterates, without touching the 10M source edges
each round. Large temporaries are allocated once and reused, since first-touching fresh
memory dominates the run time at 10M rows.

Determinism: every reduction is a sequential ``bincount``, a sequential sparse
mat-vec, or numpy's fixed-order pairwise ``sum``; no BLAS, no threads. Identical
evidence rows (the builder and ``canonicalize`` fix their order) give bit-identical
results.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np
import scipy.sparse as sp

from graphsvc.scoring.digest import evidence_digest
from graphsvc.scoring.evidence import (
    BoolArray,
    Channel,
    Evidence,
    FloatArray,
    IntArray,
    counted_at_most_at,
    weighted_counts,
)
from graphsvc.scoring.params import ScoringParams
from graphsvc.scoring.personalization import personalization_vector, usage_gate
from graphsvc.scoring.risk import RowWeights, estimate_risk, event_rows
from graphsvc.scoring.scores import (
    Propagation,
    Scores,
    confidence,
    fault_rate,
    phi_of,
    rank_within_kind,
)
from graphsvc.scoring.standing import accusation_weights, standing
from graphsvc.scoring.validate import validate_evidence


class ConvergenceError(RuntimeError):
    """Power iteration did not reach ``tol`` within ``max_iter`` iterations."""


def decayed_weights(
    amount: FloatArray,
    ref_ms: IntArray,
    as_of_ms: int,
    half_life_ms: int,
    out: FloatArray | None = None,
) -> FloatArray:
    """``amount * 2^(-(T - ref)/H)`` per row; the exponent is <= 0, so it never overflows.

    ``T - ref`` is formed in float64, which is exact for millisecond timestamps
    (< 2^53); dividing (not multiplying by 1/H) keeps whole half-lives exact powers of 2.
    """
    if out is None:
        out = np.empty(len(amount), dtype=np.float64)
    np.subtract(float(as_of_ms), ref_ms, out=out, dtype=np.float64)
    np.divide(out, -float(half_life_ms), out=out)
    np.exp2(out, out=out)
    np.multiply(out, amount, out=out)
    return out


def compute_scores(evidence: Evidence, params: ScoringParams, as_of_ms: int) -> Scores:
    """Score every entity of ``evidence`` as of ``as_of_ms`` (ms since the epoch).
    Evidence stamped a little after it counts as of it (``counted_at_most_at``)."""
    if isinstance(as_of_ms, int | np.integer) and not isinstance(as_of_ms, bool):
        evidence = counted_at_most_at(evidence, int(as_of_ms))
    validate_evidence(evidence, params, as_of_ms)
    as_of_ms = int(as_of_ms)
    ev = evidence
    # Hashing ~40 bytes per row is as costly as the arithmetic; hashlib releases the GIL,
    # so it runs on a second core meanwhile. Its result does not depend on timing.
    with ThreadPoolExecutor(max_workers=1) as pool:
        digest_future = pool.submit(evidence_digest, ev, params, as_of_ms)
        scores = _compute(ev, params, as_of_ms, digest_future)
    return scores


def _compute(ev: Evidence, params: ScoringParams, as_of_ms: int, digest: Future[str]) -> Scores:
    n = ev.entity_count
    rows = _EdgeRows(ev, as_of_ms, params.half_life_ms)

    # Standing first (scoring/standing.py): it weighs the witnesses' reports below.
    fault_w = decayed_weights(ev.fault_amount, ev.fault_ref_ms, as_of_ms, params.half_life_ms)
    events = event_rows(ev)
    decayed = RowWeights(
        event_rows=events,
        events=decayed_weights(
            ev.edge_amount[events], ev.edge_ref_ms[events], as_of_ms, params.half_life_ms
        ),
        faults=fault_w,
    )
    stood = standing(ev, params, as_of_ms, decayed)
    credible = stood.credibility
    gate = usage_gate(ev, credible)

    # Pass 1 over the edge rows: what flows in, evidence out, gated usage, and what an
    # attestation by a witness without full credibility does not add to the evidence in.
    inflow, out_weight, volume, uncredited = (np.zeros(n) for _ in range(4))
    for lo, hi, w in rows:
        src, dst = ev.edge_src[lo:hi], ev.edge_dst[lo:hi]
        inflow += weighted_counts(dst, w, n)
        out_weight += weighted_counts(src, w, n)
        channel = ev.edge_channel[lo:hi]
        volume += weighted_counts(src, w * (channel == Channel.COSIGN) * gate[dst], n)
        some = channel == Channel.ATTEST
        some &= credible[src] < 1.0
        if some.any():
            share = 1.0 - credible[src[some]]
            uncredited += weighted_counts(dst[some], w[some] * share, n)
    # Positive evidence: an attestation counts by its witness's credibility (a seed's in
    # full, so with only seeds attesting `e` is the plain sum of decayed weights).
    e = inflow - uncredited
    np.maximum(e, 0.0, out=e)

    fault_factor = accusation_weights(ev, stood.weight)
    f = weighted_counts(ev.fault_party, fault_w * fault_factor, n)
    phi = phi_of(e, f, params.beta, params.lam)

    s = params.structural_weight
    struct_in = np.bincount(ev.struct_dst, minlength=n) * s
    out_weight += np.bincount(ev.struct_src, minlength=n) * s
    has_out = out_weight > 0
    scale = np.zeros(n, dtype=np.float64)
    np.divide(phi, out_weight, out=scale, where=has_out)
    dangling = 1.0 - np.where(has_out, phi, 0.0)

    p = personalization_vector(ev, params, volume)
    # Entities with positive incoming weight take part in the iteration; the others
    # ("sources") hold exactly c*p at every iterate.
    receives = (inflow > 0) | (struct_in > 0)
    x, teleport, iterations, residual = _propagate(ev, params, rows, scale, dangling, p, receives)

    mass = phi * x
    score, rank, percentile = rank_within_kind(mass, ev.entity_kinds)
    risk = estimate_risk(ev, params, as_of_ms, x, decayed, volume)
    return Scores(
        as_of_ms=as_of_ms,
        params=params,
        entity_ids=ev.entity_ids,
        kinds=ev.entity_kinds,
        raw_mass=x,
        mass=mass,
        score=score,
        rank=rank,
        percentile=percentile,
        fault_rate=fault_rate(e, f),
        confidence=confidence(e, f, params.confidence_scale),
        positive_evidence=e,
        fault_weight=f,
        phi=phi,
        personalization=p,
        evidence_digest=digest.result(),
        iterations=iterations,
        residual=residual,
        risk=risk.mean,
        risk_events=risk.events,
        risk_fault_events=risk.fault_events,
        risk_prior=risk.prior,
        risk_prior_strength=risk.prior_strength,
        internals=Propagation(
            evidence=ev,
            out_weight=out_weight,
            transition_scale=scale,
            dangling=dangling,
            teleport=teleport,
            fault_factor=fault_factor,
            standing=stood.weight,
        ),
    )


class _EdgeRows:
    """Iterate ``(lo, hi, decayed weights of rows lo:hi)`` in fixed-size chunks.

    Chunking keeps every per-row temporary small and reused (a fresh 80 MB array costs
    more in page faults than the arithmetic on it), bounds peak memory at 10M rows, and
    fixes the summation order: the chunk size is a constant, never machine-dependent.
    The yielded buffer is overwritten by the next chunk.
    """

    CHUNK = 1 << 20

    def __init__(self, ev: Evidence, as_of_ms: int, half_life_ms: int) -> None:
        self.ev, self.as_of_ms, self.half_life_ms = ev, as_of_ms, half_life_ms
        self.buffer = np.empty(min(len(ev.edge_src), self.CHUNK), dtype=np.float64)

    def __iter__(self) -> Iterator[tuple[int, int, FloatArray]]:
        total = len(self.ev.edge_src)
        for lo in range(0, total, self.CHUNK):
            hi = min(lo + self.CHUNK, total)
            w = self.buffer[: hi - lo]
            decayed_weights(
                self.ev.edge_amount[lo:hi],
                self.ev.edge_ref_ms[lo:hi],
                self.as_of_ms,
                self.half_life_ms,
                out=w,
            )
            yield lo, hi, w


def _propagate(
    ev: Evidence,
    params: ScoringParams,
    rows: _EdgeRows,
    scale: FloatArray,
    dangling: FloatArray,
    p: FloatArray,
    receives: BoolArray,
) -> tuple[FloatArray, float, int, float]:
    """Power iteration; returns ``(x, teleport coefficient, iterations, last L1 change)``."""
    n = ev.entity_count
    alpha = params.alpha
    s = params.structural_weight
    inner = np.flatnonzero(receives)  # ascending, so local order = id order
    m = len(inner)
    local = np.full(n, -1, dtype=np.int64)
    local[inner] = np.arange(m, dtype=np.int64)
    p_sources = np.where(receives, 0.0, p)

    # Pass 2 over the edge rows: b[v] = sum_{u source} M[v, u]*p_u (the sources' inflow per
    # unit of c), and the effective weights M[v, u] = w*phi_u/out_u between receivers.
    b_full = np.zeros(n)
    source_factor = scale * p_sources
    parts: list[tuple[IntArray, IntArray, FloatArray]] = []
    for lo, hi, w in rows:
        src, dst = ev.edge_src[lo:hi], ev.edge_dst[lo:hi]
        b_full += weighted_counts(dst, w * source_factor[src], n)
        keep = receives[src]
        keep &= w > 0
        if keep.any():
            parts.append((local[dst[keep]], local[src[keep]], w[keep] * scale[src[keep]]))
    struct_data = s * scale[ev.struct_src]
    b_full += weighted_counts(ev.struct_dst, struct_data * p_sources[ev.struct_src], n)
    struct_keep = receives[ev.struct_src] & (struct_data > 0)
    parts.append(
        (
            local[ev.struct_dst[struct_keep]],
            local[ev.struct_src[struct_keep]],
            struct_data[struct_keep],
        )
    )
    matrix = sp.csr_array(
        (
            np.concatenate([d for _, _, d in parts]),
            (
                np.concatenate([r for r, _, _ in parts]).astype(np.int32),
                np.concatenate([c for _, c, _ in parts]).astype(np.int32),
            ),
        ),
        shape=(m, m),
    )
    matrix.sum_duplicates()
    del parts

    p_inner, b, d_inner = p[inner], b_full[inner], dangling[inner]
    p_sources_total = float(p_sources.sum())
    d_sources = float((dangling * p_sources).sum())  # sources' dangling mass per unit of c

    x = p_inner.copy()  # iterate on receiving entities; sources hold c*p
    c = 1.0  # x0 = p, i.e. c = 1
    buf = np.empty(m, dtype=np.float64)
    residual = float("inf")
    for iteration in range(1, params.max_iter + 1):
        np.multiply(d_inner, x, out=buf)
        c_new = alpha * (c * d_sources + float(buf.sum())) + (1.0 - alpha)
        y = matrix @ x
        y += c * b
        y *= alpha
        np.multiply(p_inner, c_new, out=buf)
        y += buf
        np.subtract(y, x, out=buf)
        np.abs(buf, out=buf)
        residual = float(buf.sum()) + abs(c_new - c) * p_sources_total
        x, c = y, c_new
        if residual < params.tol:
            full = p * c
            full[inner] = x
            return full, c_new, iteration, residual
    raise ConvergenceError(
        f"power iteration did not reach tol={params.tol} within max_iter={params.max_iter} "
        f"iterations (last L1 change {residual:.3e})"
    )
