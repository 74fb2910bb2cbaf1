"""The seven stories of the demo network and the cast that plays them.

Each story is detectable in the records (``tests/test_demo_network.py`` checks that) and should
be visible in the scores. The scored-story test (to be written once the scoring engine and
the store loader are joined) generates the default network, ingests it, scores it with
the default ``ScoringParams`` at ``cast.end_ms`` (and at the instants named below) and
asserts the following. The figures in brackets are what ``graphsvc.scoring`` gave on
the default network when this was written (evidence built straight from the records).

1. Faulty nodes: every one of ``faulty_nodes`` scores in the bottom decile of the honest
   nodes, i.e. all nodes minus ``sybil_nodes`` (whose mass is ~0 and would fill the
   decile). [ranks 1, 2, 4, 5 of 100 from the bottom; φ ≈ 0.15]
2. Model fault: score the evidence again without the incident, i.e. without the
   ``fault: model`` attestations on ``faulty_model``, and let
   ``loss(x) = 1 - mass(x) / mass_without_incident(x)``. Then
   ``loss(model_fault_provider) < loss(faulty_model) / 5`` [0.10 vs 0.64]; every node in
   ``faulty_model_nodes`` has no fault caused by ``faulty_model`` and its *score* changes
   by < 0.5 % [0.0 %]. Use ``mass`` for the provider: it owns the most popular model, so
   its score is pinned at 100. Use ``score`` for the nodes: their raw mass moves by ~3 %
   like every node's, because the mass the model loses returns through teleport.
   (Scoring with λ = 0 as the baseline instead gives 0.11 vs 0.65.)
3. Reformed node: ``reformed_node``'s score rises over the last 60 days: strictly
   increasing at ``reformed_until_ms``, ``reformed_until_ms + 30 d`` and ``end_ms``
   [10.6, 37.0, 53.0].
4. Dishonest witness: ``dishonest_witness`` ranks last among witnesses [0.1; the others
   100].
5. Disputes: the receipts of ``disputes_upheld`` have only ``invalid`` attestations, those
   of ``disputes_rejected`` only ``valid`` ones; each rejected dispute adds the
   rejected-dispute fault (0.5) to its challenger, upheld ones add none, and
   ``serial_disputer`` carries the largest fault weight among requesters [3.85; next 0.63].
6. Sybil ring: the combined mass of ``sybil_requesters`` and ``sybil_nodes`` is <= 5 % of
   the total [0: no witness ever attests a ring node, so the ring gets no teleport].
7. Degrading model: ``degrading_model``'s scoreHistory falls: its score at ``end_ms`` is
   below its score at ``degrading_since_ms`` [73.7 -> 56.4].

Models are identified by name (``provider/model@version``), everything else by signer id.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class StoryCast:
    """Ids of the entities and records each story is about, and its key instants (ms)."""

    start_ms: int  # first instant of the traffic window
    end_ms: int  # last instant (the fixed end; every record's ts <= it)

    # 1. lazy nodes: invalid attestations with fault: node, all through the window.
    faulty_nodes: tuple[str, ...]
    # 2. a bad model from a provider whose other models and nodes are healthy.
    model_fault_provider: str
    faulty_model: str
    provider_healthy_models: tuple[str, ...]
    faulty_model_nodes: tuple[str, ...]  # the (healthy) nodes that ran the bad model
    # 3. bad until reformed_until_ms, clean since.
    reformed_node: str
    reformed_until_ms: int
    # 4. votes against the two other witnesses on three-witness panels.
    dishonest_witness: str
    # 5. dispute record ids; the serial disputer raised many of the rejected ones.
    disputes_upheld: tuple[str, ...]
    disputes_rejected: tuple[str, ...]
    serial_disputer: str | None
    # 6. registered fakes co-signing among themselves, never attested.
    sybil_requesters: tuple[str, ...]
    sybil_nodes: tuple[str, ...]
    # 7. wrong-output rate rising from degrading_since_ms to end_ms.
    degrading_model: str
    degrading_since_ms: int

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = asdict(self)
        return {k: list(v) if isinstance(v, tuple) else v for k, v in data.items()}
