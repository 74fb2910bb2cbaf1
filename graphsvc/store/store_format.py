"""The store's format version, kept in its ``Meta``: a store is read only by a graphsvc
that writes the same format (docs/decisions/0079-store-format.md)."""

from __future__ import annotations

from graphsvc.store import cypher
from graphsvc.store.graph_store import GraphStore
from graphsvc.store.meta import get_meta, set_meta

# Bump on any change to what is stored (nodes, properties, shards, the kept evidence):
# before the first release no upgrade code is written, so another version is refused.
# 2: stored ranks are competition ranks (docs/decisions/0082-tied-ranks.md); 3: evidence
# sums carry no batch number, each batch lists the sums it changed
# (docs/decisions/0086-evidence-changes-listed-per-batch.md); 4: an attestation keeps its
# score (docs/decisions/0089-graded-verdicts.md).
STORE_FORMAT = 4
STORE_FORMAT_META = "store_format"


class StoreFormatMismatch(RuntimeError):
    """The store was written by a graphsvc of another store format."""


def ensure_store_format(store: GraphStore) -> None:
    """Stamp an empty store with this format; refuse a store of any other, in one line."""
    stored = get_meta(store, STORE_FORMAT_META)
    if stored == str(STORE_FORMAT):
        return
    if stored is None and not store.read(cypher.ANY_NODE):
        set_meta(store, STORE_FORMAT_META, str(STORE_FORMAT))
        return
    found = "an unversioned format" if stored is None else f"format {stored}"
    raise StoreFormatMismatch(
        f"the store holds {found}, but this graphsvc reads and writes format {STORE_FORMAT} "
        "only; start on an empty data directory (or database) and ingest the records again"
    )
