"""Build the scorer's :class:`Evidence` from the store's running sums.

Reads the aggregated evidence and fault rows kept current at ingest, the votes on
contested receipts and the disputes (small next to the receipts), never the receipts.
"""

from __future__ import annotations

from collections.abc import Collection

from graphsvc.domain import EntityKind
from graphsvc.scoring.builder import EvidenceBuilder
from graphsvc.scoring.evidence import Channel, Evidence, FaultCause
from graphsvc.scoring.params import ScoringParams
from graphsvc.scoring.verdicts import vote_faults
from graphsvc.store import cypher
from graphsvc.store.graph_store import GraphStore, Statement

_CHANNELS = {member.name.lower(): member for member in Channel}
_CAUSES = {member.name.lower(): member for member in FaultCause}


def load_evidence(
    store: GraphStore, params: ScoringParams, *, seeds: Collection[str] = ()
) -> tuple[Evidence, int]:
    """The evidence in the store, and the time of its newest row (0 when empty).

    ``seeds`` are the trusted entities of the personalization; empty means every
    registered witness (DESIGN §3).
    """
    entities, edges, faults, contested, disputes = store.read_many(
        [
            Statement(cypher.ALL_ENTITIES, {}),
            Statement(cypher.ALL_EVIDENCE, {}),
            Statement(cypher.ALL_FAULTS, {}),
            Statement(cypher.CONTESTED_VOTES, {}),
            Statement(cypher.DISPUTES_WITH_VOTES, {}),
        ]
    )
    builder = EvidenceBuilder()
    newest = 0
    for row in entities:
        kind = EntityKind(row["kind"])
        builder.entity(row["id"], kind)
        if kind is EntityKind.MODEL and row["provider"]:
            builder.structural(row["id"], row["provider"])
    for row in edges:
        builder.edge(
            row["src"], row["dst"], _CHANNELS[row["channel"]], row["ref_ms"], row["amount"]
        )
        newest = max(newest, row["ref_ms"])
    for row in faults:
        builder.fault(
            row["party"], row["source"], _CAUSES[row["cause"]], row["ref_ms"], row["amount"]
        )
        newest = max(newest, row["ref_ms"])

    votes = [(r["receipt"], r["witness"], r["verdict"], r["ts"]) for r in contested]
    # A dispute's status depends on every vote on its receipt, contested or not.
    for row in disputes:
        votes.extend(
            (row["receipt"], v["witness"], v["verdict"], v["ts"])
            for v in row["votes"]
            if v.get("witness")
        )
    claims = [(r["receipt"], r["requester"], r["ts"]) for r in disputes]
    for fault in vote_faults(sorted(set(votes)), claims, params):
        builder.fault(*fault.as_row())
        newest = max(newest, fault.ref_ms)

    trusted = seeds or [r["id"] for r in entities if r["kind"] == EntityKind.WITNESS.value]
    for entity_id in trusted:
        if builder.has_entity(entity_id):
            builder.seed(entity_id)
    return builder.build(aggregated_half_life_ms=params.half_life_ms), newest
