"""Graded outcomes and calibration from the past in the replay (issue 21)."""

from __future__ import annotations

import numpy as np
import pytest

from graphsvc.evaluation.calibration import Platt, reliability_table
from graphsvc.evaluation.model_choice import choose_from_warmup
from graphsvc.evaluation.ratings import Ratings
from graphsvc.evaluation.replay import (
    PUBLISHED,
    SELF_CALIBRATED,
    evidence_before,
    rating_fault_share,
    replay_ratings,
)
from graphsvc.scoring.engine import compute_scores
from graphsvc.scoring.params import ScoringParams
from tests.replay_networks import product_network, voting_network

DAY_S = 86_400


def test_platt_recalibration_undoes_an_overconfident_predictor() -> None:
    """Outcomes drawn with probability q, predictions pushed towards 0 and 1 (logit
    doubled): the fitted map halves the slope back and restores the probabilities."""
    rng = np.random.default_rng(7)
    q = rng.uniform(0.05, 0.6, 20_000)
    outcome = rng.random(len(q)) < q
    logit = np.log(q / (1 - q))
    overconfident = 1 / (1 + np.exp(-2 * logit))
    recalibrate = Platt.fit(overconfident, outcome)
    assert recalibrate.slope == pytest.approx(0.5, abs=0.05)
    fixed = recalibrate(overconfident)
    assert np.mean((fixed - outcome) ** 2) < np.mean((overconfident - outcome) ** 2)
    assert np.abs(fixed - q).max() < 0.05
    # Order kept: the map is increasing.
    assert np.all(np.diff(fixed[np.argsort(overconfident)]) >= 0)


def test_platt_with_nothing_or_one_class_stays_finite() -> None:
    assert Platt.fit(np.array([]), np.array([], dtype=bool)) == Platt()
    one_class = Platt.fit(np.full(50, 0.3), np.zeros(50, dtype=bool))
    p = one_class(np.array([0.3]))
    assert 0.0 < p[0] < 0.3


def test_reliability_table_bins_predictions_and_outcomes() -> None:
    p = np.array([0.05, 0.05, 0.15, 0.95, 1.0])
    y = np.array([False, True, False, True, True])
    table = reliability_table(p, y)
    assert len(table) == 10 and sum(b.count for b in table) == 5
    assert table[0].count == 2 and table[0].observed == pytest.approx(0.5)
    assert table[0].mean_predicted == pytest.approx(0.05)
    assert table[9].count == 2 and table[9].observed == pytest.approx(1.0)  # 1.0 in the last
    assert table[5].count == 0 and table[5].observed is None


def test_a_neutral_rating_is_one_event_half_fault() -> None:
    """-1, 0, +1 from one rater on one ratee: three events, 1.5 of them faults, and the
    zero rating is half a positive edge and half a fault at its own instant."""
    # Exact: the shares are the constants 1, 1/2 and 0, and 1 - 1/2 is exact in binary.
    assert rating_fault_share(np.array([-3, 0, 2])).tolist() == [1.0, 0.5, 0.0]
    ratings = Ratings(
        ids=("a", "b", "c"),
        src=np.array([0, 0, 0, 2]),
        dst=np.array([1, 1, 1, 0]),
        rating=np.array([-1, 0, 1, 1]),
        time_s=np.array([10, 20, 30, 40]) * DAY_S,
    )
    t_s = 50 * DAY_S
    evidence = evidence_before(ratings, t_s)
    # Exact: 1 - 0, 1 - 1/2 and the shares themselves are exact in binary.
    assert evidence.edge_amount.tolist() == [0.5, 1.0, 1.0]
    # Exact, as above.
    assert evidence.fault_amount.tolist() == [1.0, 0.5]
    assert evidence.seeds.tolist() == [0, 2]
    params = ScoringParams(half_life_days=1e9)  # no decay, so events are plain counts
    scores = compute_scores(evidence, params, t_s * 1000)
    b = scores.index_of("b")
    credible = scores.risk_events[b] / 3.0  # every rating weighs its rater's one weight
    assert scores.risk_fault_events[b] == pytest.approx(1.5 * credible)


def test_self_calibration_uses_only_the_past_and_helps_on_a_voting_network() -> None:
    """The self-calibrated model starts as the published risk (no past at the first
    checkpoint) and, on a network shaped unlike Bitcoin OTC, its probabilities are
    better than the published ones'."""
    ratings = voting_network(seed=3, votes=30_000, days=700)
    result = replay_ratings(ratings, self_calibrate=True)
    tuned, published = result.methods[SELF_CALIBRATED], result.methods[PUBLISHED]
    assert tuned.brier is not None and published.brier is not None
    assert tuned.brier < published.brier
    assert tuned.log_loss is not None and published.log_loss is not None
    assert tuned.log_loss < published.log_loss
    bins = result.calibration[SELF_CALIBRATED]
    assert sum(b.count for b in bins) == result.ratings_evaluated
    first = replay_ratings(ratings, self_calibrate=True, warmup_fraction=0.95)
    assert first.checkpoints == 2
    assert first.first_half[SELF_CALIBRATED] == first.first_half[PUBLISHED]  # exact: no past


def test_product_network_is_shaped_as_asked() -> None:
    ratings = product_network(seed=1, ratings=20_000)
    assert len(ratings.rating) == 20_000
    assert set(np.unique(ratings.rating).tolist()) <= {-2, -1, 0, 1, 2}
    assert 0.06 < float(np.mean(ratings.rating < 0)) < 0.12
    assert not np.isin(ratings.src, ratings.dst).any()  # bipartite: users rate products


def _warmup(ratings: Ratings, fraction: float = 0.25) -> tuple[int, int]:
    first, last = int(ratings.time_s[0]), int(ratings.time_s[-1])
    return first + int((last - first) * fraction), 30 * DAY_S


def test_the_warmup_choice_reads_only_the_warmup() -> None:
    """The choice is made from the ratings before the first checkpoint: whatever comes
    after (here: every later rating turned negative) does not change it."""
    ratings = voting_network(seed=4, votes=20_000, days=700)
    start, step = _warmup(ratings)
    choice = choose_from_warmup(ratings, ScoringParams(), start, step)
    later = ratings.time_s >= start
    flipped = Ratings(
        ids=ratings.ids,
        src=ratings.src,
        dst=ratings.dst,
        rating=np.where(later, -1, ratings.rating),
        time_s=ratings.time_s,
    )
    again = choose_from_warmup(flipped, ScoringParams(), start, step)
    assert again == choice  # exact: the same computation on the same warm-up
    assert choice.warmup_ratings == int((ratings.time_s < start).sum()) - int(
        (ratings.time_s < int(ratings.time_s[0]) + step).sum()
    )
    # exact: the candidate half-lives are the keys, as given
    assert set(choice.warmup_log_loss) == {30.0, 90.0, 180.0}
    best = min(choice.warmup_log_loss.values())
    assert choice.warmup_log_loss[choice.half_life_days] == best  # exact: the one chosen


def test_a_voting_network_chooses_a_longer_memory_and_the_default_model_uses_it() -> None:
    """Candidates' merit drifts slowly on a voting network: the warm-up prefers a longer
    half-life than the service's month, and the default replay's model is that
    half-life's risk through a strictly increasing map, so its AUCs are that
    half-life's; the parameters as given stay reported as model_published."""
    ratings = voting_network(seed=3, votes=30_000, days=700)
    result = replay_ratings(ratings, self_calibrate=True)
    assert result.choice is not None and result.choice.half_life_days > 30.0
    chosen = replay_ratings(
        ratings, ScoringParams(half_life_days=result.choice.half_life_days), choose=False
    )
    assert result.methods["model"].auc == pytest.approx(chosen.methods["model"].auc, abs=1e-9)
    assert result.methods["model"].auc > result.methods[PUBLISHED].auc
    as_given = replay_ratings(ratings, choose=False)
    assert as_given.choice is None and PUBLISHED not in as_given.methods
    assert result.methods[PUBLISHED].auc == pytest.approx(as_given.methods["model"].auc, abs=1e-9)


def test_a_recalibration_is_applied_only_when_it_helps_the_held_out_warmup() -> None:
    """On the product network the month's risk is far off on the warm-up's second half
    and a map fitted on its first half helps by many standard errors: it is applied.
    A network with no warm-up to speak of keeps the parameters and no map."""
    ratings = product_network(seed=2, ratings=20_000, days=1_400)
    start, step = _warmup(ratings)
    choice = choose_from_warmup(ratings, ScoringParams(), start, step)
    assert choice.calibration_gain is not None and choice.calibration_gain_se is not None
    assert (choice.recalibration is not None) == (
        choice.calibration_gain > 2.0 * choice.calibration_gain_se
    )
    assert choice.recalibration is not None
    short = choose_from_warmup(ratings, ScoringParams(), int(ratings.time_s[0]) + step, step)
    assert short == type(short)(30.0)
