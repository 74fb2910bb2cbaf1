"""Named settings kept in the store for every replica (``Meta`` nodes): the evidence
rules the running sums were made with, the trusted seeds an administrator set."""

from __future__ import annotations

from graphsvc.store import cypher
from graphsvc.store.graph_store import GraphStore


def get_meta(store: GraphStore, key: str) -> str | None:
    rows = store.read(cypher.GET_META, id=key)
    if not rows:
        return None
    value = rows[0]["value"]
    return None if value is None else str(value)


def set_meta(store: GraphStore, key: str, value: str) -> None:
    store.write_one(cypher.SET_META, id=key, value=value)
