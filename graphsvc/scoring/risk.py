"""Risk: the probability that an entity's next accountable event is a fault
(docs/design.md §3.8).

A Beta-Binomial posterior per entity from decayed counts of its events, each event
counted once whatever its weight elsewhere in the model:

- ``k`` = decayed fault events, ``m`` = decayed positive events (``n = k + m``);
- the prior is ``Beta(s*p0, s*(1 - p0))`` per kind, fitted at every recompute to how
  the kind's parties fared after records like theirs (``scoring/risk_prior.py``):
  ``p0`` is the recent fault rate of parties with little evidence, ``s`` how many
  events it takes before a party's own record dominates; kinds whose events are derived
  (providers, witnesses, requesters) keep the kind's decayed fault share (half a
  pseudo-event each way, so never 0 or 1) with ``s`` = ``risk_prior_strength`` = 1;
- ``risk = (k + s*p0) / (n + s)``, with the equal-tailed 90 % credible interval of
  ``Beta(k + s*p0, m + s*(1 - p0))``: :func:`credible_interval`, computed when a figure
  is read (a Beta quantile costs microseconds, too much
  for every entity at every recompute).

What an event is, per kind (by channel, so the trust-network replay follows the same
rules):

- node and model: the attestations naming it (an ATTEST row is one valid vote, an
  ATTESTED_INVALID fault one standing invalid vote); in the replay, the ratings it
  received (RATING rows and NEGATIVE_RATING faults, one per rating);
- provider: its models' events, summed;
- witness: its votes: valid ones (its ATTEST rows into nodes) and standing invalid ones
  are positive, minus the ones it was outvoted on, which are its faults;
- requester: its co-signed receipts on attested nodes (positive, weighted by proof as
  evidence) and its disputes found baseless (faults).

Standing decides whose evidence counts: each event is weighed by the credibility of the
party that signed it, ``min(1, x_u / median x of u's kind)`` with ``x`` the PageRank
mass (``raw_mass``). A party with no mass, such as a Sybil ring nobody attested, adds
nothing, so its members stay at the prior; a fault a party caused itself (outvoted, a
baseless dispute) always counts fully. Risk never feeds back into the mass.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import betaincinv

from graphsvc.domain import EntityKind
from graphsvc.scoring.evidence import (
    KIND_CODES,
    KINDS_BY_CODE,
    Channel,
    Evidence,
    FaultCause,
    FloatArray,
    IntArray,
    weighted_counts,
)
from graphsvc.scoring.params import ScoringParams
from graphsvc.scoring.risk_prior import DirectEvents, fit_prior, kind_share

# Mass of the published credible interval: from its 5 % to its 95 % quantile.
INTERVAL = 0.9

_NODE = KIND_CODES[EntityKind.NODE]
_PROVIDER = KIND_CODES[EntityKind.PROVIDER]


@dataclass(frozen=True, eq=False)
class RowWeights:
    """Decayed weights the engine computed: of the :func:`event_rows` and of every fault."""

    event_rows: IntArray
    events: FloatArray
    faults: FloatArray


@dataclass(frozen=True, eq=False)
class Risk:
    """Per entity: posterior mean, the events behind it and the prior."""

    mean: FloatArray
    events: FloatArray  # decayed, credibility-weighted events k + m
    fault_events: FloatArray  # k
    prior: FloatArray  # p0 of the entity's kind
    prior_strength: FloatArray  # s of the entity's kind
    credibility: FloatArray  # how much the entity's own signature counts, in [0, 1]


def credibility(raw_mass: FloatArray, kinds: IntArray) -> FloatArray:
    """``min(1, x_u / median x of u's kind)`` over entities of the kind with mass."""
    out = np.zeros(len(raw_mass), dtype=np.float64)
    for code in KINDS_BY_CODE:
        members = np.flatnonzero(kinds == code)
        held = raw_mass[members]
        positive = held[held > 0]
        if len(positive):
            out[members] = np.minimum(1.0, held / float(np.median(positive)))
    return out


def fault_events_per_row(evidence: Evidence, params: ScoringParams) -> FloatArray:
    """How many events each fault row's amount stands for (its unit weight per cause)."""
    units = np.zeros(len(FaultCause), dtype=np.float64)
    units[FaultCause.ATTESTED_INVALID] = 1.0
    units[FaultCause.WITNESS_MINORITY] = params.minority_fault
    units[FaultCause.REJECTED_DISPUTE] = params.rejected_dispute_fault
    units[FaultCause.NEGATIVE_RATING] = 1.0
    unit = units[evidence.fault_cause]
    counts = np.zeros(len(unit), dtype=np.float64)
    np.divide(evidence.fault_amount, unit, out=counts, where=unit > 0)
    return counts


def event_rows(evidence: Evidence) -> IntArray:
    """The edge rows that are events for risk: attestations and ratings."""
    channel = evidence.edge_channel
    rows: IntArray = np.flatnonzero((channel == Channel.ATTEST) | (channel == Channel.RATING))
    return rows


def estimate_risk(
    evidence: Evidence,
    params: ScoringParams,
    as_of_ms: int,
    raw_mass: FloatArray,
    decayed: RowWeights,
    usage_volume: FloatArray,
) -> Risk:
    """Risk of every entity at ``as_of_ms`` from the engine's decayed weights of the
    :func:`event_rows` and of the fault rows, ``usage_volume`` each requester's decayed
    co-signed weight on attested nodes, and the mass ``raw_mass``."""
    ev = evidence
    n = ev.entity_count
    kinds = ev.entity_kinds
    cred = credibility(raw_mass, kinds)

    # Positive events named by attestations and ratings: only those rows are decayed.
    src, dst = ev.edge_src[decayed.event_rows], ev.edge_dst[decayed.event_rows]
    signed = decayed.events * cred[src]
    positive = weighted_counts(dst, signed, n)
    # A witness's own valid votes: one ATTEST row into a node per vote.
    votes = weighted_counts(src, signed * (kinds[dst] == _NODE), n)

    per_row = fault_events_per_row(ev, params)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(ev.fault_amount > 0, decayed.faults / ev.fault_amount, 0.0)
    decayed_events = per_row * ratio
    own = ev.fault_source == ev.fault_party
    weight = np.where(own, 1.0, cred[ev.fault_source])
    faults = weighted_counts(ev.fault_party, decayed_events * weight, n)
    invalid = ev.fault_cause == FaultCause.ATTESTED_INVALID
    votes += weighted_counts(ev.fault_source, decayed_events * weight * invalid, n)
    minority = weighted_counts(
        ev.fault_party, decayed_events * (ev.fault_cause == FaultCause.WITNESS_MINORITY), n
    )
    direct = DirectEvents(
        party=np.concatenate([dst, ev.fault_party]),
        ref_ms=np.concatenate([ev.edge_ref_ms[decayed.event_rows], ev.fault_ref_ms]),
        weight=np.concatenate([ev.edge_amount[decayed.event_rows] * cred[src], per_row * weight]),
        fault=np.r_[np.zeros(len(src), dtype=bool), np.ones(len(per_row), dtype=bool)],
    )
    derived = np.maximum(votes - minority * cred, 0.0) + usage_volume * cred
    positive += derived

    # A provider's events are its models'.
    to_provider = kinds[ev.struct_dst] == _PROVIDER
    model, provider = ev.struct_src[to_provider], ev.struct_dst[to_provider]
    from_models = weighted_counts(provider, positive[model] + faults[model], n)
    positive += weighted_counts(provider, positive[model], n)
    faults += weighted_counts(provider, faults[model], n)
    derived += from_models

    events = faults + positive
    prior, strength = _kind_priors(direct, kinds, faults, events, derived, as_of_ms, params)
    return Risk(
        mean=posterior_mean(faults, events, prior, strength),
        events=events,
        fault_events=faults,
        prior=prior,
        prior_strength=strength,
        credibility=cred,
    )


def posterior_mean(
    fault_events: FloatArray,
    events: FloatArray,
    prior: FloatArray,
    prior_strength: FloatArray | float,
) -> FloatArray:
    """``(k + s*p0) / (n + s)``: the one expression, so a stored snapshot that keeps
    ``k``, ``n`` and its kinds' ``p0`` and ``s`` derives ``risk`` bit for bit."""
    mean: FloatArray = (fault_events + prior_strength * prior) / (events + prior_strength)
    return mean


def credible_interval(
    fault_events: float, events: float, prior: float, prior_strength: float
) -> tuple[float, float]:
    """The 90 % equal-tailed interval of the posterior
    ``Beta(k + s*p0, n - k + s*(1 - p0))``; it holds the posterior mean."""
    a = fault_events + prior_strength * prior
    b = max(events - fault_events, 0.0) + prior_strength * (1.0 - prior)
    tail = (1.0 - INTERVAL) / 2.0
    low, high = (float(betaincinv(a, b, q)) for q in (tail, 1.0 - tail))
    mean = a / (a + b)
    return min(low, mean), max(high, mean)


def _kind_priors(
    direct: DirectEvents,
    kinds: IntArray,
    faults: FloatArray,
    events: FloatArray,
    derived: FloatArray,
    as_of_ms: int,
    params: ScoringParams,
) -> tuple[FloatArray, FloatArray]:
    """Per entity, its kind's prior mean and strength: fitted to the kind's direct
    events (``scoring/risk_prior.py``) when all of the kind's events are direct, else
    the kind's decayed fault share with ``risk_prior_strength``."""
    prior = np.empty(len(kinds), dtype=np.float64)
    strength = np.full(len(kinds), params.risk_prior_strength, dtype=np.float64)
    party_kinds = kinds[direct.party]
    for code in KINDS_BY_CODE:
        members = kinds == code
        mine = party_kinds == code
        if float(derived[members].sum()) == 0.0 and mine.any():
            own = DirectEvents(
                direct.party[mine], direct.ref_ms[mine], direct.weight[mine], direct.fault[mine]
            )
            prior[members], strength[members] = fit_prior(
                own, as_of_ms, params.half_life_ms, params.risk_prior_strength
            )
        else:
            prior[members] = kind_share(faults[members], events[members])
    return prior, strength
