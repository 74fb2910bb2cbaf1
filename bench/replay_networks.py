"""The replay on every network the defaults were developed on, with the targets of
issue 21 checked per network.

Usage::

    .venv/bin/python bench/replay_networks.py [otc] [voting:SEED] [product:SEED] [FILE]

(default: ``otc voting:1 voting:2 product:1``). ``otc`` is tests/data/bitcoin-otc.csv.gz;
``voting:SEED`` and ``product:SEED`` are the seeded networks of tests/replay_networks.py
(the product network over 4,000 days, so 100 checkpoints); any other argument is a
ratings file. Per network: every method's figures with ``self_calibrate``, the
reliability tables of the probabilities, what the model chose from the warm-up, and per
target whether it is met by the default model (``model``: half-life and recalibration
chosen from the warm-up), by the parameters as given (``model_published``) and by
``model_self_calibrated``.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from harness.replay_rows import METHOD_COLUMNS, figure, method_row
from harness.report import table

from graphsvc.evaluation.ratings import Ratings, load_ratings
from graphsvc.evaluation.replay import PUBLISHED, SELF_CALIBRATED, ReplayResult, replay_ratings
from tests.replay_networks import product_network, voting_network

OTC = Path(__file__).resolve().parents[1] / "tests" / "data" / "bitcoin-otc.csv.gz"
MODELS = ("model", PUBLISHED, SELF_CALIBRATED)


def network(spec: str) -> Ratings:
    if spec == "otc":
        return load_ratings(OTC)
    kind, _, seed = spec.partition(":")
    if kind == "voting":
        return voting_network(int(seed))
    if kind == "product":
        return product_network(int(seed), days=4_000)
    return load_ratings(spec)


_f = figure


def targets(result: ReplayResult, name: str) -> list[str]:
    """The issue's targets for method ``name``: met or not, with the figures."""
    m = result.methods[name]
    others = {n: f for n, f in result.methods.items() if n not in MODELS}
    auc = max(others.items(), key=lambda item: item[1].auc)
    seen = max(others.items(), key=lambda item: item[1].seen_auc)
    calibrated = {n: f for n, f in others.items() if f.brier is not None}
    brier = min(calibrated.items(), key=lambda item: item[1].brier or 0.0)

    def line(ok: bool, text: str) -> str:
        return f"{'met' if ok else 'NOT met'}: {text}"

    return [
        line(m.auc >= auc[1].auc, f"AUC {_f(m.auc)} >= {_f(auc[1].auc)} ({auc[0]})"),
        line(
            m.seen_auc >= seen[1].seen_auc - 0.005,
            f"seen AUC {_f(m.seen_auc)} within 0.005 of {_f(seen[1].seen_auc)} ({seen[0]})",
        ),
        line(
            (m.brier or 1.0) <= (brier[1].brier or 0.0),
            f"Brier {_f(m.brier)} <= {_f(brier[1].brier)} ({brier[0]})",
        ),
    ]


def main() -> None:
    specs = sys.argv[1:] or ["otc", "voting:1", "voting:2", "product:1"]
    for spec in specs:
        ratings = network(spec)
        cpu = time.process_time()
        result = replay_ratings(ratings, self_calibrate=True)
        cpu = time.process_time() - cpu
        print(
            f"### `{spec}`: {len(ratings.rating):,} ratings, {len(ratings.ids):,} ids, "
            f"{result.checkpoints} checkpoints, {cpu:.0f} s CPU with self-calibration"
        )
        print()
        table(
            METHOD_COLUMNS,
            (method_row(n, m, result.first_half[n], result.second_half[n])
             for n, m in result.methods.items()),
        )  # fmt: skip
        print()
        names = list(result.calibration)
        table(
            ["predicted", *names],
            (
                [f"{result.calibration[names[0]][i].low:.1f}-"
                 f"{result.calibration[names[0]][i].high:.1f}"]
                + [f"{b.count}: {_f(b.mean_predicted)} / {_f(b.observed)}"
                   for b in (result.calibration[n][i] for n in names)]
                for i in range(len(result.calibration[names[0]]))
            ),
        )  # fmt: skip
        print(f"model chosen from the warm-up: {result.choice}")
        print()
        for name in MODELS:
            for line in targets(result, name):
                print(f"- {name}: {line}")
        print()


if __name__ == "__main__":
    main()
