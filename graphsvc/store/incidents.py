"""Read incidents: the ``invalid`` attestations that blame a node or a model, with what
became of each (it stands, or was outvoted)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from graphsvc.domain.paging import Slice, TimePage, TimeWindow
from graphsvc.domain.receipt_trail import Incident
from graphsvc.domain.votes import InvalidClaim, claim_status, latest_votes
from graphsvc.store import cypher
from graphsvc.store.graph_store import GraphStore


def incidents(
    store: GraphStore, parties: Sequence[str], page: TimePage, trusted: frozenset[str]
) -> Slice[Incident]:
    """A page of the incidents blaming any of ``parties``; ``trusted`` are the witnesses
    whose votes decide whether each stands."""
    if not parties or page.size <= 0:
        return Slice([], False)
    rows = store.read(cypher.INCIDENTS[page.newest_first], parties=list(parties), **page.params())
    return Slice.of([_incident(row, trusted) for row in rows], page.size)


def count_incidents(store: GraphStore, parties: Sequence[str], window: TimeWindow) -> int:
    if not parties:
        return 0
    rows = store.read(
        cypher.INCIDENTS_COUNT, parties=list(parties), from_ms=window.from_ms, to_ms=window.to_ms
    )
    return int(rows[0]["n"])


def incidents_after(
    store: GraphStore, position: tuple[int, str], limit: int, trusted: frozenset[str]
) -> list[Incident]:
    """Incidents committed after ``position`` (batch, id), in commit order."""
    batch, incident_id = position
    rows = store.read(cypher.INCIDENTS_AFTER, after_batch=batch, after_id=incident_id, limit=limit)
    return [_incident(row, trusted) for row in rows]


def _incident(row: dict[str, Any], trusted: frozenset[str]) -> Incident:
    claim = InvalidClaim(row["receipt"], row["witness"], row["party"], int(row["ts"]))
    votes = latest_votes(
        (row["receipt"], v["witness"], v["verdict"], int(v["ts"]))
        for v in row["votes"]
        if v.get("witness")
    )
    return Incident(
        id=row["id"],
        ts=claim.ts_ms,
        receipt=claim.receipt_id,
        witness=claim.witness_id,
        party=claim.party_id,
        fault=row["fault"],
        note=row["note"],
        status=claim_status(claim, votes.get(claim.receipt_id, {}), trusted),
        batch=int(row["batch"] or 0),
        leaf_index=row.get("leaf"),
    )
