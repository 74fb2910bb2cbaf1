"""Counts of what the graph holds: the ingest counter, network statistics, receipts per
model and proof."""

from __future__ import annotations

from typing import Any

from graphsvc.domain.entities import IngestCounter, NetworkCounts, ProofMix
from graphsvc.store import cypher
from graphsvc.store.graph_store import GraphStore


def _counter(rows: list[dict[str, Any]]) -> IngestCounter:
    """The counter from its query's rows: none (and zeros) before the first batch."""
    if not rows:
        return IngestCounter()
    row = rows[0]
    last = row["last_ms"]
    return IngestCounter(
        records=int(row["records"] or 0),
        batches=int(row["batches"] or 0),
        last_ingest_ms=None if last is None else int(last),
        largest_batch=None if row.get("largest") is None else int(row["largest"]),
    )


def ingest_counter(store: GraphStore) -> IngestCounter:
    """Accepted records and committed batches so far (zeros for an empty store)."""
    return _counter(store.read(cypher.INGEST_COUNTER))


def network_counts(store: GraphStore) -> NetworkCounts:
    row = store.read(cypher.COUNTS)[0]
    counter = _counter([row])
    return NetworkCounts(
        entities={kind: int(row[column]) for kind, column in cypher.COUNT_COLUMN.items()},
        receipts=int(row["receipts"]),
        outputs=int(row["outputs"]),
        attestations=int(row["attestations"]),
        disputes=int(row["disputes"]),
        records=counter.records,
        last_ingest_ms=counter.last_ingest_ms,
    )


def proof_mixes(store: GraphStore, provider: str | None = None) -> list[ProofMix]:
    """Every model's (or one provider's models') receipts by proof type."""
    return [
        ProofMix(
            row["model"],
            row["provider"],
            int(row["tee"]),
            int(row["zk"]),
            int(row["none"]),
            tee_verified=int(row["tee_verified"]),
            zk_verified=int(row["zk_verified"]),
        )
        for row in store.read(cypher.MODEL_PROOFS, provider=provider)
    ]
