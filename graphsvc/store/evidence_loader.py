"""Build the scorer's :class:`Evidence` from the store's running sums.

Reads the aggregated evidence and fault rows kept current at ingest, the votes on
contested receipts and the disputes (small next to the receipts), never the receipts.
"""

from __future__ import annotations

from collections.abc import Collection

from graphsvc.domain import EntityKind
from graphsvc.scoring.builder import EvidenceBuilder
from graphsvc.scoring.evidence import Channel, Evidence
from graphsvc.scoring.params import ScoringParams
from graphsvc.scoring.verdicts import attested_faults, vote_faults
from graphsvc.store import cypher
from graphsvc.store.graph_store import GraphStore, Statement

_CHANNELS = {member.name.lower(): member for member in Channel}


def load_evidence(
    store: GraphStore, params: ScoringParams, *, seeds: Collection[str] = ()
) -> tuple[Evidence, int]:
    """The evidence in the store, and the time of its newest row (0 when empty).

    ``seeds`` are the trusted entities of the personalization; empty means every
    registered witness (docs/design.md §3).
    """
    entities, edges, invalid, contested, disputes = store.read_many(
        [
            Statement(cypher.ALL_ENTITIES, {}),
            Statement(cypher.ALL_EVIDENCE, {}),
            Statement(cypher.INVALID_ATTESTATIONS, {}),
            Statement(cypher.CONTESTED_VOTES, {}),
            Statement(cypher.DISPUTES_WITH_VOTES, {}),
        ]
    )
    builder = EvidenceBuilder()
    newest = 0
    columns = entities[0]
    witnesses = []
    for entity_id, kind_name, provider in zip(
        columns["id"], columns["kind"], columns["provider"], strict=True
    ):
        kind = EntityKind(kind_name)
        builder.entity(entity_id, kind)
        if kind is EntityKind.MODEL and provider:
            builder.structural(entity_id, provider)
        elif kind is EntityKind.WITNESS:
            witnesses.append(entity_id)
    columns = edges[0]
    for src, dst, channel, ref_ms, amount in zip(
        columns["src"],
        columns["dst"],
        columns["channel"],
        columns["ref_ms"],
        columns["amount"],
        strict=True,
    ):
        builder.edge(src, dst, _CHANNELS[channel], ref_ms, amount)
    newest = max(columns["ref_ms"], default=0)
    votes = [(r["receipt"], r["witness"], r["verdict"], r["ts"]) for r in contested]
    # A dispute's status depends on every vote on its receipt, contested or not.
    for row in disputes:
        votes.extend(
            (row["receipt"], v["witness"], v["verdict"], v["ts"])
            for v in row["votes"]
            if v.get("witness")
        )
    claims = [(r["receipt"], r["requester"], r["ts"]) for r in disputes]
    columns = invalid[0]
    accusations = zip(
        columns["receipt"], columns["witness"], columns["party"], columns["ts"], strict=True
    )
    all_votes = sorted(set(votes))
    for fault in [
        *attested_faults(accusations, all_votes),
        *vote_faults(all_votes, claims, params),
    ]:
        builder.fault(*fault.as_row())
        newest = max(newest, fault.ref_ms)

    trusted = seeds or witnesses
    for entity_id in trusted:
        if builder.has_entity(entity_id):
            builder.seed(entity_id)
    return builder.build(aggregated_half_life_ms=params.half_life_ms), newest
