"""Replay a signed, time-stamped trust network and measure how well reputation predicts.

Input: CSV ``source,target,rating,time`` (rating an integer in [-10, 10], time in Unix
seconds, header optional). Mapping onto the evidence model:

- a positive rating is a RATING edge rater -> ratee of ``rating / 10``;
- a negative rating is a NEGATIVE_RATING fault on the ratee, reported by the rater, of
  ``|rating| / 10``; a zero rating carries no evidence;
- every participant is one kind (REQUESTER): scores are compared within a kind.

Personalization: a trust network has no witnesses and no paid, attested usage, so the
The model's ``p_usage`` has no counterpart; ``p`` is uniform over the *raters active in the
last half-life* (participants who gave a positive rating within ``H`` before the
checkpoint; all raters so far if none). Every active participant gets one equal say,
whatever its volume (so flooding ratings buys nothing), and the trust core follows the
community as it changes, like the decaying evidence does. It uses only timestamps and
the direction of ratings, so it applies unchanged to any trust network.

Evaluation: from the end of the first quarter of the time span, at every 30-day
checkpoint ``T``, score everyone from ratings before ``T`` only, then predict for each
rating in ``[T, T + 30 days)`` whether it is negative from the ratee's standing at ``T``:

- ``model``: the ratee's published standing: risk = ``1 - phi`` (the model's own
  estimate that the entity misbehaves: ``lambda*f / (e + beta + lambda*f)``), ties broken
  by lower reputation (``1 - percentile/100`` scaled below any phi step);
- ``mean_past_rating``: the mean rating the ratee received before ``T``;
- ``pagerank_plain``: undecayed PageRank with uniform teleport on positive ratings.

An entity never seen before ``T`` gets each predictor's neutral value (the value of an
entity with no evidence: risk as for ``e = f = 0``, mean rating 0, the PageRank of a
participant nobody links to). ROC-AUC is the Mann-Whitney statistic with average ranks
for ties, pooled over all checkpoints.
"""

from __future__ import annotations

import csv
import gzip
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import networkx as nx
import numpy as np

from graphsvc.domain import EntityKind
from graphsvc.scoring.engine import compute_scores
from graphsvc.scoring.evidence import (
    KIND_CODES,
    Channel,
    Evidence,
    FaultCause,
    FloatArray,
    IntArray,
)
from graphsvc.scoring.params import MS_PER_DAY, ScoringParams

MONTH_S = 30 * 86_400


@dataclass(frozen=True)
class Ratings:
    """A trust network as arrays; ``src``/``dst`` index ``ids`` (sorted)."""

    ids: tuple[str, ...]
    src: IntArray
    dst: IntArray
    rating: IntArray
    time_s: IntArray


@dataclass(frozen=True)
class ReplayResult:
    model: float
    mean_past_rating: float
    pagerank_plain: float
    ratings_evaluated: int
    checkpoints: int
    # The same AUCs restricted to ratings whose ratee was seen before the checkpoint
    # (the others get each predictor's neutral value and cap every AUC).
    seen_model: float = float("nan")
    seen_mean_past_rating: float = float("nan")
    seen_pagerank_plain: float = float("nan")
    ratings_seen: int = 0

    def as_dict(self) -> dict[str, float | int]:
        """The JSON the CLI prints with ``--json``."""
        return {
            "model": self.model,
            "mean_past_rating": self.mean_past_rating,
            "pagerank_plain": self.pagerank_plain,
            "ratings_evaluated": self.ratings_evaluated,
        }


class RatingsFormatError(ValueError):
    """A row of the ratings CSV is malformed; the message names line and column."""


_COLUMNS = ("source", "target", "rating", "time")


def _open_text(path: Path) -> TextIO:
    if path.suffix == ".gz":
        return gzip.open(path, "rt", newline="")
    return path.open(newline="")


def load_ratings(path: str | Path) -> Ratings:
    """Parse ``source,target,rating,time`` rows (gzip-compressed if the name ends in
    ``.gz``); raise ``RatingsFormatError`` on bad rows."""
    path = Path(path)
    src_names: list[str] = []
    dst_names: list[str] = []
    ratings: list[int] = []
    times: list[int] = []
    with _open_text(path) as f:
        for line_no, row in enumerate(csv.reader(f), start=1):
            if not row or all(not cell.strip() for cell in row):
                continue
            cells = [cell.strip() for cell in row]
            if line_no == 1 and [c.lower() for c in cells] == list(_COLUMNS):
                continue  # header
            if len(cells) != 4:
                raise RatingsFormatError(
                    f"{path}:{line_no}: expected 4 columns (source,target,rating,time), "
                    f"got {len(cells)}"
                )
            for col, name in ((0, "source"), (1, "target")):
                if not cells[col]:
                    raise RatingsFormatError(
                        f"{path}:{line_no}: column {col + 1} ({name}) is empty"
                    )
            rating = _int(cells[2], path, line_no, 3, "rating")
            if not -10 <= rating <= 10:
                raise RatingsFormatError(
                    f"{path}:{line_no}: column 3 (rating) = {rating} is outside [-10, 10]"
                )
            time_s = _int(cells[3], path, line_no, 4, "time")
            src_names.append(cells[0])
            dst_names.append(cells[1])
            ratings.append(rating)
            times.append(time_s)
    if not ratings:
        raise RatingsFormatError(f"{path}: no ratings")
    ids = tuple(sorted(set(src_names) | set(dst_names)))
    index = {name: i for i, name in enumerate(ids)}
    order = np.argsort(np.array(times, dtype=np.int64), kind="stable")
    return Ratings(
        ids=ids,
        src=np.array([index[s] for s in src_names], dtype=np.int64)[order],
        dst=np.array([index[d] for d in dst_names], dtype=np.int64)[order],
        rating=np.array(ratings, dtype=np.int64)[order],
        time_s=np.array(times, dtype=np.int64)[order],
    )


def _int(cell: str, path: Path, line_no: int, col: int, name: str) -> int:
    try:
        return int(cell)
    except ValueError:
        raise RatingsFormatError(
            f"{path}:{line_no}: column {col} ({name}) = {cell!r} is not an integer"
        ) from None


def evidence_before(ratings: Ratings, t_s: int, half_life_ms: int) -> Evidence:
    """Evidence of every rating strictly before ``t_s``, with the replay's seeds."""
    past = ratings.time_s < t_s
    src, dst = ratings.src[past], ratings.dst[past]
    rating, ref_ms = ratings.rating[past], ratings.time_s[past] * 1000
    pos, neg = rating > 0, rating < 0
    n = len(ratings.ids)
    t_ms = t_s * 1000
    active = np.unique(src[pos & (ref_ms >= t_ms - half_life_ms)])
    if len(active) == 0:
        active = np.unique(src[pos]) if pos.any() else np.unique(src)
    return Evidence(
        entity_ids=ratings.ids,
        entity_kinds=np.full(n, KIND_CODES[EntityKind.REQUESTER], dtype=np.int64),
        edge_src=src[pos],
        edge_dst=dst[pos],
        edge_channel=np.full(int(pos.sum()), Channel.RATING, dtype=np.int64),
        edge_ref_ms=ref_ms[pos],
        edge_amount=rating[pos] / 10.0,
        fault_party=dst[neg],
        fault_source=src[neg],
        fault_cause=np.full(int(neg.sum()), FaultCause.NEGATIVE_RATING, dtype=np.int64),
        fault_ref_ms=ref_ms[neg],
        fault_amount=-rating[neg] / 10.0,
        seeds=active.astype(np.int64),
    )


def model_risk(ratings: Ratings, t_s: int, params: ScoringParams) -> FloatArray:
    """Risk per entity at ``t_s``: ``1 - phi``, ties broken by lower percentile."""
    scores = compute_scores(evidence_before(ratings, t_s, params.half_life_ms), params, t_s * 1000)
    # phi takes values (e+beta)/(e+beta+lambda*f); the percentile term is < 1e-9, far below
    # any difference in phi that matters, and only orders entities with equal phi.
    return (1.0 - scores.phi) + (1.0 - scores.percentile / 100.0) * 1e-9


def mean_past_rating_risk(ratings: Ratings, t_s: int) -> FloatArray:
    """Minus the mean rating received before ``t_s`` (0 for entities with none)."""
    past = ratings.time_s < t_s
    n = len(ratings.ids)
    total = np.bincount(ratings.dst[past], weights=ratings.rating[past], minlength=n)
    count = np.bincount(ratings.dst[past], minlength=n)
    mean = np.zeros(n)
    np.divide(total, count, out=mean, where=count > 0)
    return -mean


def pagerank_plain_risk(ratings: Ratings, t_s: int, alpha: float = 0.85) -> FloatArray:
    """Minus undecayed, uniformly teleporting PageRank on positive ratings before ``t_s``."""
    past = (ratings.time_s < t_s) & (ratings.rating > 0)
    n = len(ratings.ids)
    seen = np.zeros(n, dtype=bool)
    seen[ratings.src[ratings.time_s < t_s]] = True
    seen[ratings.dst[ratings.time_s < t_s]] = True
    g = nx.DiGraph()
    g.add_nodes_from(np.flatnonzero(seen).tolist())
    for u, v, r in zip(
        ratings.src[past].tolist(),
        ratings.dst[past].tolist(),
        ratings.rating[past].tolist(),
        strict=True,
    ):
        w = g.get_edge_data(u, v, {"weight": 0.0})["weight"]
        g.add_edge(u, v, weight=w + r / 10.0)
    pr = nx.pagerank(g, alpha=alpha, weight="weight", tol=1e-10, max_iter=1000) if len(g) else {}
    values = np.zeros(n)
    if pr:
        values[list(pr)] = list(pr.values())
        values[~seen] = min(pr.values())  # neutral: like a participant nobody links to
        values *= len(pr)  # relative to uniform, so checkpoints of different sizes pool
    return -values


def roc_auc(scores: FloatArray, positive: np.ndarray) -> float:
    """ROC-AUC of ``scores`` for the boolean labels: Mann-Whitney U with average tie ranks."""
    pos = np.asarray(positive, dtype=bool)
    n_pos = int(pos.sum())
    n_neg = len(pos) - n_pos
    if n_pos == 0 or n_neg == 0:
        raise ValueError("ROC-AUC needs at least one positive and one negative label")
    order = np.argsort(scores, kind="stable")
    sorted_scores = scores[order]
    ranks = np.empty(len(scores), dtype=np.float64)
    # Average rank (1-based) of each run of equal scores.
    starts = np.flatnonzero(np.r_[True, sorted_scores[1:] != sorted_scores[:-1]])
    ends = np.r_[starts[1:], len(scores)]
    avg = (starts + ends + 1) / 2.0
    ranks[order] = np.repeat(avg, ends - starts)
    u = ranks[pos].sum() - n_pos * (n_pos + 1) / 2.0
    return float(u / (n_pos * n_neg))


def replay(
    csv_path: str | Path,
    params: ScoringParams | None = None,
    warmup_fraction: float = 0.25,
    step_days: float = 30.0,
) -> ReplayResult:
    """Run the monthly-checkpoint evaluation described in the module doc."""
    return replay_ratings(load_ratings(csv_path), params, warmup_fraction, step_days)


def replay_ratings(
    ratings: Ratings,
    params: ScoringParams | None = None,
    warmup_fraction: float = 0.25,
    step_days: float = 30.0,
) -> ReplayResult:
    params = params or ScoringParams()
    step_s = round(step_days * MS_PER_DAY / 1000)
    first, last = int(ratings.time_s[0]), int(ratings.time_s[-1])
    t = first + int((last - first) * warmup_fraction)
    risks: dict[str, list[FloatArray]] = {"model": [], "mean": [], "pagerank": []}
    labels: list[np.ndarray] = []
    seen_parts: list[np.ndarray] = []
    checkpoints = 0
    while t <= last:
        window = (ratings.time_s >= t) & (ratings.time_s < t + step_s)
        if window.any():
            ratees = ratings.dst[window]
            risks["model"].append(model_risk(ratings, t, params)[ratees])
            risks["mean"].append(mean_past_rating_risk(ratings, t)[ratees])
            risks["pagerank"].append(pagerank_plain_risk(ratings, t, params.alpha)[ratees])
            labels.append(ratings.rating[window] < 0)
            before = ratings.time_s < t
            seen = np.zeros(len(ratings.ids), dtype=bool)
            seen[ratings.src[before]] = True
            seen[ratings.dst[before]] = True
            seen_parts.append(seen[ratees])
            checkpoints += 1
        t += step_s
    if not labels:
        raise ValueError("the ratings span too short a time for any checkpoint")
    y = np.concatenate(labels)
    seen = np.concatenate(seen_parts)
    auc = {name: roc_auc(np.concatenate(parts), y) for name, parts in risks.items()}
    seen_auc = {name: float("nan") for name in risks}
    if 0 < y[seen].sum() < seen.sum():
        seen_auc = {name: roc_auc(np.concatenate(p)[seen], y[seen]) for name, p in risks.items()}
    return ReplayResult(
        model=auc["model"],
        mean_past_rating=auc["mean"],
        pagerank_plain=auc["pagerank"],
        ratings_evaluated=len(y),
        checkpoints=checkpoints,
        seen_model=seen_auc["model"],
        seen_mean_past_rating=seen_auc["mean"],
        seen_pagerank_plain=seen_auc["pagerank"],
        ratings_seen=int(seen.sum()),
    )
