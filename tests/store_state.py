"""A digest of everything in the store, to show that bad input changed nothing."""

from __future__ import annotations

import hashlib
import json

from graphsvc.store.graph_store import GraphStore

_NODES = "MATCH (n) RETURN labels(n) AS labels, properties(n) AS props"
_EDGES = (
    "MATCH (a)-[r]->(b) RETURN type(r) AS type, properties(r) AS props, a.id AS src, b.id AS dst"
)


def store_digest(store: GraphStore) -> tuple[int, int, str]:
    """(nodes, relationships, sha256 of every node's and relationship's properties):
    counts, evidence sums and ingest counters included."""
    nodes = sorted(json.dumps(row, sort_keys=True, default=str) for row in store.read(_NODES))
    edges = sorted(json.dumps(row, sort_keys=True, default=str) for row in store.read(_EDGES))
    digest = hashlib.sha256("\n".join([*nodes, "--", *edges]).encode()).hexdigest()
    return len(nodes), len(edges), digest
