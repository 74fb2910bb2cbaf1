"""Read the attribution trail of receipts and outputs back out of the graph."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from graphsvc.domain import EntityKind
from graphsvc.domain.entities import EntityInfo
from graphsvc.domain.paging import Slice
from graphsvc.domain.receipt_trail import AttestationInfo, DisputeInfo, ReceiptTrail
from graphsvc.store import cypher
from graphsvc.store.graph_store import GraphStore


def receipt_trails(
    store: GraphStore, ids: list[str], trusted: frozenset[str]
) -> dict[str, ReceiptTrail]:
    """The trails of ``ids``; ``trusted`` are the witnesses whose votes decide verdicts."""
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
            proof_status=r.get("proof_status") or "claimed",
            enclave=r.get("enclave"),
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
                            r["id"],
                            a["score"],
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
                        DisputeInfo(
                            d["id"], d["ts"], d["requester"], d["reason"], d.get("leaf"), r["id"]
                        )
                        for d in row["disputes"]
                        if d.get("id")
                    ),
                    key=lambda d: (d.ts, d.id),
                )
            ),
            leaf_index=r.get("leaf"),
            trusted=trusted,
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
    store: GraphStore,
    kinds: Sequence[EntityKind],
    *,
    text: str,
    limit: int,
    after: tuple[str, str] | None = None,
) -> Slice[EntityInfo]:
    """Entities of ``kinds`` whose name contains ``text``, by (name, id), after the
    (name, id) ``after``: one read per kind, merged."""
    after_name, after_id = after if after is not None else (None, None)
    found = [
        _entity(row)
        for k in kinds
        for row in store.read(
            cypher.SEARCH_ENTITIES[k],
            text=text,
            limit=limit + 1,
            after_name=after_name,
            after_id=after_id,
        )
    ]
    return Slice.of(sorted(found, key=lambda e: (e.name, e.id)), limit)


def count_search(store: GraphStore, text: str, kinds: Sequence[EntityKind]) -> int:
    return sum(int(store.read(cypher.SEARCH_COUNT[k], text=text)[0]["n"]) for k in kinds)
