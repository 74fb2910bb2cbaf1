"""Score snapshots in the graph: what was computed, when, from which evidence."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

from graphsvc.domain import EntityKind
from graphsvc.store import cypher
from graphsvc.store.graph_store import GraphStore, Statement


@dataclass(frozen=True)
class SnapshotInfo:
    id: str
    as_of_ms: int
    created_ms: int
    params: dict[str, Any]
    evidence_digest: str
    records: int
    entities: int
    iterations: int
    residual: float

    @classmethod
    def of(cls, row: dict[str, Any]) -> SnapshotInfo:
        return cls(**{**row, "params": json.loads(row["params"])})


@dataclass(frozen=True)
class ScoreRow:
    """One entity's published figures in one snapshot."""

    entity: str
    kind: EntityKind
    score: float
    rank: int
    percentile: float
    mass: float
    raw_mass: float
    fault_rate: float
    confidence: float
    positive_evidence: float
    fault_weight: float
    phi: float
    breakdown: dict[str, Any]
    as_of_ms: int

    @classmethod
    def of(cls, row: dict[str, Any]) -> ScoreRow:
        return cls(
            **{**row, "kind": EntityKind(row["kind"]), "breakdown": json.loads(row["breakdown"])}
        )

    def storage_row(self, snapshot_id: str) -> dict[str, Any]:
        return {
            **self.__dict__,
            "id": f"{snapshot_id}|{self.entity}",
            "snapshot": snapshot_id,
            "kind": str(self.kind),
            "breakdown": json.dumps(self.breakdown, sort_keys=True, separators=(",", ":")),
        }


def save_snapshot(
    store: GraphStore, info: SnapshotInfo, rows: list[ScoreRow], evidence_blob: bytes
) -> None:
    """Write a snapshot, its scores and its evidence in one transaction."""
    store.write(
        [
            Statement(
                cypher.CREATE_SNAPSHOT,
                {
                    **info.__dict__,
                    "params": json.dumps(info.params, sort_keys=True),
                    "blob": base64.b64encode(evidence_blob).decode("ascii"),
                },
            ),
            Statement(cypher.CREATE_SCORES, {"rows": [r.storage_row(info.id) for r in rows]}),
        ]
    )


def _one(store: GraphStore, query: str, **params: Any) -> SnapshotInfo | None:
    rows = store.read(query, **params)
    return SnapshotInfo.of(rows[0]["snapshot"]) if rows else None


def snapshot_by_id(store: GraphStore, snapshot_id: str) -> SnapshotInfo | None:
    return _one(store, cypher.SNAPSHOT_BY_ID, id=snapshot_id)


def latest_snapshot(store: GraphStore) -> SnapshotInfo | None:
    return _one(store, cypher.LATEST_SNAPSHOT)


def snapshot_in_force(store: GraphStore, as_of_ms: int) -> SnapshotInfo | None:
    """The newest snapshot computed for a time at or before ``as_of_ms``."""
    return _one(store, cypher.SNAPSHOT_IN_FORCE, as_of_ms=as_of_ms)


def snapshots_at(store: GraphStore, as_of_ms: int) -> list[SnapshotInfo]:
    return [
        SnapshotInfo.of(r["snapshot"]) for r in store.read(cypher.SNAPSHOTS_AT, as_of_ms=as_of_ms)
    ]


def list_snapshots(store: GraphStore, limit: int) -> list[SnapshotInfo]:
    return [SnapshotInfo.of(r["snapshot"]) for r in store.read(cypher.SNAPSHOT_LIST, limit=limit)]


def snapshot_evidence(store: GraphStore, snapshot_id: str) -> bytes:
    rows = store.read(cypher.SNAPSHOT_EVIDENCE, id=snapshot_id)
    if not rows:
        raise LookupError(f"snapshot {snapshot_id} has no stored evidence")
    return base64.b64decode(rows[0]["blob"])


def snapshot_scores(store: GraphStore, snapshot_id: str) -> list[ScoreRow]:
    return [
        ScoreRow.of(r["score"]) for r in store.read(cypher.SNAPSHOT_SCORES, snapshot=snapshot_id)
    ]


def score_history(store: GraphStore, entity: str, from_ms: int, to_ms: int) -> list[ScoreRow]:
    """One row per snapshot time (the latest computed for that time), oldest first."""
    by_time: dict[int, ScoreRow] = {}
    for row in store.read(cypher.SCORE_HISTORY, entity=entity, from_ms=from_ms, to_ms=to_ms):
        by_time[row["score"]["as_of_ms"]] = ScoreRow.of(row["score"])
    return [by_time[t] for t in sorted(by_time)]
