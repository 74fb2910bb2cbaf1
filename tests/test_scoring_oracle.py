"""Property 1 (oracle): without faults, raw mass equals networkx.pagerank on the exported graph."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings

from graphsvc.scoring.engine import compute_scores
from graphsvc.scoring.evidence import Evidence
from graphsvc.scoring.export import effective_edges
from graphsvc.scoring.params import ScoringParams
from tests.scoring_factories import T0, networkx_pagerank, product, random_evidence


@settings(derandomize=True, max_examples=60, deadline=None)
@given(random_evidence(faults=False))
def test_raw_mass_equals_networkx_pagerank_on_random_graphs(evidence: Evidence) -> None:
    scores = compute_scores(evidence, ScoringParams(), T0)
    expected = networkx_pagerank(scores, effective_edges(scores))
    assert np.max(np.abs(scores.raw_mass - expected)) < 1e-9
    # Mass sums to 1, or to 0 where nobody is trusted (witnesses but no seeds).
    assert abs(scores.raw_mass.sum() - scores.personalization.sum()) < 1e-12


@settings(derandomize=True, max_examples=10, deadline=None)
@given(random_evidence(faults=False))
def test_oracle_holds_for_other_parameters(evidence: Evidence) -> None:
    params = ScoringParams(alpha=0.6, sigma=0.2, half_life_days=3.0, usage_exponent=0.5)
    scores = compute_scores(evidence, params, T0)
    expected = networkx_pagerank(scores, effective_edges(scores))
    assert np.max(np.abs(scores.raw_mass - expected)) < 1e-9


def test_oracle_on_a_product_network() -> None:
    net = product(seed=3, requesters=60, receipts=800)
    scores = compute_scores(net.builder.build(), ScoringParams(), T0)
    expected = networkx_pagerank(scores, effective_edges(scores))
    assert np.max(np.abs(scores.raw_mass - expected)) < 1e-9
    # Without faults phi = 1 everywhere, so mass is raw mass.
    assert scores.mass == pytest.approx(scores.raw_mass, rel=1e-12)
