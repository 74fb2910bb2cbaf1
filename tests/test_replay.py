"""Trust-network replay: the model against the baselines on planted synthetic networks
(the real network, Bitcoin OTC, is a bench: bench/replay.py)."""

from __future__ import annotations

import argparse
import io
import json
import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from graphsvc.cli import main as cli_main
from graphsvc.evaluation.cli_support import add_replay_arguments, params_from_args, run_replay
from graphsvc.evaluation.replay import (
    Ratings,
    RatingsFormatError,
    evidence_before,
    load_ratings,
    replay_ratings,
    roc_auc,
)
from graphsvc.scoring.engine import compute_scores
from graphsvc.scoring.params import ScoringParams

DAY_S = 86_400


def synthetic_trust_network(seed: int, days: int = 720) -> Ratings:
    """Honest traders plus planted bad actors, each with a seeded RNG.

    - Honest users join over time and trade with active users (more active, more
      likely); a trade with an honest user is rated +1..+5, with 1.5% spurious negatives.
    - Bad actors ("exit scammers") build a clean record with small honest trades, then
      switch, after a random 60-240 days, to scamming: -5..-10 with probability 0.8.
    - Each bad actor has 3 sockpuppets that keep rating it +10 and each other +10.
    """
    rng = np.random.default_rng(seed)
    honest, bad = 300, 30
    puppets = 3 * bad
    n = honest + bad + puppets
    join = np.concatenate(
        (
            rng.integers(0, days * 3 // 4, honest),
            rng.integers(0, days * 3 // 4, bad),
            np.zeros(puppets, dtype=np.int64),
        )
    )
    switch = join[honest : honest + bad] + rng.integers(60, 240, bad)
    activity = rng.pareto(1.5, honest + bad) + 0.2
    rows: list[tuple[int, int, int, int]] = []
    for day in range(days):
        alive = np.flatnonzero(join[: honest + bad] <= day)
        if len(alive) < 2:
            continue
        weights = activity[alive] / activity[alive].sum()
        for _ in range(rng.poisson(12)):
            rater, ratee = rng.choice(alive, size=2, replace=False, p=weights)
            if rater >= honest:  # bad actors rate others like honest users do
                rating = int(rng.integers(1, 6))
            elif ratee >= honest and day >= switch[ratee - honest] and rng.random() < 0.8:
                rating = -int(rng.integers(5, 11))
            elif rng.random() < 0.015:
                rating = -int(rng.integers(1, 4))
            else:
                rating = int(rng.integers(1, 6))
            rows.append((int(rater), int(ratee), rating, day * DAY_S + int(rng.integers(DAY_S))))
        for b in range(bad):
            if join[honest + b] <= day and rng.random() < 0.08:
                puppet = honest + bad + 3 * b + int(rng.integers(3))
                target = honest + b if rng.random() < 0.7 else honest + bad + 3 * b
                if target != puppet:
                    rows.append((puppet, target, 10, day * DAY_S + int(rng.integers(DAY_S))))
    rows.sort(key=lambda r: r[3])
    arr = np.array(rows, dtype=np.int64)
    ids = tuple(f"u{i:04d}" for i in range(n))
    return Ratings(ids=ids, src=arr[:, 0], dst=arr[:, 1], rating=arr[:, 2], time_s=arr[:, 3])


def test_model_beats_baselines_on_a_synthetic_network_with_planted_bad_actors() -> None:
    result = replay_ratings(synthetic_trust_network(seed=1))
    assert result.ratings_evaluated > 1000
    # Sockpuppet +10s fool both baselines (below 0.5); decay and phi catch the switch.
    assert result.model > max(result.mean_past_rating, result.pagerank_plain) + 0.1
    assert result.model > 0.6


@pytest.mark.parametrize("half_life_days", [15.0, 60.0])
def test_synthetic_result_is_robust_to_the_half_life(half_life_days: float) -> None:
    result = replay_ratings(
        synthetic_trust_network(seed=2), ScoringParams(half_life_days=half_life_days)
    )
    assert result.model > max(result.mean_past_rating, result.pagerank_plain)


BASELINES = (
    "mean_past_rating",
    "pagerank_plain",
    "beta_forgetting",
    "decayed_beta",
    "fairness_goodness",
    "eigentrust",
)


PROBABILITY_BASELINES = ("beta_forgetting", "decayed_beta")


def test_all_methods_side_by_side_with_calibration_on_a_synthetic_network() -> None:
    """Every baseline in the one run, with its figures; the model's risk is the best
    calibrated probability. (On the real network, Bitcoin OTC, the comparison is a
    bench: ``bench/replay.py``, bench/RESULTS.md.)"""
    result = replay_ratings(synthetic_trust_network(seed=2))
    model = result.methods["model"]
    for name in PROBABILITY_BASELINES:
        other = result.methods[name]
        assert model.log_loss is not None and other.log_loss is not None
        assert model.log_loss < other.log_loss, name
        assert model.brier is not None and other.brier is not None
        assert model.brier < other.brier, name
    for name in set(BASELINES) - {"decayed_beta"}:
        assert model.auc > result.methods[name].auc, name
        assert model.within_auc > result.methods[name].within_auc, name
    halves = (result.first_half["model"], result.second_half["model"])
    assert all(0.5 < half.auc < 1.0 for half in halves)
    printed = result.as_dict()
    assert {"model", "mean_past_rating", "pagerank_plain", "ratings_evaluated"} <= set(printed)
    assert set(printed["methods"]) == {"model", *BASELINES}
    assert set(printed["calibration"]) == {"model", *PROBABILITY_BASELINES}
    assert set(printed["first_half"]["model"]) == {
        "auc",
        "seen_auc",
        "within_auc",
        "brier",
        "log_loss",
    }
    assert printed["methods"]["eigentrust"]["brier"] is None  # not a probability


def test_variants_are_scored_in_the_same_run_as_probabilities() -> None:
    ratings = synthetic_trust_network(seed=3, days=200)
    constant = replay_ratings(ratings, variants={"constant": lambda r, t: np.full(len(r.ids), 0.1)})
    figures = constant.methods["constant"]
    assert figures.auc == pytest.approx(0.5)
    assert figures.brier is not None and figures.log_loss is not None
    # Exact: a variant leaves the model's own run untouched, bit for bit (determinism).
    assert constant.methods["model"] == replay_ratings(ratings).methods["model"]


def test_roc_auc_handles_ties_like_mann_whitney() -> None:
    assert roc_auc(np.array([0.1, 0.4, 0.35, 0.8]), np.array([0, 0, 1, 1])) == pytest.approx(0.75)
    assert roc_auc(np.array([1.0, 1.0, 1.0, 1.0]), np.array([0, 1, 0, 1])) == pytest.approx(0.5)
    assert roc_auc(np.array([0.0, 1.0, 1.0]), np.array([0, 1, 0])) == pytest.approx(0.75)
    with pytest.raises(ValueError):
        roc_auc(np.array([1.0]), np.array([1]))


@pytest.mark.parametrize(
    "header",
    ["SOURCE,TARGET,Weight,Timestamp", "source,target,rating,time", "src,dst,rating,ts"],
)
def test_load_ratings_accepts_any_header_naming_the_columns(tmp_path: Path, header: str) -> None:
    path = tmp_path / "net.csv"
    path.write_text(f"{header}\na,b,3,100\nb,c,-2,50.0\n")
    r = load_ratings(path)
    assert r.ids == ("a", "b", "c") and r.rating.tolist() == [-2, 3]


def test_load_ratings_finds_columns_by_name_in_any_order(tmp_path: Path) -> None:
    path = tmp_path / "net.csv"
    path.write_text("Time,Rating,Target,Source,note\n100,3,b,a,x\n50,-2,c,b,y\n")
    r = load_ratings(path)
    assert r.time_s.tolist() == [50, 100]
    assert [r.ids[i] for i in r.src] == ["b", "a"]
    assert [r.ids[i] for i in r.dst] == ["c", "b"]
    bad = tmp_path / "bad.csv"
    bad.write_text("time,rating,target,source\n100,good,b,a\n")
    with pytest.raises(RatingsFormatError, match=r":2: column 2 \(rating\) = 'good'"):
        load_ratings(bad)
    unnamed = tmp_path / "unnamed.csv"
    unnamed.write_text("who,whom,how,when,why\na,b,1,1,x\n")
    with pytest.raises(RatingsFormatError, match=r":1: header .* does not name"):
        load_ratings(unnamed)


def test_load_ratings_header_and_errors(tmp_path: Path) -> None:
    good = tmp_path / "good.csv"
    good.write_text("source,target,rating,time\na,b,3,100\nb,c,-2,50\n")
    r = load_ratings(good)
    assert r.ids == ("a", "b", "c")
    assert r.time_s.tolist() == [50, 100]  # sorted by time
    assert r.rating.tolist() == [-2, 3]
    for text, message in (
        ("a,b,3,100\na,b,x,5\n", r":2: column 3 \(rating\) = 'x' is not an integer"),
        ("a,b,11,100\n", r":1: column 3 \(rating\) = 11 is outside \[-10, 10\]"),
        ("a,b,1\n", r":1: expected 4 columns"),
        ("a,b,1,1.5\n", r":1: column 4 \(time\) = '1.5' is not an integer"),
        (",b,1,1\n", r":1: column 1 \(source\) is empty"),
    ):
        bad = tmp_path / "bad.csv"
        bad.write_text(text)
        with pytest.raises(RatingsFormatError, match=message):
            load_ratings(bad)


def test_cli_replay_prints_json(tmp_path: Path) -> None:
    r = synthetic_trust_network(seed=3, days=200)
    path = tmp_path / "net.csv"
    lines = [
        f"{r.ids[s]},{r.ids[d]},{x},{t}"
        for s, d, x, t in zip(r.src, r.dst, r.rating, r.time_s, strict=True)
    ]
    path.write_text("\n".join(lines) + "\n")
    parser = argparse.ArgumentParser()
    add_replay_arguments(parser)
    out = io.StringIO()
    args = parser.parse_args([str(path), "--json", "--half-life-days", "20"])
    assert params_from_args(args).half_life_days == 20.0  # exact: as given
    assert run_replay(args, out=out) == 0
    printed = json.loads(out.getvalue())
    assert {"model", "mean_past_rating", "pagerank_plain", "ratings_evaluated"} <= set(printed)
    assert printed["model"] == printed["methods"]["model"]["auc"]  # exact: one figure, twice
    assert printed["model_choice"]["half_life_days"] in (20.0, 90.0, 180.0)
    as_given = io.StringIO()
    assert run_replay(parser.parse_args([str(path), "--json", "--published"]), out=as_given) == 0
    assert json.loads(as_given.getvalue())["model_choice"] is None
    text = io.StringIO()
    assert run_replay(parser.parse_args([str(path)]), out=text) == 0
    assert "eigentrust" in text.getvalue() and "fairness_goodness" in text.getvalue()
    assert "model chosen from the warm-up" in text.getvalue()
    err = io.StringIO()
    bad = parser.parse_args([str(tmp_path / "missing.csv")])
    assert run_replay(bad, err=err) == 2 and "missing.csv" in err.getvalue()


def test_cli_replay_reports_its_progress_on_standard_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Piped, a long replay still says how far it has got, and standard output stays JSON."""
    r = synthetic_trust_network(seed=3, days=200)
    path = tmp_path / "net.csv"
    rows = zip(r.src, r.dst, r.rating, r.time_s, strict=True)
    path.write_text("".join(f"{r.ids[s]},{r.ids[d]},{x},{t}\n" for s, d, x, t in rows))
    assert cli_main(["replay", str(path), "--json"]) == 0
    captured = capsys.readouterr()
    steps = re.findall(r"graphsvc: replay: month (\d+) of (\d+)", captured.err)
    assert steps and all(total == steps[0][1] for _, total in steps)
    assert [int(done) for done, _ in steps] == list(range(1, int(steps[0][1]) + 1))
    assert json.loads(captured.out)["ratings_evaluated"] > 0


# Figures of every method on a small planted network, taken from the replay before it
# was made fast (issue 21: networkx's PageRank replaced by the same iteration on a
# sparse matrix): auc, seen_auc, within_auc, brier, log_loss.
FIGURES_BEFORE_THE_FAST_REPLAY = {
    "model": (0.642965, 0.656505, 0.624508, 0.020829, 0.099326),
    "mean_past_rating": (0.417473, 0.436488, 0.438905, None, None),
    "pagerank_plain": (0.42118, 0.441855, 0.448615, None, None),
    "beta_forgetting": (0.566757, 0.599697, 0.564661, 0.08647, 0.314572),
    "decayed_beta": (0.597307, 0.608922, 0.599542, 0.021471, 0.113499),
    "fairness_goodness": (0.432283, 0.453629, 0.450921, None, None),
    "eigentrust": (0.426461, 0.447964, 0.453091, None, None),
}


def _model_before_issue_21(ratings: Ratings, t_s: int) -> np.ndarray:
    """The model as the slow replay ran it: seeds were the raters of the last half-life
    (the network has no zero rating, so grading changes nothing else)."""
    params = ScoringParams()
    evidence = evidence_before(ratings, t_s)
    past = ratings.time_s < t_s
    recent = past & (ratings.rating > 0)
    recent &= ratings.time_s * 1000 >= t_s * 1000 - params.half_life_ms
    seeds = np.unique(ratings.src[recent])
    evidence = replace(evidence, seeds=seeds if len(seeds) else evidence.seeds)
    return compute_scores(evidence, params, t_s * 1000).risk


def test_the_fast_replay_gives_the_figures_of_the_slow_one() -> None:
    ratings = synthetic_trust_network(seed=1, days=400)
    assert not (ratings.rating == 0).any()
    result = replay_ratings(ratings, variants={"before": _model_before_issue_21})
    assert (result.ratings_evaluated, result.checkpoints) == (4035, 10)
    for name, expected in FIGURES_BEFORE_THE_FAST_REPLAY.items():
        m = result.methods["before" if name == "model" else name]
        got = (m.auc, m.seen_auc, m.within_auc, m.brier, m.log_loss)
        for value, want in zip(got, expected, strict=True):
            if want is None:
                assert value is None, name
            else:
                assert value == pytest.approx(want, abs=2e-6), name
