"""Reads of registered enclaves and the images their measurements match."""

from __future__ import annotations

import json

from graphsvc.domain.entities import EnclaveInfo, ImageInfo
from graphsvc.store import cypher
from graphsvc.store.graph_store import GraphStore


def enclaves(store: GraphStore, ids: list[str]) -> dict[str, EnclaveInfo]:
    """The registered enclaves among ``ids``, by id."""
    found: dict[str, EnclaveInfo] = {}
    for row in store.read(cypher.ENCLAVES_WITH_IMAGES, ids=ids):
        e = row["enclave"]
        images = sorted(
            (ImageInfo(i["name"], i["provider"], i["ts"]) for i in row["images"] if i.get("name")),
            key=lambda image: (image.ts, image.provider),
        )
        found[e["id"]] = EnclaveInfo(
            id=e["id"],
            node=e["node"],
            platform=e["platform"],
            measurements=json.loads(e["measurements"]),
            attested_ms=e["attested_ms"],
            ts=e["ts"],
            debug=bool(e["debug"]),
            root=e["root"],
            binding=e["binding"],
            record_id=e["record_id"],
            image=images[0] if images else None,
        )
    return found


def enclave_ids_of_node(store: GraphStore, node: str, limit: int) -> list[str]:
    """The enclaves a node registered, newest first."""
    return [r["id"] for r in store.read(cypher.ENCLAVES_OF_NODE, node=node, limit=limit)]
