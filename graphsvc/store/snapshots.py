"""Store and read score snapshots: their facts, every entity's figures, the evidence."""

from __future__ import annotations

import base64
import json
from typing import Any

from graphsvc.domain import EntityKind
from graphsvc.domain.snapshots import ScoreRow, SnapshotInfo
from graphsvc.store import cypher
from graphsvc.store.graph_store import GraphStore, Statement


def _snapshot_info(row: dict[str, Any]) -> SnapshotInfo:
    return SnapshotInfo(**{**row, "params": json.loads(row["params"])})


def _score_row(row: dict[str, Any]) -> ScoreRow:
    return ScoreRow(
        **{**row, "kind": EntityKind(row["kind"]), "breakdown": json.loads(row["breakdown"])}
    )


def _storage_row(row: ScoreRow, snapshot_id: str) -> dict[str, Any]:
    return {
        **row.__dict__,
        "id": f"{snapshot_id}|{row.entity}",
        "snapshot": snapshot_id,
        "kind": str(row.kind),
        "breakdown": json.dumps(row.breakdown, sort_keys=True, separators=(",", ":")),
    }


# Raw bytes per evidence part: 2.7 MB once in base64, far below a Bolt message's 16 MiB.
PART_BYTES = 2 * 1024 * 1024
DELETE_SLICE = 20_000


def save_snapshot(
    store: GraphStore, info: SnapshotInfo, rows: list[ScoreRow], evidence_blob: bytes
) -> None:
    """Write a snapshot, its scores and its evidence in one transaction."""
    parts = [
        {
            "id": f"{info.id}|{seq}",
            "snapshot": info.id,
            "seq": seq,
            "blob": base64.b64encode(evidence_blob[start : start + PART_BYTES]).decode("ascii"),
        }
        for seq, start in enumerate(range(0, len(evidence_blob), PART_BYTES))
    ]
    store.write(
        [
            Statement(
                cypher.CREATE_SNAPSHOT,
                {**info.__dict__, "params": json.dumps(info.params, sort_keys=True)},
            ),
            Statement(cypher.CREATE_SNAPSHOT_PARTS, {"rows": parts}),
            Statement(cypher.CREATE_SCORES, {"rows": [_storage_row(r, info.id) for r in rows]}),
        ]
    )


def delete_snapshot(store: GraphStore, snapshot_id: str) -> None:
    """Remove a snapshot: unlisted at once, then its scores and evidence in slices."""
    store.write_one(cypher.DELETE_SNAPSHOT, id=snapshot_id)
    while store.write_one(cypher.DELETE_SNAPSHOT_SCORES, id=snapshot_id, limit=DELETE_SLICE)[0][
        "deleted"
    ]:
        pass
    store.write(
        [
            Statement(cypher.DELETE_SNAPSHOT_PARTS, {"id": snapshot_id}),
            Statement(cypher.DELETE_LEGACY_SNAPSHOT_EVIDENCE, {"id": snapshot_id}),
        ]
    )


def _one(store: GraphStore, query: str, **params: Any) -> SnapshotInfo | None:
    rows = store.read(query, **params)
    return _snapshot_info(rows[0]["snapshot"]) if rows else None


def snapshot_by_id(store: GraphStore, snapshot_id: str) -> SnapshotInfo | None:
    return _one(store, cypher.SNAPSHOT_BY_ID, id=snapshot_id)


def latest_snapshot(store: GraphStore) -> SnapshotInfo | None:
    return _one(store, cypher.LATEST_SNAPSHOT)


def snapshot_in_force(store: GraphStore, as_of_ms: int) -> SnapshotInfo | None:
    """The newest snapshot computed for a time at or before ``as_of_ms``."""
    return _one(store, cypher.SNAPSHOT_IN_FORCE, as_of_ms=as_of_ms)


def snapshots_at(store: GraphStore, as_of_ms: int) -> list[SnapshotInfo]:
    return [
        _snapshot_info(r["snapshot"]) for r in store.read(cypher.SNAPSHOTS_AT, as_of_ms=as_of_ms)
    ]


def list_snapshots(store: GraphStore, limit: int | None) -> list[SnapshotInfo]:
    """Snapshots, newest first; all of them when ``limit`` is None."""
    query = cypher.SNAPSHOT_LIST if limit is not None else cypher.ALL_SNAPSHOTS
    return [_snapshot_info(r["snapshot"]) for r in store.read(query, limit=limit)]


def snapshot_evidence(store: GraphStore, snapshot_id: str) -> bytes:
    parts = store.read(cypher.SNAPSHOT_PARTS, id=snapshot_id)
    if not parts:
        parts = store.read(cypher.LEGACY_SNAPSHOT_EVIDENCE, id=snapshot_id)
    if not parts:
        raise LookupError(f"snapshot {snapshot_id} has no stored evidence")
    return b"".join(base64.b64decode(part["blob"]) for part in parts)


def snapshot_scores(store: GraphStore, snapshot_id: str) -> list[ScoreRow]:
    return [
        _score_row(r["score"]) for r in store.read(cypher.SNAPSHOT_SCORES, snapshot=snapshot_id)
    ]


def score_history(
    store: GraphStore, entity: str, from_ms: int, to_ms: int, limit: int
) -> list[ScoreRow]:
    """One row per snapshot time (the latest computed for that time), oldest first, for
    at most ``limit`` snapshots."""
    by_time: dict[int, ScoreRow] = {}
    rows = store.read(
        cypher.SCORE_HISTORY, entity=entity, from_ms=from_ms, to_ms=to_ms, limit=limit
    )
    for row in rows:
        by_time[row["score"]["as_of_ms"]] = _score_row(row["score"])
    return [by_time[t] for t in sorted(by_time)]
