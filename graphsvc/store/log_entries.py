"""The store's side of the evidence log: the leaf hashes each batch wrote, the records at
leaf indexes, a record's leaf index, and records no leaf names (docs/auditors.md)."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from graphsvc.store import cypher
from graphsvc.store.graph_store import GraphStore, Statement

# Batches read per round trip while the log catches up.
_BATCHES_PER_READ = 64


@dataclass(frozen=True)
class LoggedBatch:
    """The leaves one ingest batch appended: from ``first``, one hash and id each."""

    batch: int
    first: int
    hashes: list[bytes]
    ids: list[str]


@dataclass(frozen=True)
class StoredRecord:
    """A record node as the store holds it now, with the leaf index it claims."""

    leaf: int
    id: str
    record: str


def log_size(store: GraphStore) -> int:
    """How many leaves the store's committed batches have appended."""
    rows = store.read(cypher.LOG_SIZE)
    return int(rows[0]["size"]) if rows else 0


def _batch(row: dict[str, Any]) -> LoggedBatch:
    data = base64.b64decode(row["hashes"])
    hashes = [data[i : i + 32] for i in range(0, len(data), 32)]
    if len(hashes) != int(row["size"]) or len(row["ids"]) != len(hashes):
        raise ValueError(f"log entries of batch {row['batch']} do not match their size")
    return LoggedBatch(int(row["batch"]), int(row["first"]), hashes, [str(i) for i in row["ids"]])


def batches_from(store: GraphStore, first: int) -> list[LoggedBatch]:
    """The logged batches whose leaves start at ``first``, then the ones after it (up to
    a few dozen, in order); empty when no batch starts there (yet)."""
    found = store.read(cypher.LOG_ENTRIES_AT, first=first)
    if not found:
        return []
    start = int(found[0]["batch"])
    rows = store.read(
        cypher.LOG_ENTRIES_OF_BATCHES, batches=list(range(start, start + _BATCHES_PER_READ))
    )
    batches = []
    expected = first
    for batch in map(_batch, rows):
        if batch.first != expected:  # a batch that accepted nothing has no entries
            break
        batches.append(batch)
        expected += len(batch.hashes)
    return batches


def batches_until(store: GraphStore, size: int) -> Iterator[LoggedBatch]:
    """Every logged batch with leaves before ``size``, in leaf order."""
    first = 0
    while first < size:
        batches = batches_from(store, first)
        if not batches:
            return
        for batch in batches:
            if batch.first >= size:
                return
            yield batch
            first = batch.first + len(batch.hashes)


def batch_holding(store: GraphStore, leaf: int) -> LoggedBatch | None:
    """The logged batch whose leaves include ``leaf`` (None past the log's end)."""
    rows = store.read(cypher.LOG_ENTRIES_HOLDING, leaf=leaf)
    if not rows:
        return None
    batch = _batch(rows[0])
    return batch if leaf < batch.first + len(batch.hashes) else None


def batches_numbered(store: GraphStore, numbers: list[int]) -> list[LoggedBatch]:
    """The logged batches among ``numbers`` (those that logged nothing are left out)."""
    return [_batch(row) for row in store.read(cypher.LOG_ENTRIES_OF_BATCHES, batches=numbers)]


def size_after_batch(store: GraphStore, batch: int) -> int | None:
    """The log's size once ingest batch ``batch`` committed (0 before the first); None
    for a batch that logged nothing (one written before the log began)."""
    if batch == 0:
        return 0
    rows = store.read(cypher.LOG_ENTRIES_OF_BATCHES, batches=[batch])
    return int(rows[0]["first"]) + int(rows[0]["size"]) if rows else None


def records_at(store: GraphStore, leaves: list[int]) -> dict[int, list[StoredRecord]]:
    """The record nodes claiming each leaf index (normally exactly one)."""
    labels = list(cypher.RECORDS_AT_LEAVES)
    answers = store.read_many(
        [Statement(cypher.RECORDS_AT_LEAVES[label], {"leaves": leaves}) for label in labels]
    )
    found: dict[int, list[StoredRecord]] = {leaf: [] for leaf in leaves}
    for answer in answers:
        for row in answer[0]["rows"] if answer else []:
            found[int(row["leaf"])].append(
                StoredRecord(int(row["leaf"]), str(row["id"]), str(row["record"]))
            )
    return found


def leaf_of_record(store: GraphStore, record_id: str) -> int | None:
    """The leaf index of the record ``record_id``; None if the store has no such record
    (or holds it from before the log)."""
    answers = store.read_many(
        [Statement(query, {"id": record_id}) for query in cypher.LEAF_OF_RECORD.values()]
    )
    for answer in answers:
        for row in answer:
            if row["leaf"] is not None:
                return int(row["leaf"])
    return None


def unlogged_records(store: GraphStore, limit: int) -> list[str]:
    """Ids of up to ``limit`` stored records that no leaf names."""
    answers = store.read_many(
        [Statement(query, {"limit": limit}) for query in cypher.UNLOGGED_RECORDS.values()]
    )
    return [str(row["id"]) for answer in answers for row in answer][:limit]
