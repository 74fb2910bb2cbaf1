"""Store and read score snapshots: their facts, every entity's figures, the evidence."""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Sequence
from typing import Any

from graphsvc.domain.score_snapshots import ScoreRow, SnapshotEvidence, SnapshotInfo
from graphsvc.scoring.params import ScoringParams
from graphsvc.scoring.table import (
    ScoreTable,
    table_from_bytes,
    table_to_bytes,
)
from graphsvc.store import cypher, score_shards
from graphsvc.store.graph_store import GraphStore, Statement

log = logging.getLogger(__name__)


def _snapshot_info(row: dict[str, Any]) -> SnapshotInfo:
    return SnapshotInfo(
        **{
            **row,
            "params": json.loads(row["params"]),
            "seeds": tuple(json.loads(row["seeds"] or "[]")),
        }
    )


# Raw bytes per evidence or table part: 2.7 MB once in base64, far below a Bolt message's 16 MiB.
PART_BYTES = 2 * 1024 * 1024


def save_snapshot(
    store: GraphStore,
    info: SnapshotInfo,
    table: ScoreTable,
    evidence: SnapshotEvidence,
    *,
    supersedes: str | None = None,
) -> None:
    """Write a snapshot, its scores and its evidence in one transaction; the kept table
    (and breakdowns) of ``supersedes`` (the snapshot before it) are dropped in the same
    transaction."""
    params = ScoringParams.from_dict(info.params)
    shards = score_shards.encode(info.id, table, params)
    store.write(
        [
            Statement(
                cypher.CREATE_SNAPSHOT,
                {
                    **info.__dict__,
                    "params": json.dumps(info.params, sort_keys=True),
                    "shards": len(shards),
                    "evidence_form": evidence.form,
                    "parent": evidence.parent,
                    "seeds": json.dumps(list(evidence.seeds)),
                },
            ),
            Statement(cypher.CREATE_SNAPSHOT_PARTS, {"rows": _parts(info.id, evidence.data)}),
            Statement(cypher.CREATE_SCORE_SHARDS, {"rows": shards}),
            Statement(
                cypher.CREATE_TABLE_PARTS, {"rows": _parts(info.id, table_to_bytes(table, params))}
            ),
            *(
                [
                    Statement(cypher.DELETE_TABLE_PARTS, {"id": supersedes}),
                    Statement(cypher.FORGET_BREAKDOWNS, {"id": supersedes}),
                ]
                if supersedes
                else []
            ),
        ]
    )


def replace_evidence(store: GraphStore, snapshot_id: str, evidence: SnapshotEvidence) -> None:
    """Give a snapshot other evidence bytes (retention folds a removed parent into it)."""
    store.write(
        [
            Statement(cypher.DELETE_SNAPSHOT_PARTS, {"id": snapshot_id}),
            Statement(cypher.CREATE_SNAPSHOT_PARTS, {"rows": _parts(snapshot_id, evidence.data)}),
            Statement(
                cypher.SET_SNAPSHOT_EVIDENCE,
                {"id": snapshot_id, "evidence_form": evidence.form, "parent": evidence.parent},
            ),
        ]
    )


def _parts(snapshot_id: str, data: bytes) -> list[dict[str, Any]]:
    return [
        {
            "id": f"{snapshot_id}|{seq}",
            "snapshot": snapshot_id,
            "seq": seq,
            "blob": base64.b64encode(data[start : start + PART_BYTES]).decode("ascii"),
        }
        for seq, start in enumerate(range(0, len(data), PART_BYTES))
    ]


def delete_snapshot(store: GraphStore, snapshot_id: str) -> None:
    """Remove a snapshot: unlisted at once, then its scores and evidence."""
    store.write_one(cypher.DELETE_SNAPSHOT, id=snapshot_id)
    store.write(
        [
            Statement(cypher.DELETE_SCORE_SHARDS, {"id": snapshot_id}),
            Statement(cypher.DELETE_TABLE_PARTS, {"id": snapshot_id}),
            Statement(cypher.DELETE_SNAPSHOT_PARTS, {"id": snapshot_id}),
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


def snapshot_evidence(store: GraphStore, snapshot_id: str) -> SnapshotEvidence:
    """How the snapshot keeps its evidence: a base, or a delta on its parent's."""
    found = store.read(cypher.SNAPSHOT_EVIDENCE_FORM, id=snapshot_id)
    if not found:
        raise LookupError(f"no snapshot {snapshot_id}")
    parts = store.read(cypher.SNAPSHOT_PARTS, id=snapshot_id)
    if not parts:
        raise LookupError(f"snapshot {snapshot_id} has no stored evidence")
    return SnapshotEvidence(
        form=found[0]["form"],
        data=b"".join(base64.b64decode(part["blob"]) for part in parts),
        parent=found[0]["parent"],
        seeds=tuple(json.loads(found[0]["seeds"] or "[]")),
    )


def evidence_lineage(store: GraphStore, snapshot_id: str) -> list[SnapshotEvidence]:
    """The stored evidence from the snapshot's base down to the snapshot."""
    lineage = [snapshot_evidence(store, snapshot_id)]
    while lineage[0].form == "delta":
        parent = lineage[0].parent
        if parent is None:
            raise LookupError(f"a delta before snapshot {snapshot_id} names no parent")
        lineage.insert(0, snapshot_evidence(store, parent))
    return lineage


def child_of(store: GraphStore, snapshot_id: str) -> str | None:
    """The snapshot whose evidence is a delta on this one's, if any."""
    found = store.read(cypher.SNAPSHOT_CHILD, id=snapshot_id)
    return str(found[0]["id"]) if found else None


def snapshot_table(store: GraphStore, info: SnapshotInfo) -> ScoreTable | None:
    """The snapshot's kept table, with every explanation: only the newest snapshot keeps
    one (None: explain it again from its evidence)."""
    parts = store.read(cypher.TABLE_PARTS, id=info.id)
    if not parts:
        return None
    try:
        return table_from_bytes(b"".join(base64.b64decode(part["blob"]) for part in parts))
    except ValueError as error:  # a table of a format this version does not read
        log.warning("snapshot %s: kept table unreadable (%s); explaining it again", info.id, error)
        return None


def stored_figures(store: GraphStore, info: SnapshotInfo, names: Sequence[str]) -> ScoreTable:
    """Every entity's stored figures in one snapshot (no explanations), entities named
    by ``names`` (the ids they may have; stored shards name entities by key)."""
    shards = store.read(cypher.SNAPSHOT_FIGURES, id=info.id)
    return score_shards.decode_table(info.as_of_ms, [s["figures"] for s in shards], names)


def score_history(
    store: GraphStore, entity: str, from_ms: int, to_ms: int, limit: int
) -> list[ScoreRow]:
    """The entity's figures (no breakdown) in the snapshots from ``from_ms`` to ``to_ms``,
    one per time (the latest computed for it), oldest first, from at most ``limit``
    snapshots: one small read per snapshot, whatever the number of entities."""
    found = store.read(cypher.HISTORY_SNAPSHOTS, from_ms=from_ms, to_ms=to_ms, limit=limit)
    latest: dict[int, dict[str, Any]] = {}
    for snapshot in found:  # latest created first within a time
        latest.setdefault(int(snapshot["as_of_ms"]), snapshot)
    parts = {
        score_shards.part_id(s["id"], score_shards.shard_of(entity, s["shards"])): t
        for t, s in latest.items()
    }
    rows = [
        row
        for shard in store.read(cypher.HISTORY_FIGURES, ids=sorted(parts))
        if (row := score_shards.history_row(shard["figures"], entity, parts[shard["id"]]))
    ]
    return sorted(rows, key=lambda r: r.as_of_ms)
