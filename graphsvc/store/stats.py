"""Counts of what the graph holds: network statistics, receipts per model and proof."""

from __future__ import annotations

from dataclasses import dataclass

from graphsvc.domain import PROOF_STRENGTH, EntityKind, ProofType
from graphsvc.store import cypher
from graphsvc.store.graph_store import GraphStore, Statement


@dataclass(frozen=True)
class NetworkCounts:
    entities: dict[EntityKind, int]
    receipts: int
    outputs: int
    attestations: int
    disputes: int
    records: int
    last_ingest_ms: int | None


def network_counts(store: GraphStore) -> NetworkCounts:
    kinds = list(cypher.COUNT_BY_LABEL)
    answers = store.read_many(
        [Statement(cypher.COUNTS, {}), Statement(cypher.INGEST_COUNTER, {})]
        + [Statement(cypher.COUNT_BY_LABEL[k], {}) for k in kinds]
    )
    counts, ingest, *per_kind = answers
    totals = counts[0]
    return NetworkCounts(
        entities={k: int(rows[0]["n"]) for k, rows in zip(kinds, per_kind, strict=True)},
        receipts=int(totals["receipts"]),
        outputs=int(totals["outputs"]),
        attestations=int(totals["attestations"]),
        disputes=int(totals["disputes"]),
        records=int(ingest[0]["records"]) if ingest else 0,
        last_ingest_ms=int(ingest[0]["last_ms"]) if ingest else None,
    )


@dataclass(frozen=True)
class ProofMix:
    """All-time receipts of one model by proof type (kept at ingest)."""

    model: str
    provider: str
    tee: int
    zk: int
    none: int

    @property
    def receipts(self) -> int:
        return self.tee + self.zk + self.none

    def count(self, proof: ProofType) -> int:
        return {ProofType.TEE: self.tee, ProofType.ZK: self.zk, ProofType.NONE: self.none}[proof]

    def share_at_least(self, proof: ProofType) -> float:
        """The share of its receipts whose proof is ``proof`` or stronger (0 if none)."""
        if not self.receipts:
            return 0.0
        floor = PROOF_STRENGTH[proof]
        strong = sum(self.count(p) for p, s in PROOF_STRENGTH.items() if s >= floor)
        return strong / self.receipts


def proof_mixes(store: GraphStore, provider: str | None = None) -> list[ProofMix]:
    """Every model's (or one provider's models') receipts by proof type."""
    return [
        ProofMix(row["model"], row["provider"], int(row["tee"]), int(row["zk"]), int(row["none"]))
        for row in store.read(cypher.MODEL_PROOFS, provider=provider)
    ]
