"""Published trust baselines the replay sets beside the model (docs/reference.md#risk).

Each returns a risk per participant at ``t_s`` from the ratings strictly before it
(higher = more likely to be rated negatively next); a participant never seen gets the
value of one with no evidence. Probabilities (Beta-based methods) are true
probabilities, so their calibration can be compared with the model's.

- ``mean_past_rating``: minus the mean rating received;
- ``pagerank_plain``: minus undecayed PageRank (uniform teleport) on positive ratings;
- ``beta_forgetting``: Beta reputation with forgetting (Jøsang & Ismail 2002), uniform
  prior: ``(s + 1) / (r + s + 2)`` with decayed positive ``r`` and negative ``s`` counts;
- ``decayed_beta``: ``(negatives + 2*p0) / (ratings + 2)``, each rating one event, a
  90-day half-life, ``p0`` = the community's past negative share;
- ``fairness_goodness``: minus goodness (Kumar et al., ICDM 2016);
- ``eigentrust``: minus EigenTrust (Kamvar et al., 2003), uniform pre-trust.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from graphsvc.evaluation.ratings import Ratings, ratings_before
from graphsvc.scoring.evidence import FloatArray, weighted_counts

DAY_S = 86_400
DECAYED_BETA_HALF_LIFE_DAYS = 90.0
TELEPORT = 0.15
ITERATIONS = 200
TOLERANCE = 1e-10
PAGERANK_TOLERANCE = 1e-10  # per participant, as networkx's pagerank
PAGERANK_MAX_ITER = 1000


def _seen(ratings: Ratings, past: slice) -> np.ndarray:
    seen = np.zeros(len(ratings.ids), dtype=bool)
    seen[ratings.src[past]] = True
    seen[ratings.dst[past]] = True
    return seen


def mean_past_rating(ratings: Ratings, t_s: int) -> FloatArray:
    past = ratings_before(ratings, t_s)
    n = len(ratings.ids)
    total = np.bincount(ratings.dst[past], weights=ratings.rating[past], minlength=n)
    count = np.bincount(ratings.dst[past], minlength=n)
    mean = np.zeros(n)
    np.divide(total, count, out=mean, where=count > 0)
    return -mean


def pagerank_plain(ratings: Ratings, t_s: int, alpha: float = 0.85) -> FloatArray:
    """PageRank over the participants seen, edges weighted by the summed positive ratings
    / 10, uniform teleport, dangling mass spread uniformly: the iteration networkx's
    ``pagerank`` runs (same start, update and stopping rule: L1 change < N * 1e-10),
    on a sparse matrix built directly, which is what makes the replay fast."""
    past = ratings_before(ratings, t_s)
    positive = np.flatnonzero(ratings.rating[past] > 0)  # the prefix starts at 0
    n = len(ratings.ids)
    seen = np.flatnonzero(_seen(ratings, past))
    values = np.zeros(n)
    if len(seen) == 0:
        return values
    m = len(seen)
    local = np.full(n, -1, dtype=np.int64)
    local[seen] = np.arange(m)
    weights = sp.csr_array(
        (
            ratings.rating[positive] / 10.0,
            (local[ratings.src[positive]], local[ratings.dst[positive]]),
        ),
        shape=(m, m),
    )
    weights.sum_duplicates()
    out = np.asarray(weights.sum(axis=1)).ravel()
    scale = np.zeros(m)
    np.divide(1.0, out, out=scale, where=out != 0)
    transposed = (sp.diags_array(scale) @ weights).T.tocsr()
    dangling = out == 0
    x = np.full(m, 1.0 / m)
    for _ in range(PAGERANK_MAX_ITER):
        last = x
        x = alpha * (transposed @ x + float(x[dangling].sum()) / m) + (1.0 - alpha) / m
        if float(np.abs(x - last).sum()) < m * PAGERANK_TOLERANCE:
            break
    values[seen] = x
    values[~_seen(ratings, past)] = x.min()  # neutral: like a participant nobody links to
    return -values * m  # relative to uniform, so checkpoints of different sizes pool


def _decayed_counts(
    ratings: Ratings, t_s: int, half_life_days: float
) -> tuple[FloatArray, FloatArray, np.ndarray]:
    past = ratings_before(ratings, t_s)
    n = len(ratings.ids)
    decay = np.exp2(-(t_s - ratings.time_s[past]) / (half_life_days * DAY_S))
    dst, rating = ratings.dst[past], ratings.rating[past]
    negative = weighted_counts(dst, decay * (rating < 0), n)
    positive = weighted_counts(dst, decay * (rating > 0), n)
    return negative, positive, rating


def beta_forgetting(ratings: Ratings, t_s: int, half_life_days: float) -> FloatArray:
    negative, positive, _ = _decayed_counts(ratings, t_s, half_life_days)
    risk: FloatArray = (negative + 1.0) / (negative + positive + 2.0)
    return risk


def decayed_beta(ratings: Ratings, t_s: int) -> FloatArray:
    negative, positive, rating = _decayed_counts(ratings, t_s, DECAYED_BETA_HALF_LIFE_DAYS)
    p0 = float((rating < 0).sum()) / max(1, int((rating != 0).sum()))
    risk: FloatArray = (negative + 2.0 * p0) / (negative + positive + 2.0)
    return risk


def fairness_goodness(ratings: Ratings, t_s: int) -> FloatArray:
    """Goodness ``g(v) = mean f(u)*W(u,v)`` over ratings into ``v``, fairness
    ``f(u) = 1 - mean |W(u,v) - g(v)| / 2`` over ratings by ``u``, W = rating/10."""
    past = ratings_before(ratings, t_s)
    n = len(ratings.ids)
    src, dst = ratings.src[past], ratings.dst[past]
    w = ratings.rating[past] / 10.0
    in_count = np.bincount(dst, minlength=n)
    out_count = np.bincount(src, minlength=n)
    fairness, goodness = np.ones(n), np.zeros(n)
    for _ in range(ITERATIONS):
        g = np.zeros(n)
        np.divide(np.bincount(dst, weights=fairness[src] * w, minlength=n), in_count, out=g,
                  where=in_count > 0)  # fmt: skip
        error = np.bincount(src, weights=np.abs(w - g[dst]) / 2.0, minlength=n)
        f = np.ones(n)
        np.subtract(1.0, error / np.maximum(out_count, 1), out=f, where=out_count > 0)
        change = float(np.abs(g - goodness).sum() + np.abs(f - fairness).sum())
        fairness, goodness = f, g
        if change < TOLERANCE:
            break
    return -goodness


def eigentrust(ratings: Ratings, t_s: int) -> FloatArray:
    """``t = (1 - a)*C^T t + a*p``, ``C`` the row-normalised ``max(0, sat - unsat)`` local
    trust, ``p`` uniform over participants seen (no pre-trusted set is known)."""
    past = ratings_before(ratings, t_s)
    n = len(ratings.ids)
    seen = _seen(ratings, past)
    if not seen.any():
        return np.zeros(n)
    sign = np.sign(ratings.rating[past]).astype(np.float64)
    local = sp.csr_array((sign, (ratings.src[past], ratings.dst[past])), shape=(n, n))
    local.sum_duplicates()
    local.data = np.maximum(local.data, 0.0)
    row = np.asarray(local.sum(axis=1)).ravel()
    scale = np.zeros(n)
    np.divide(1.0, row, out=scale, where=row > 0)
    c_t = (sp.diags_array(scale) @ local).T.tocsr()
    p = seen / seen.sum()
    teleport = TELEPORT * p
    # Their trust goes to the pre-trusted distribution (indices: a gather, not a mask).
    no_trust = np.flatnonzero((row == 0) & seen)
    t = p.copy()
    for _ in range(ITERATIONS):
        nxt = (1.0 - TELEPORT) * (c_t @ t + float(t[no_trust].sum()) * p) + teleport
        done = float(np.abs(nxt - t).sum()) < TOLERANCE
        t = nxt
        if done:
            break
    t[~seen] = t[seen].min()
    risk: FloatArray = -t * seen.sum()
    return risk
