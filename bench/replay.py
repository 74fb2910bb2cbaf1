"""Replay benchmark: ROC-AUC of the reputation model vs two baselines on a trust network.

Usage::

    .venv/bin/python bench/replay.py [FILE.csv] [--half-lives 7,30,90,365]

Prints a markdown table, one row per half-life (the baselines do not depend on it), so
the result can be checked for robustness rather than read at one tuned value. The
default file is the Bitcoin OTC network (`tests/data`, a copy of `shared/data`).
``graphsvc replay FILE --json`` gives the same figures for the default parameters.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from harness.report import table

from graphsvc.scoring.params import ScoringParams
from graphsvc.scoring.replay import Ratings, load_ratings, replay_ratings

DEFAULT = Path(__file__).resolve().parents[1] / "tests" / "data" / "bitcoin-otc.csv.gz"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("file", nargs="?", default=str(DEFAULT))
    parser.add_argument("--half-lives", default="7,30,90,365", help="days, comma separated")
    args = parser.parse_args()
    ratings = load_ratings(args.file)
    print(f"`{Path(args.file).name}`: {len(ratings.rating):,} ratings, {len(ratings.ids):,} ids")
    print()
    columns = [
        "half-life (days)", "model", "mean past rating", "plain PageRank", "ratings",
        "seen ratees only: model / mean / PageRank (ratings)", "time (s)",
    ]  # fmt: skip
    table(columns, (_row(ratings, float(days)) for days in args.half_lives.split(",")))


def _row(ratings: Ratings, days: float) -> list[str]:
    start = time.perf_counter()
    r = replay_ratings(ratings, ScoringParams(half_life_days=days))
    seconds = time.perf_counter() - start
    seen = f"{r.seen_model:.4f} / {r.seen_mean_past_rating:.4f} / {r.seen_pagerank_plain:.4f}"
    return [
        f"{days:g}", f"{r.model:.4f}", f"{r.mean_past_rating:.4f}", f"{r.pagerank_plain:.4f}",
        f"{r.ratings_evaluated:,}", f"{seen} ({r.ratings_seen:,})", f"{seconds:.1f}",
    ]  # fmt: skip


if __name__ == "__main__":
    main()
