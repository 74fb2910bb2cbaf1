"""The trusted seeds of the personalization, as an administrator set them in the store
(shared by every replica), over the ones configured at start."""

from __future__ import annotations

import json
from collections.abc import Sequence

from graphsvc.store import trail
from graphsvc.store.graph_store import GraphStore
from graphsvc.store.meta import get_meta, set_meta

SEEDS_META = "seeds"


def stored_seeds(store: GraphStore) -> tuple[str, ...] | None:
    """The seeds set through the API, or None if none were (or they were cleared)."""
    value = get_meta(store, SEEDS_META)
    if value is None:
        return None
    found = json.loads(value)
    return tuple(found) if found else None


def store_seeds(store: GraphStore, ids: Sequence[str]) -> None:
    """Keep ``ids`` (sorted, unique) as the seeds; an empty list clears them. Every id must
    be a registered entity: ``LookupError`` names the ones that are not."""
    wanted = tuple(sorted(set(ids)))
    known = trail.entities(store, list(wanted))
    unknown = [i for i in wanted if i not in known]
    if unknown:
        raise LookupError(f"unknown seed entities: {', '.join(unknown)}")
    set_meta(store, SEEDS_META, json.dumps(wanted))
