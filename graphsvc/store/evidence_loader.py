"""Read what the scorer needs from the store, by ingest batch: every entity, invalid
verdict and dispute stamped with a batch after the one the scorer's kept evidence is
current to, every evidence sum those batches list as changed (as it stands now), and
every vote on the receipts those concern.

Never the receipts themselves, and never one list that grows with the store: a read asks
for as many batches as keep its lists well under ArcadeDB's cap on one ``collect()``.
"""

from __future__ import annotations

import uuid
from collections import defaultdict

from graphsvc.scoring.evidence_state import EvidenceChanges, EvidenceState, Vote
from graphsvc.store import cypher
from graphsvc.store.graph_store import GraphStore, Statement
from graphsvc.store.stats import ingest_counter

# ArcadeDB refuses a collect() of more than 524,288 elements.
MAX_LIST = 400_000
# A record adds at most two evidence rows (a receipt: requester -> model and -> node; an
# attestation: witness -> node and -> model) or one entity.
ROWS_PER_RECORD = 2
# Votes are read for this many receipts at a time (a receipt has a handful of votes).
RECEIPTS_PER_READ = 25_000


def store_id(store: GraphStore) -> str:
    """The store's random id, given at its first use."""
    found = store.read(cypher.GET_META, id="store")
    if found and found[0]["value"]:
        return str(found[0]["value"])
    return str(store.write_one(cypher.STORE_ID, new_id=uuid.uuid4().hex)[0]["id"])


def batches_per_read(largest_batch: int) -> int:
    """How many batches one read may cover, given the most records a batch accepted."""
    return max(1, MAX_LIST // (ROWS_PER_RECORD * max(largest_batch, 1)))


def read_all(store: GraphStore, to_batch: int | None = None) -> EvidenceState:
    """Everything the scorer needs, read afresh up to ``to_batch`` (default: the newest)."""
    counter = ingest_counter(store)
    kept = EvidenceState(store_id(store))
    last = counter.batches if to_batch is None else to_batch
    kept.apply(read_changes(store, kept.batch, last, largest_batch=counter.largest_batch or 1))
    return kept


def read_changes(
    store: GraphStore, after_batch: int, to_batch: int, *, largest_batch: int
) -> EvidenceChanges:
    """What the batches after ``after_batch`` up to ``to_batch`` changed
    (``after_batch=-1`` reads everything)."""
    changes = EvidenceChanges(from_batch=after_batch, to_batch=to_batch)
    touched: set[str] = set()
    step = batches_per_read(largest_batch)
    for start in range(after_batch + 1, to_batch + 1, step):
        batches = {"batches": list(range(start, min(start + step, to_batch + 1)))}
        entities, edges, accusations, voted, disputes = store.read_many(
            [
                Statement(cypher.ENTITIES_IN_BATCHES, batches),
                Statement(cypher.EVIDENCE_IN_BATCHES, batches),
                Statement(cypher.ACCUSATIONS_IN_BATCHES, batches),
                Statement(cypher.VOTED_RECEIPTS_IN_BATCHES, batches),
                Statement(cypher.DISPUTES_IN_BATCHES, batches),
            ]
        )
        columns = entities[0]
        changes.entity_id += columns["id"]
        changes.entity_kind += columns["kind"]
        changes.entity_provider += columns["provider"]
        columns = edges[0]
        changes.edge_src += columns["src"]
        changes.edge_dst += columns["dst"]
        changes.edge_channel += columns["channel"]
        changes.edge_ref_ms += columns["ref_ms"]
        changes.edge_amount += columns["amount"]
        columns = accusations[0]
        changes.accusations.update(
            (i, (r, w, p, int(t), float(s)))
            for i, r, w, p, t, s in zip(
                columns["id"],
                columns["receipt"],
                columns["witness"],
                columns["party"],
                columns["ts"],
                columns["score"],
                strict=True,
            )
        )
        columns = disputes[0]
        changes.claims.update(
            (i, (r, q, int(t)))
            for i, r, q, t in zip(
                columns["id"], columns["receipt"], columns["requester"], columns["ts"], strict=True
            )
        )
        touched.update(voted[0]["id"])
    touched.update(receipt for receipt, _, _ in changes.claims.values())
    changes.votes = _votes(store, sorted(touched))
    return changes


def _votes(store: GraphStore, receipts: list[str]) -> dict[str, tuple[Vote, ...]]:
    """Every vote on each of ``receipts`` (an empty tuple for a receipt without any)."""
    found: dict[str, list[Vote]] = defaultdict(list)
    for start in range(0, len(receipts), RECEIPTS_PER_READ):
        part = receipts[start : start + RECEIPTS_PER_READ]
        columns = store.read(cypher.VOTES_ON_RECEIPTS, receipts=part)[0]
        for r, w, v, t in zip(
            columns["receipt"], columns["witness"], columns["verdict"], columns["ts"], strict=True
        ):
            found[r].append((w, v, int(t)))
    return {r: tuple(found.get(r, ())) for r in receipts}
