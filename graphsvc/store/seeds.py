"""The trusted seeds of the personalization, as an administrator set them in the store
(shared by every replica), over the ones configured at start."""

from __future__ import annotations

import json
from collections.abc import Sequence

from graphsvc.store import cypher, trail
from graphsvc.store.graph_store import GraphStore

SEEDS_META = "seeds"


def stored_seeds(store: GraphStore) -> tuple[str, ...] | None:
    """The seeds set through the API, or None if none were (or they were cleared)."""
    rows = store.read(cypher.GET_META, id=SEEDS_META)
    if not rows or rows[0]["value"] is None:
        return None
    found = json.loads(rows[0]["value"])
    return tuple(found) if found else None


def store_seeds(store: GraphStore, ids: Sequence[str]) -> None:
    """Keep ``ids`` (sorted, unique) as the seeds; an empty list clears them. Every id must
    be a registered entity: ``LookupError`` names the ones that are not."""
    wanted = tuple(sorted(set(ids)))
    known = trail.entities(store, list(wanted))
    unknown = [i for i in wanted if i not in known]
    if unknown:
        raise LookupError(f"unknown seed entities: {', '.join(unknown)}")
    store.write_one(cypher.SET_META, id=SEEDS_META, value=json.dumps(wanted))
