"""Replay speed at network size: a full ``replay_ratings`` of a seeded synthetic
300k-rating product network spanning 100 monthly checkpoints, on one core.

Usage::

    .venv/bin/python bench/replay_speed.py [--ratings 300000] [--seed 1] [--published]

(``--published``: the parameters as given, without the warm-up's choice of half-life
and recalibration, docs/decisions/0088-one-default-from-the-warm-up.md.)

Prints the network's size, the checkpoints, the CPU seconds (``time.process_time``,
so a second core's work would count too) and the wall seconds; the target is under
60 s (issue 21).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from graphsvc.evaluation.replay import replay_ratings
from tests.replay_networks import product_network

# 100 checkpoints of 30 days after the first quarter of the span: 4,000 days.
DAYS = 4_000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--ratings", type=int, default=300_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--published", action="store_true")
    args = parser.parse_args()
    ratings = product_network(args.seed, ratings=args.ratings, days=DAYS)
    print(f"{len(ratings.rating):,} ratings, {len(ratings.ids):,} ids (seed {args.seed})")
    cpu, wall = time.process_time(), time.perf_counter()
    result = replay_ratings(ratings, choose=not args.published)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    print(
        f"{result.checkpoints} checkpoints, {result.ratings_evaluated:,} ratings evaluated: "
        f"{cpu:.1f} s CPU, {wall:.1f} s wall; model AUC {result.model:.4f}; "
        f"chosen: {result.choice}"
    )


if __name__ == "__main__":
    main()
