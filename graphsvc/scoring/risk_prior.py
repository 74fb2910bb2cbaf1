"""The prior of ``risk``, estimated from how the kind's parties actually fared
(docs/reference.md#risk): empirical Bayes by predictive likelihood.

The question a prior answers is "what happens next to a party with this little
evidence?". The kind's past answers it: every past event of a party of the kind was
preceded by some record of that party, ``(k_e, n_e)`` (its decayed fault and total
events at that moment, zero for a newcomer). The prior ``Beta(s*mu, s*(1 - mu))``
predicts that event as a fault with probability ``(k_e + s*mu) / (n_e + s)``;
``mu`` and ``s`` are the values that predicted the kind's past events best:

    maximise  sum_e  r_e * u_e * [y_e log p_e + (1 - y_e) log(1 - p_e)]
              + 1/2 log mu + 1/2 log(1 - mu)

with ``u_e`` the event's weight (the same credibility weighting as the posterior),
``r_e = 2^(-(T - t_e)/H)`` its recency (the model's half-life: a *recent* fault rate of
the kind), ``y_e`` whether it was a fault, and half an event each way (as Jeffreys'
prior gave the kind's share) so that ``mu`` is never 0 or 1. Only data before ``T``
enter, so the prior is fitted afresh at every recompute and carries to any network;
nothing in it is a number chosen by looking at one.

``mu`` is then the recent fault rate of *parties with little evidence* (newcomers are
not a random event of the kind: most events are on established parties), and ``s`` how
many events it takes before a party's own record should dominate.

It needs each event's time and party: a kind whose events are rows naming it (nodes and
models: the attestations naming them; a rated participant of the replay) is fitted;
kinds whose events are derived (a provider's are its models', a witness's its votes, a
requester's its attested usage) keep the kind's decayed fault share and
``risk_prior_strength``. When the data cannot tell ``s`` (no party with a record yet),
the fit stays at ``risk_prior_strength``. An aggregated evidence row (a running sum kept
at ingest) stands for ``amount`` events at its newest time: the record before it is
then approximate, the result still well defined. Beyond :data:`MAX_FIT_EVENTS` events,
a fixed sample of the kind's parties is fitted (all of their events).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from graphsvc.scoring.evidence import FloatArray, IntArray
from graphsvc.scoring.optimize import minimize_bounded

# Half an event each way, as Jeffreys' Beta(1/2, 1/2) gave the kind's share.
JEFFREYS = 0.5
# Events older than this many half-lives weigh < 2^-40 and are left out of the fit, which
# also bounds the range of the scaled sums below (float64 keeps 2^-40..1 exact enough).
HORIZON_HALF_LIVES = 40.0
# Guard rails of the strength: with few events the optimum can run off towards 0 (no
# clean record was followed by a fault) or infinity (records told nothing); the bounds
# keep it finite. On Bitcoin OTC fitted strengths lie in 0.1-1.3, except at the last
# two checkpoints (the network's last months hold few ratings): the lower bound.
STRENGTH_BOUNDS = (1.0 / 64.0, 64.0)
PROBABILITY_FLOOR = 1e-12
# Two numbers are fitted: beyond this many events, a fixed sample of parties (every
# stride-th by index, all their events) estimates them as well, and bounds the cost
# (sorting dominates: about 1 s a million events).
MAX_FIT_EVENTS = 250_000


@dataclass(frozen=True)
class DirectEvents:
    """One kind's events with their party, time, weight and outcome."""

    party: IntArray
    ref_ms: IntArray
    weight: FloatArray
    fault: np.ndarray  # bool

    def take(self, rows: IntArray) -> DirectEvents:
        """The events at ``rows``."""
        return DirectEvents(
            self.party[rows], self.ref_ms[rows], self.weight[rows], self.fault[rows]
        )


def kind_share(fault_events: FloatArray, events: FloatArray) -> float:
    """The kind's decayed fault share with Jeffreys' prior: ``(F + 1/2) / (N + 1)``, never
    exactly 0 or 1 and 1/2 for a kind with no event (the prior of kinds not fitted)."""
    return (float(fault_events.sum()) + JEFFREYS) / (float(events.sum()) + 2 * JEFFREYS)


def fit_prior(
    events: DirectEvents, as_of_ms: int, half_life_ms: int, default_strength: float
) -> tuple[float, float]:
    """``(mu, s)`` of the prior that predicted ``events`` best (module doc)."""
    history = EventHistory.of(events, as_of_ms, half_life_ms)
    return history.fit(events.weight, default_strength)


def records_before(
    events: DirectEvents, as_of_ms: int, half_life_ms: int
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Per event within the horizon: the party's decayed fault and total events just
    before it (events at the same instant are not before each other), the outcome and
    the event's weight in the likelihood (``r_e * u_e``)."""
    return EventHistory.of(events, as_of_ms, half_life_ms).records(events.weight)


@dataclass(frozen=True, eq=False)
class EventHistory:
    """One kind's events in the fit, sorted by party and time once, so that the fit can
    be repeated with other weights (risk weighs each report by its signer's
    reliability, which is itself a risk: ``scoring/risk.py``) without sorting again.

    The events fitted are those within the horizon whose weight in ``of`` is positive
    (a later weight of 0 only takes the event's share out of the sums), every
    stride-th party's beyond :data:`MAX_FIT_EVENTS`.
    """

    order: IntArray  # indices into the DirectEvents arrays, by party, then time
    fault: FloatArray
    scale: FloatArray  # 2^((t - T)/H), in [2^-40, 1]
    instant_start: IntArray  # per sorted event, the first of its (party, instant) group
    party_start: IntArray  # per sorted event, the first of its party

    @classmethod
    def of(cls, events: DirectEvents, as_of_ms: int, half_life_ms: int) -> EventHistory:
        horizon = as_of_ms - HORIZON_HALF_LIVES * half_life_ms
        keep = (events.ref_ms >= horizon) & (events.weight > 0)
        stride = -(-int(keep.sum()) // MAX_FIT_EVENTS)
        if stride > 1:
            keep &= events.party % stride == 0
        kept = np.flatnonzero(keep)
        party, ref = events.party[kept], events.ref_ms[kept]
        order = kept[np.lexsort((ref, party))]
        party, ref = events.party[order], events.ref_ms[order]
        new_instant = np.r_[True, (party[1:] != party[:-1]) | (ref[1:] != ref[:-1])]
        new_party = np.r_[True, party[1:] != party[:-1]]
        return cls(
            order=order,
            fault=events.fault[order].astype(np.float64),
            # Scaled to T, so within-party running sums are plain cumulative sums;
            # dividing by the event's own factor decays them to its time.
            scale=np.exp2((ref - float(as_of_ms)) / float(half_life_ms)),
            instant_start=np.flatnonzero(new_instant)[np.cumsum(new_instant) - 1],
            party_start=np.flatnonzero(new_party)[np.cumsum(new_party) - 1],
        )

    def records(self, weight: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
        """:func:`records_before` with ``weight`` (aligned with the events given to
        :meth:`of`) as each event's weight."""
        w = weight[self.order]
        fault, scale = self.fault, self.scale
        if len(w) == 0:
            return fault, fault, fault, fault
        total, faults = np.cumsum(w * scale), np.cumsum(w * fault * scale)

        # Exclusive sums up to the first event of each (party, instant) group, minus the
        # sums before the party's first event.
        def before(cumulative: FloatArray, values: FloatArray) -> FloatArray:
            upto = cumulative[self.instant_start] - values[self.instant_start]
            base = cumulative[self.party_start] - values[self.party_start]
            record: FloatArray = np.maximum(upto - base, 0.0) / scale
            return record

        n = before(total, w * scale)
        k = np.minimum(before(faults, w * fault * scale), n)
        return k, n, fault, w * scale

    def fit(self, weight: FloatArray, default_strength: float) -> tuple[float, float]:
        """``(mu, s)`` that predicted these events best with ``weight`` (module doc)."""
        k, n, y, a = self.records(weight)
        if len(y) == 0:
            return JEFFREYS, default_strength
        return _maximise_likelihood(k, n, y, a, default_strength)


def _maximise_likelihood(
    k: FloatArray, n: FloatArray, y: FloatArray, a: FloatArray, default_strength: float
) -> tuple[float, float]:
    def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
        mu = 1.0 / (1.0 + np.exp(-theta[0]))
        s = float(np.exp(theta[1]))
        p = np.clip((k + s * mu) / (n + s), PROBABILITY_FLOOR, 1.0 - PROBABILITY_FLOOR)
        # d(log-likelihood)/dp per event, then the chain rule to (logit mu, log s).
        dp = a * (y / p - (1.0 - y) / (1.0 - p))
        value = float(np.sum(a * (y * np.log(p) + (1.0 - y) * np.log1p(-p))))
        value += JEFFREYS * (np.log(mu) + np.log1p(-mu))
        d_mu = float(np.sum(dp * s / (n + s))) + JEFFREYS * (1.0 / mu - 1.0 / (1.0 - mu))
        d_s = float(np.sum(dp * (mu * n - k) / (n + s) ** 2))
        gradient = np.array([d_mu * mu * (1.0 - mu), d_s * s])
        return -value, -gradient

    share = (float(np.sum(a * y)) + JEFFREYS) / (float(np.sum(a)) + 2 * JEFFREYS)
    start = np.array([np.log(share / (1.0 - share)), np.log(default_strength)])
    low, high = (float(np.log(b)) for b in STRENGTH_BOUNDS)
    x = minimize_bounded(loss, start, [(-30.0, 30.0), (low, high)])
    mu = float(1.0 / (1.0 + np.exp(-x[0])))
    return mu, float(np.exp(x[1]))
