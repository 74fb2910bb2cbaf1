"""Command-line glue for the scoring package: parameter flags and ``graphsvc replay``.

``graphsvc/cli.py`` wires it as::

    p = subparsers.add_parser("replay", help="...")
    add_replay_arguments(p)
    ...
    return run_replay(args)   # exit status

Every :class:`ScoringParams` field gets a ``--kebab-case`` flag (``--half-life-days 90``),
so commands that score (``score``, ``export-evidence``, ``replay``) accept the same
model flags.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import fields, replace
from typing import TextIO

from graphsvc.evaluation.replay import RatingsFormatError, StepReport, replay
from graphsvc.scoring.params import ScoringParams


def add_params_arguments(parser: argparse.ArgumentParser) -> None:
    """One optional flag per scoring parameter; unset flags keep the defaults."""
    group = parser.add_argument_group("model parameters")
    defaults = ScoringParams()
    for f in fields(ScoringParams):
        kind = int if f.name == "max_iter" else float
        group.add_argument(
            "--" + f.name.replace("_", "-"),
            dest="param_" + f.name,
            type=kind,
            default=None,
            metavar=kind.__name__.upper(),
            help=f"default {getattr(defaults, f.name)}",
        )


def params_from_args(args: argparse.Namespace, base: ScoringParams | None = None) -> ScoringParams:
    """The parameters named on the command line over ``base`` (ValueError if invalid)."""
    given = {
        f.name: getattr(args, "param_" + f.name)
        for f in fields(ScoringParams)
        if getattr(args, "param_" + f.name, None) is not None
    }
    return replace(base or ScoringParams(), **given)


def add_replay_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "file", help="CSV of source,target,rating,time (header optional, any column order)"
    )
    parser.add_argument("--json", action="store_true", help="print the AUCs as one JSON object")
    parser.add_argument(
        "--self-calibrate",
        action="store_true",
        help="also score model_published (the parameters as given) and "
        "model_self_calibrated: half-life chosen and probabilities recalibrated on "
        "earlier checkpoints only (three scorings a checkpoint)",
    )
    parser.add_argument(
        "--published",
        action="store_true",
        help="score the model with the parameters as given instead of choosing its "
        "half-life and recalibration from the warm-up (the default)",
    )
    add_params_arguments(parser)


def run_replay(
    args: argparse.Namespace,
    base: ScoringParams | None = None,
    out: TextIO | None = None,
    err: TextIO | None = None,
    on_step: StepReport | None = None,
) -> int:
    """Run the replay; 0 on success, 2 on bad input (one line on ``err``, standard
    error by default: looked up per call, so a redirected stream is the one used)."""
    out = out or sys.stdout
    try:
        result = replay(
            args.file,
            params_from_args(args, base),
            on_step=on_step,
            self_calibrate=bool(getattr(args, "self_calibrate", False)),
            choose=not getattr(args, "published", False),
        )
    except (RatingsFormatError, ValueError, OSError) as exc:
        print(f"graphsvc: replay: {exc}", file=err or sys.stderr)
        return 2
    if args.json:
        print(json.dumps(result.as_dict()), file=out)
    else:
        print(
            f"ratings evaluated: {result.ratings_evaluated} "
            f"({result.checkpoints} monthly checkpoints)",
            file=out,
        )
        if result.choice is not None:
            c = result.choice
            print(
                f"model chosen from the warm-up ({c.warmup_ratings} ratings): half-life "
                f"{c.half_life_days:g} days, "
                + ("recalibrated" if c.recalibration is not None else "not recalibrated"),
                file=out,
            )
        print(
            f"{'method':<21} {'AUC':>6} {'seen':>6} {'within':>6} {'Brier':>7} {'log loss':>8}"
            "   (AUC 1st / 2nd half)",
            file=out,
        )
        for name, m in result.methods.items():
            first, second = result.first_half[name], result.second_half[name]
            brier = "-" if m.brier is None else f"{m.brier:.4f}"
            loss = "-" if m.log_loss is None else f"{m.log_loss:.4f}"
            print(
                f"{name:<21} {m.auc:6.4f} {m.seen_auc:6.4f} {m.within_auc:6.4f} {brier:>7} "
                f"{loss:>8}   ({first.auc:.4f} / {second.auc:.4f})",
                file=out,
            )
        for name, bins in result.calibration.items():
            if not name.startswith("model"):
                continue
            print(f"calibration of {name} (bin: ratings, mean predicted, observed)", file=out)
            for b in bins:
                if b.count:
                    print(
                        f"  [{b.low:.1f}, {b.high:.1f}): {b.count:>7}  "
                        f"{b.mean_predicted:.4f}  {b.observed:.4f}",
                        file=out,
                    )
    return 0
