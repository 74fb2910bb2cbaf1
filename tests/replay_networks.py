"""Seeded synthetic rating networks shaped like the networks the replay must hold on
(tests/test_replay.py, bench/replay.py, bench/replay_speed.py).

- :func:`product_network`: a bipartite product-rating network, 1-5 stars shifted to
  -2..+2 (about 9 % negative), many products rated a few times, some popular ones
  rated often, a tenth of the products turning bad at some point, and shill accounts
  that give any product 5 stars.
- :func:`voting_network`: a voting network in {-1, 0, +1} (about a fifth negative),
  candidates voted on in elections of a week, some of them candidates again later, the
  voters drawn from the same population as the candidates.

Both are vectorised (a 300k-rating network in well under a second) and depend only on
their seed.
"""

from __future__ import annotations

import numpy as np

from graphsvc.evaluation.ratings import Ratings

DAY_S = 86_400


def _ratings(src: np.ndarray, dst: np.ndarray, rating: np.ndarray, time_s: np.ndarray,
             n: int) -> Ratings:  # fmt: skip
    order = np.argsort(time_s, kind="stable")
    ids = tuple(f"e{i:07d}" for i in range(n))
    return Ratings(
        ids=ids,
        src=src[order].astype(np.int64),
        dst=dst[order].astype(np.int64),
        rating=rating[order].astype(np.int64),
        time_s=time_s[order].astype(np.int64),
    )


def product_network(seed: int, ratings: int = 284_000, days: int = 1_400) -> Ratings:
    """Users rate products (ids: users first, then products), stars shifted to -2..+2."""
    rng = np.random.default_rng(seed)
    products = max(2, int(ratings * 0.6))
    users = max(2, int(ratings * 0.25))
    launch = rng.uniform(0, days * 0.95, products)
    popularity = rng.pareto(2.0, products) + 0.3
    quality = rng.beta(6.0, 1.6, products)
    # A tenth of the products turn bad (a new batch, a seller gone rogue) some day.
    turns = rng.random(products) < 0.1
    turn_day = launch + rng.uniform(30, 400, products)
    activity = rng.pareto(1.5, users) + 0.1
    harshness = rng.normal(0.0, 0.45, users)
    shill = rng.random(users) < 0.03

    product = rng.choice(products, size=ratings, p=popularity / popularity.sum())
    user = rng.choice(users, size=ratings, p=activity / activity.sum())
    lifetime = rng.exponential(250.0, ratings)
    day = np.minimum(launch[product] + lifetime, days - 1e-3)
    q = np.where(
        turns[product] & (day >= turn_day[product]), quality[product] * 0.35, quality[product]
    )
    latent = 1.05 + 4.0 * q - harshness[user] + rng.normal(0.0, 0.9, ratings)
    stars = np.clip(np.rint(latent), 1, 5)
    stars = np.where(shill[user], 5, stars)
    time_s = (day * DAY_S).astype(np.int64)
    return _ratings(user, users + product, stars - 3, time_s, users + products)


def voting_network(seed: int, votes: int = 114_000, days: int = 1_400) -> Ratings:
    """Members vote -1/0/+1 on candidates (members too) in week-long elections."""
    rng = np.random.default_rng(seed)
    members = max(4, votes // 11)
    elections = max(1, votes // 45)
    candidate = rng.choice(members, size=elections)
    start = rng.uniform(0, days - 7, elections)
    # A candidate's standing drifts between its elections; voters differ in strictness.
    merit = rng.normal(0.0, 1.0, members)
    drift = rng.normal(0.0, 0.004, members)
    strict = rng.normal(0.0, 0.6, members)
    activity = rng.pareto(1.3, members) + 0.05
    # A tenth of the voters follow a bloc: they vote +1 for the bloc's candidates.
    bloc = rng.random(members) < 0.1
    size = rng.poisson(votes / elections, elections) + 1
    election = np.repeat(np.arange(elections), size)[:votes]
    voter = rng.choice(members, size=len(election), p=activity / activity.sum())
    day = start[election] + rng.exponential(1.8, len(election)).clip(0, 7)
    target = candidate[election]
    standing = merit[target] + drift[target] * day
    # Votes within an election follow each other: momentum from the election's mood.
    mood = rng.normal(0.0, 0.5, elections)[election]
    latent = standing + mood - strict[voter] + rng.normal(0.0, 1.0, len(election)) + 1.8
    vote = np.where(latent > 0.35, 1, np.where(latent > -0.1, 0, -1))
    vote = np.where(bloc[voter] & bloc[target], 1, vote)
    keep = voter != target
    time_s = (day * DAY_S).astype(np.int64)
    return _ratings(voter[keep], target[keep], vote[keep], time_s[keep], members)
