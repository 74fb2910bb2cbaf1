"""Replay benchmark: the model's risk against the published trust baselines on a network.

Usage::

    .venv/bin/python bench/replay.py [FILE.csv] [--half-lives 7,30,90,365]
        [--prior-strengths 0.25,0.5,1,2] [--synthetic-seeds 1,2,3]

Prints three markdown tables: every method with the default parameters (AUC overall, on
ratees seen before their checkpoint, within checkpoints; Brier and log loss for
probabilities; the AUC over the first and the second half of the checkpoints); the model
over other half-lives and prior strengths, so the defaults can be checked for robustness
and the choice on the first half checked on the second; and the planted synthetic
networks of ``tests/test_replay.py``. The default file is the Bitcoin OTC network
(``tests/data``). ``graphsvc replay FILE --json`` gives the first table's figures.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from harness.report import table

from graphsvc.scoring.params import ScoringParams
from graphsvc.scoring.replay import MethodFigures, Ratings, load_ratings, replay_ratings
from tests.test_replay import synthetic_trust_network

DEFAULT = Path(__file__).resolve().parents[1] / "tests" / "data" / "bitcoin-otc.csv.gz"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("file", nargs="?", default=str(DEFAULT))
    parser.add_argument("--half-lives", default="7,30,90,365", help="days, comma separated")
    parser.add_argument("--prior-strengths", default="0.25,0.5,1,2", help="comma separated")
    parser.add_argument("--synthetic-seeds", default="1,2,3", help="comma separated")
    args = parser.parse_args()
    ratings = load_ratings(args.file)
    print(f"`{Path(args.file).name}`: {len(ratings.rating):,} ratings, {len(ratings.ids):,} ids")
    print()
    start = time.perf_counter()
    result = replay_ratings(ratings)
    seconds = time.perf_counter() - start
    print(
        f"Default parameters: {result.ratings_evaluated:,} ratings evaluated over "
        f"{result.checkpoints} checkpoints ({result.ratings_seen:,} of seen ratees), "
        f"{seconds:.1f} s."
    )
    print()
    columns = [
        "method", "AUC", "seen AUC", "within AUC", "Brier", "log loss",
        "AUC 1st / 2nd half", "Brier 1st / 2nd half",
    ]  # fmt: skip
    table(
        columns,
        (
            _method_row(name, m, result.first_half[name], result.second_half[name])
            for name, m in result.methods.items()
        ),
    )
    print()
    sweep = [("half_life_days", float(d)) for d in args.half_lives.split(",")]
    sweep += [("risk_prior_strength", float(s)) for s in args.prior_strengths.split(",")]
    table(
        [
            "parameter",
            "value",
            "AUC",
            "seen AUC",
            "Brier",
            "log loss",
            "1st half: AUC / Brier / log loss",
            "2nd half: AUC / Brier / log loss",
        ],
        (_sweep_row(ratings, name, value) for name, value in sweep),
    )
    print()
    table(
        ["synthetic seed", "model AUC", "best baseline AUC", "model Brier", "best baseline Brier"],
        (_synthetic_row(int(seed)) for seed in args.synthetic_seeds.split(",")),
    )


def _f(value: float | None, digits: int = 4) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _method_row(
    name: str, m: MethodFigures, first: MethodFigures, second: MethodFigures
) -> list[str]:
    return [
        name, _f(m.auc), _f(m.seen_auc), _f(m.within_auc), _f(m.brier), _f(m.log_loss),
        f"{_f(first.auc)} / {_f(second.auc)}", f"{_f(first.brier)} / {_f(second.brier)}",
    ]  # fmt: skip


def _sweep_row(ratings: Ratings, name: str, value: float) -> list[str]:
    params = replace(ScoringParams(), **{name: value})
    r = replay_ratings(ratings, params)
    m, first, second = r.methods["model"], r.first_half["model"], r.second_half["model"]
    default = getattr(ScoringParams(), name) == value
    return [
        name + (" (default)" if default else ""), f"{value:g}", _f(m.auc), _f(m.seen_auc),
        _f(m.brier), _f(m.log_loss),
        f"{_f(first.auc)} / {_f(first.brier)} / {_f(first.log_loss)}",
        f"{_f(second.auc)} / {_f(second.brier)} / {_f(second.log_loss)}",
    ]  # fmt: skip


def _synthetic_row(seed: int) -> list[str]:
    r = replay_ratings(synthetic_trust_network(seed=seed))
    baselines = {n: m for n, m in r.methods.items() if n != "model"}
    best_auc = max(baselines.items(), key=lambda item: item[1].auc)
    briers = {n: m.brier for n, m in baselines.items() if m.brier is not None}
    best_brier = min(briers.items(), key=lambda item: item[1])
    return [
        str(seed), _f(r.methods["model"].auc), f"{_f(best_auc[1].auc)} ({best_auc[0]})",
        _f(r.methods["model"].brier), f"{_f(best_brier[1])} ({best_brier[0]})",
    ]  # fmt: skip


if __name__ == "__main__":
    main()
