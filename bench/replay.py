"""Replay benchmark: the model's risk against the published trust baselines on a network.

Usage::

    .venv/bin/python bench/replay.py [FILE.csv] [--half-lives 7,30,90,365]
        [--share-strengths 0.5,1,2] [--synthetic-seeds 1,2,3]

Prints four markdown tables: every method with the default parameters (AUC overall, on
ratees seen before their checkpoint, within checkpoints; Brier and log loss for
probabilities; the AUC over the first and the second half of the checkpoints); the model's
prior (fitted, the default, docs/reference.md#risk) against the priors it replaced, from the
same posterior counts, and the model before reports were weighed by their signer's
reliability (docs/decisions/0063-reports-weigh-reliability.md), over both halves, so a
choice made on the first half can be checked on the second; the model over other half-lives;
and the planted synthetic networks of ``tests/test_replay.py``. The default file is the
Bitcoin OTC network (``tests/data``). ``graphsvc replay FILE --json`` gives the first
table's figures. The last line says whether the model is ahead of every baseline on every
figure (exit status 1 if not)."""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from functools import cache
from pathlib import Path
from unittest.mock import patch

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from harness.replay_rows import METHOD_COLUMNS, method_row
from harness.replay_rows import figure as _f
from harness.report import table

from graphsvc.evaluation.replay import (
    Ratings,
    ReplayResult,
    evidence_before,
    load_ratings,
    replay_ratings,
)
from graphsvc.scoring import risk
from graphsvc.scoring.engine import compute_scores
from graphsvc.scoring.evidence import FloatArray
from graphsvc.scoring.params import ScoringParams
from graphsvc.scoring.scores import Scores
from tests.test_replay import synthetic_trust_network

DEFAULT = Path(__file__).resolve().parents[1] / "tests" / "data" / "bitcoin-otc.csv.gz"
JEFFREYS = 0.5


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("file", nargs="?", default=str(DEFAULT))
    parser.add_argument("--half-lives", default="7,30,90,365", help="days, comma separated")
    parser.add_argument(
        "--share-strengths",
        default="0.5,1,2",
        help="strengths of the replaced prior (the kind's event share), comma separated",
    )
    parser.add_argument("--synthetic-seeds", default="1,2,3", help="comma separated")
    args = parser.parse_args()
    ratings = load_ratings(args.file)
    print(f"`{Path(args.file).name}`: {len(ratings.rating):,} ratings, {len(ratings.ids):,} ids")
    print()
    scores = _scores_cache(ratings)
    variants = {"model: fitted prior (default)": lambda r, t: scores(t).risk}
    for s in (float(v) for v in args.share_strengths.split(",")):
        variants[f"kind's event share, s = {s:g}"] = _event_share(scores, s)
    variants["parties weighed once, s = 1"] = _parties_once(scores, 1.0)
    before_reliability = "fitted prior, reports by credibility only (before reliability weights)"
    variants[before_reliability] = _credibility_only
    start = time.perf_counter()
    result = replay_ratings(ratings, variants=variants)
    seconds = time.perf_counter() - start
    print(
        f"Default parameters: {result.ratings_evaluated:,} ratings evaluated over "
        f"{result.checkpoints} checkpoints ({result.ratings_seen:,} of seen ratees), "
        f"{seconds:.1f} s with the prior variants."
    )
    print()
    table(
        METHOD_COLUMNS,
        (
            method_row(name, m, result.first_half[name], result.second_half[name])
            for name, m in result.methods.items()
            if name not in variants
        ),
    )
    print()
    table(
        ["prior", "AUC", "seen AUC", "Brier", "log loss",
         "1st half: AUC / Brier / log loss", "2nd half: AUC / Brier / log loss"],
        (_variant_row(name, result) for name in variants),
    )  # fmt: skip
    print()
    table(
        ["half-life (days)", "AUC", "seen AUC", "Brier", "log loss",
         "1st half: AUC / Brier / log loss", "2nd half: AUC / Brier / log loss"],
        (_half_life_row(ratings, float(d)) for d in args.half_lives.split(",")),
    )  # fmt: skip
    print()
    table(
        ["synthetic seed", "model AUC", "best baseline AUC", "model Brier",
         "best baseline Brier", "model log loss", "best baseline log loss"],
        (_synthetic_row(int(seed)) for seed in args.synthetic_seeds.split(",")),
    )  # fmt: skip
    print()
    behind = _behind(result, set(variants))
    print("Model ahead of every baseline on every figure: " + ("yes" if not behind else "no"))
    for line in behind:
        print(f"- behind: {line}")
    raise SystemExit(1 if behind else 0)


def _scores_cache(ratings: Ratings) -> Callable[[int], Scores]:
    """The model's scores at a checkpoint, computed once for every prior variant."""
    params = ScoringParams()

    @cache
    def scores(t_s: int) -> Scores:
        return compute_scores(evidence_before(ratings, t_s), params, t_s * 1000)

    return scores


def _event_share(scores: Callable[[int], Scores], strength: float) -> Callable[..., FloatArray]:
    """The prior before the fit: the kind's decayed event share (Jeffreys-smoothed)."""

    def predict(_: Ratings, t_s: int) -> FloatArray:
        s = scores(t_s)
        k, n = s.risk_fault_events, s.risk_events
        prior = (k.sum() + JEFFREYS) / (n.sum() + 2 * JEFFREYS)
        risk: FloatArray = (k + strength * prior) / (n + strength)
        return risk

    return predict


def _parties_once(scores: Callable[[int], Scores], strength: float) -> Callable[..., FloatArray]:
    """The prior mean over parties rather than events: each party's fault share weighed
    by its precision under the posterior, ``n / (n + s)`` (the beta-binomial's inverse
    variance), so a party with a long record counts once, not once per event."""

    def predict(_: Ratings, t_s: int) -> FloatArray:
        s = scores(t_s)
        k, n = s.risk_fault_events, s.risk_events
        prior = (np.sum(k / (n + strength)) + JEFFREYS) / (
            np.sum(n / (n + strength)) + 2 * JEFFREYS
        )
        risk: FloatArray = (k + strength * prior) / (n + strength)
        return risk

    return predict


@contextmanager
def _one_round() -> Iterator[None]:
    """Risk from the first round only: every report by its signer's credibility, as
    before reliabilities (the warning that the rounds did not settle is expected)."""
    logger = logging.getLogger(risk.__name__)
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with patch.object(risk, "MAX_RELIABILITY_ROUNDS", 1):
            yield
    finally:
        logger.setLevel(level)


def _credibility_only(ratings: Ratings, t_s: int) -> FloatArray:
    params = ScoringParams()
    with _one_round():
        evidence = evidence_before(ratings, t_s)
        return compute_scores(evidence, params, t_s * 1000).risk


def _figure_row(label: str, r: ReplayResult, name: str) -> list[str]:
    m, first, second = r.methods[name], r.first_half[name], r.second_half[name]
    return [
        label, _f(m.auc), _f(m.seen_auc), _f(m.brier), _f(m.log_loss),
        f"{_f(first.auc)} / {_f(first.brier)} / {_f(first.log_loss)}",
        f"{_f(second.auc)} / {_f(second.brier)} / {_f(second.log_loss)}",
    ]  # fmt: skip


def _variant_row(name: str, result: ReplayResult) -> list[str]:
    return _figure_row(name, result, name)


def _half_life_row(ratings: Ratings, days: float) -> list[str]:
    r = replay_ratings(ratings, replace(ScoringParams(), half_life_days=days))
    default = ScoringParams().half_life_days == days
    return _figure_row(f"{days:g}" + (" (default)" if default else ""), r, "model")


def _synthetic_row(seed: int) -> list[str]:
    r = replay_ratings(synthetic_trust_network(seed=seed))
    baselines = {n: m for n, m in r.methods.items() if n != "model"}
    best_auc = max(baselines.items(), key=lambda item: item[1].auc)
    probabilities = {n: m for n, m in baselines.items() if m.brier is not None}
    best_brier = min(probabilities.items(), key=lambda item: item[1].brier or 0.0)
    best_loss = min(probabilities.items(), key=lambda item: item[1].log_loss or 0.0)
    model = r.methods["model"]
    return [
        str(seed), _f(model.auc), f"{_f(best_auc[1].auc)} ({best_auc[0]})",
        _f(model.brier), f"{_f(best_brier[1].brier)} ({best_brier[0]})",
        _f(model.log_loss), f"{_f(best_loss[1].log_loss)} ({best_loss[0]})",
    ]  # fmt: skip


def _behind(result: ReplayResult, variants: set[str]) -> list[str]:
    """Every figure on which a baseline is at least as good as the model."""
    model = result.methods["model"]
    out = []
    for name, other in result.methods.items():
        if name == "model" or name in variants:
            continue
        for figure in ("auc", "seen_auc", "within_auc"):
            if getattr(other, figure) >= getattr(model, figure):
                out.append(f"{name} {figure}")
        for figure in ("brier", "log_loss"):
            theirs, ours = getattr(other, figure), getattr(model, figure)
            if theirs is not None and ours is not None and theirs <= ours:
                out.append(f"{name} {figure}")
    return out


if __name__ == "__main__":
    main()
