"""Read the attribution trail of receipts and outputs back out of the graph."""

from __future__ import annotations

import json
from typing import Any

from graphsvc.domain import EntityKind
from graphsvc.domain.entities import EntityInfo
from graphsvc.domain.trail import AttestationInfo, DisputeInfo, ReceiptTrail
from graphsvc.store import cypher
from graphsvc.store.graph_store import GraphStore


def receipt_trails(store: GraphStore, ids: list[str]) -> dict[str, ReceiptTrail]:
    trails: dict[str, ReceiptTrail] = {}
    for row in store.read(cypher.RECEIPT_TRAIL, ids=ids):
        r = row["receipt"]
        trails[r["id"]] = ReceiptTrail(
            id=r["id"],
            ts=r["ts"],
            node=r["node"],
            model=r["model"],
            provider=row["provider"],
            requester=r["requester"],
            input_hash=r["input_hash"],
            output_hash=r["output_hash"],
            proof_type=r["proof_type"],
            measurement=r["measurement"],
            record=json.loads(r["record"]),
            attestations=tuple(
                sorted(
                    (
                        AttestationInfo(
                            a["id"],
                            a["ts"],
                            a["witness"],
                            a["verdict"],
                            a["fault"],
                            a["note"],
                            a.get("leaf"),
                        )
                        for a in row["attestations"]
                        if a.get("id")
                    ),
                    key=lambda a: (a.ts, a.id),
                )
            ),
            disputes=tuple(
                sorted(
                    (
                        DisputeInfo(d["id"], d["ts"], d["requester"], d["reason"], d.get("leaf"))
                        for d in row["disputes"]
                        if d.get("id")
                    ),
                    key=lambda d: (d.ts, d.id),
                )
            ),
            leaf_index=r.get("leaf"),
        )
    return trails


def receipt_ids_for_output(store: GraphStore, output_hash: str, limit: int) -> list[str]:
    return [r["id"] for r in store.read(cypher.RECEIPTS_FOR_OUTPUT, hash=output_hash, limit=limit)]


def _entity(row: dict[str, Any]) -> EntityInfo:
    return EntityInfo(
        row["id"], EntityKind(row["kind"]), row["name"], row["ts"], row["provider"], row["digest"]
    )


def entities(store: GraphStore, ids: list[str]) -> dict[str, EntityInfo]:
    return {r["id"]: _entity(r) for r in store.read(cypher.ENTITIES_INFO, ids=ids)}


def search_entities(
    store: GraphStore, text: str, kind: EntityKind | None, limit: int
) -> list[EntityInfo]:
    kinds = [kind] if kind is not None else list(cypher.SEARCH_ENTITIES)
    found = [
        _entity(row)
        for k in kinds
        for row in store.read(cypher.SEARCH_ENTITIES[k], text=text, limit=limit)
    ]
    return sorted(found, key=lambda e: (e.name, e.id))[:limit]
