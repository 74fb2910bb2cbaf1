"""Risk: the probability that an entity's next accountable event is a fault
(docs/reference.md#risk).

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

Standing and reliability decide whose evidence counts. A party's own record (a witness's
votes, a requester's usage) weighs its credibility, ``min(1, x_u / median x of u's
kind)`` with ``x`` the PageRank mass (``raw_mass``). A report on another party (an
attestation, an accusation, a rating) weighs its signer's credibility times the
signer's reliability, ``1 - risk`` of the signer: a witness often outvoted, a rater
often rated negative, is believed less (the discounting of Jøsang and Ismail's Beta
reputation system). The reliabilities are a fixed point, found in rounds. A party with
no mass, such as a Sybil ring nobody attested, adds nothing, so its members stay at the
prior, and a reliability only ever lowers a weight; a fault a party caused itself
(outvoted, a baseless dispute) always counts fully. Risk never feeds back into the mass.
"""

from __future__ import annotations

import logging
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
    distinct,
    weighted_counts,
)
from graphsvc.scoring.params import ScoringParams
from graphsvc.scoring.risk_prior import DirectEvents, EventHistory, kind_share

# Mass of the published credible interval: from its 5 % to its 95 % quantile.
INTERVAL = 0.9
# The signers' reliabilities are a fixed point: rounds stop once none moves by more than
# this. Where no signer is also the subject of reports (the service: witnesses sign,
# nodes and models are attested) the second round is already the fixed point; on a
# trust network, where raters are rated, a round shrinks the change about threefold.
RELIABILITY_TOLERANCE = 1e-6
MAX_RELIABILITY_ROUNDS = 100

log = logging.getLogger(__name__)

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
    *,
    fit_priors: bool = True,
) -> Risk:
    """Risk of every entity at ``as_of_ms`` from the engine's decayed weights of the
    :func:`event_rows` and of the fault rows, ``usage_volume`` each requester's decayed
    co-signed weight on attested nodes, and the mass ``raw_mass``.

    A report on another party (an attestation, a rating, an accusation) weighs its
    signer's credibility times its reliability, ``1 - risk`` of the signer: the
    reliabilities are the fixed point, found by rounds from reliability 1 until no
    signer's risk moves by more than :data:`RELIABILITY_TOLERANCE`. Without
    ``fit_priors`` every kind keeps its decayed fault share as prior (the fit's sort and
    search skipped), which changes no witness's or requester's risk."""
    tallies = _Tallies(evidence, params, as_of_ms, raw_mass, decayed, usage_volume, fit_priors)
    reliability = np.ones(evidence.entity_count, dtype=np.float64)
    signers = tallies.signers
    for _ in range(MAX_RELIABILITY_ROUNDS):
        risk = tallies.risk(reliability)
        moved = np.abs((1.0 - risk.mean[signers]) - reliability[signers])
        if not len(moved) or float(moved.max()) <= RELIABILITY_TOLERANCE:
            return risk
        reliability = 1.0 - risk.mean
    log.warning(
        "risk: signers' reliabilities still moved by %.3g after %d rounds; the last "
        "round's risk is published",
        float(moved.max()),
        MAX_RELIABILITY_ROUNDS,
    )
    return risk


class _Tallies:
    """What every round of :func:`estimate_risk` needs that does not depend on the
    signers' reliabilities, computed once (the fit's sort included)."""

    def __init__(
        self,
        ev: Evidence,
        params: ScoringParams,
        as_of_ms: int,
        raw_mass: FloatArray,
        decayed: RowWeights,
        usage_volume: FloatArray,
        fit_priors: bool,
    ) -> None:
        n, kinds = ev.entity_count, ev.entity_kinds
        self.n, self.kinds, self.default_strength = n, kinds, params.risk_prior_strength
        cred = credibility(raw_mass, kinds)
        self.credibility = cred

        # Positive events named by attestations and ratings: only those rows are decayed.
        src, dst = ev.edge_src[decayed.event_rows], ev.edge_dst[decayed.event_rows]
        self.src, self.dst, self.decayed_events = src, dst, decayed.events
        per_row = fault_events_per_row(ev, params)
        with np.errstate(invalid="ignore", divide="ignore"):
            ratio = np.where(ev.fault_amount > 0, decayed.faults / ev.fault_amount, 0.0)
        self.decayed_faults = per_row * ratio
        # A fault a party caused itself (outvoted, a baseless dispute) always counts fully.
        self.own = ev.fault_source == ev.fault_party
        self.fault_party, self.fault_source = ev.fault_party, ev.fault_source

        # A party's own record counts by its own credibility, not by its reliability:
        # a witness's votes (its valid ATTEST rows into nodes and its standing invalid
        # ones) less those it was outvoted on, and a requester's attested usage.
        own_cred = np.where(self.own, 1.0, cred[ev.fault_source])
        votes = weighted_counts(src, decayed.events * cred[src] * (kinds[dst] == _NODE), n)
        invalid = ev.fault_cause == FaultCause.ATTESTED_INVALID
        votes += weighted_counts(ev.fault_source, self.decayed_faults * own_cred * invalid, n)
        minority = weighted_counts(
            ev.fault_party,
            self.decayed_faults * (ev.fault_cause == FaultCause.WITNESS_MINORITY),
            n,
        )
        self.own_record = np.maximum(votes - minority * cred, 0.0) + usage_volume * cred
        to_provider = kinds[ev.struct_dst] == _PROVIDER
        self.model, self.provider = ev.struct_src[to_provider], ev.struct_dst[to_provider]

        # Every event as a direct event of the party it names, for the prior's fit.
        self.direct_party = np.concatenate([dst, ev.fault_party])
        self.direct_signer = np.concatenate([src, ev.fault_source])
        self.direct_unit = np.concatenate([ev.edge_amount[decayed.event_rows], per_row])
        self.direct_by_other = np.r_[np.ones(len(src), dtype=bool), ~self.own]
        direct = DirectEvents(
            party=self.direct_party,
            ref_ms=np.concatenate([ev.edge_ref_ms[decayed.event_rows], ev.fault_ref_ms]),
            weight=self._direct_weights(cred),
            fault=np.r_[np.zeros(len(src), dtype=bool), np.ones(len(per_row), dtype=bool)],
        )
        # Kinds whose events are all direct are fitted; the others (a provider's events
        # are its models', a witness's its votes, a requester's its attested usage)
        # keep the kind's decayed fault share.
        derived = self.own_record > 0
        derived[self.provider] = True
        party_kinds = kinds[self.direct_party]
        self.fitted: dict[int, tuple[IntArray, EventHistory]] = {}
        for code in KINDS_BY_CODE:
            rows = np.flatnonzero(party_kinds == code)
            if fit_priors and len(rows) and not derived[kinds == code].any():
                history = EventHistory.of(direct.take(rows), as_of_ms, params.half_life_ms)
                self.fitted[code] = (rows, history)
        # Only the reliability of a party that signed a report on another matters.
        self.signers = distinct(self.direct_signer[self.direct_by_other], n)

    def _direct_weights(self, report_weight: FloatArray) -> FloatArray:
        """Each direct event's weight: as many events as its row stands for, times its
        signer's ``report_weight`` (a party's own faults: 1)."""
        signed = np.where(self.direct_by_other, report_weight[self.direct_signer], 1.0)
        weights: FloatArray = self.direct_unit * signed
        return weights

    def risk(self, reliability: FloatArray) -> Risk:
        """One round: every report weighs its signer's credibility times ``reliability``."""
        n, kinds = self.n, self.kinds
        report = self.credibility * reliability
        positive = weighted_counts(self.dst, self.decayed_events * report[self.src], n)
        positive += self.own_record
        signed = np.where(self.own, 1.0, report[self.fault_source])
        faults = weighted_counts(self.fault_party, self.decayed_faults * signed, n)
        # A provider's events are its models'.
        positive += weighted_counts(self.provider, positive[self.model], n)
        faults += weighted_counts(self.provider, faults[self.model], n)
        events = faults + positive

        prior = np.empty(n, dtype=np.float64)
        strength = np.full(n, self.default_strength, dtype=np.float64)
        weights = self._direct_weights(report)
        for code in KINDS_BY_CODE:
            members = kinds == code
            if code in self.fitted:
                rows, history = self.fitted[code]
                prior[members], strength[members] = history.fit(
                    weights[rows], self.default_strength
                )
            else:
                prior[members] = kind_share(faults[members], events[members])
        return Risk(
            mean=posterior_mean(faults, events, prior, strength),
            events=events,
            fault_events=faults,
            prior=prior,
            prior_strength=strength,
            credibility=self.credibility,
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
