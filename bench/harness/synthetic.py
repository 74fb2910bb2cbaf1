"""A store the size of a large network, written through graphsvc's own write path.

``plans`` yields ``WritePlan`` batches that ``graphsvc.store.ingest_state.write_plan``
writes as ingest would (entity rows as resolution makes them, Evidence sums merged by
``MERGE_EVIDENCE``, batch numbers and counters bumped), shaped like the product: an
entity per 10 evidence rows, requesters -> (model, node) co-signature pairs, 10 % witness
-> node or model attestation rows, heavy-tailed model and node popularity. No receipts,
attestations or disputes are written, so the store holds no faults. ``update`` is what
five minutes of traffic would change: 1/288 of the rows, one more event each.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import math
from collections.abc import Iterator
from typing import Any

import numpy as np

from graphsvc.domain import EntityKind
from graphsvc.domain.batch import DecayedSum, WritePlan
from graphsvc.ingest.resolution import ATTEST, COSIGN
from graphsvc.scoring.evidence import Channel, Evidence

DAY_MS = 86_400_000
ROWS = 50_000  # per plan (one transaction)
RECORD = '{"synthetic":true}'  # stands for the signed registration
# The witnesses whose votes ``receipt_plans`` counts (not registered: only their votes are
# written); a reader that names them its seeds sees the verdicts.
VOTERS = ("ed25519:synthetic-witness-a", "ed25519:synthetic-witness-b")


_RECORDS = itertools.count()


def _accepting(records: int) -> WritePlan:
    """A plan that accepts ``records`` records, each with a leaf in the evidence log (a
    hash of a synthetic id: the log is the store's own, built from its entries)."""
    plan = WritePlan(accepted=records)
    for number in itertools.islice(_RECORDS, records):
        record = f"synthetic:{number}"
        plan.log(record, hashlib.sha256(record.encode()).digest())
    return plan


def signer_ids(rng: np.random.Generator, count: int) -> list[str]:
    """Ids shaped like signer ids (ed25519: and 43 base64url characters), random order."""
    raw = rng.integers(0, 256, (count, 32), dtype=np.uint8)
    return ["ed25519:" + base64.urlsafe_b64encode(row.tobytes()).decode()[:43] for row in raw]


def entity_rows(kind: EntityKind, ids: list[str], ts: int) -> list[dict[str, Any]]:
    """Rows as resolution makes them for registrations."""
    return [
        {"id": e, "kind": str(kind), "name": e[8:20], "ts": ts, "record_id": f"syn:{e}",
         "record": RECORD}
        for e in ids
    ]  # fmt: skip


def plans(rng: np.random.Generator, edges: int, as_of: int) -> Iterator[WritePlan]:
    """The entities (an entity per 10 edges), then ``edges`` distinct Evidence rows with
    events up to 120 days before ``as_of``, in plans of ROWS rows."""
    n = max(edges // 10, 100)
    counts = {EntityKind.PROVIDER: n // 1000 + 2, EntityKind.MODEL: n // 200 + 4,
              EntityKind.NODE: n // 50 + 8, EntityKind.WITNESS: n // 500 + 4}  # fmt: skip
    counts[EntityKind.REQUESTER] = n - sum(counts.values())
    ids = {k: signer_ids(rng, c) for k, c in counts.items()}
    providers, ts = ids[EntityKind.PROVIDER], as_of - 200 * DAY_MS
    owner = rng.integers(0, len(providers), counts[EntityKind.MODEL]).tolist()
    ids[EntityKind.MODEL] = [f"lab-{o}/model-{i}@1" for i, o in enumerate(owner)]
    plan = _accepting(len(providers) + len(owner))
    plan.entities[EntityKind.PROVIDER] = entity_rows(EntityKind.PROVIDER, providers, ts)
    plan.models = [
        {"id": m, "digest": "sha256:0", "provider": providers[o], "ts": ts,
         "record_id": f"syn:{m}", "record": RECORD}
        for m, o in zip(ids[EntityKind.MODEL], owner, strict=True)
    ]  # fmt: skip
    yield plan
    for kind in (EntityKind.NODE, EntityKind.WITNESS, EntityKind.REQUESTER):
        for start in range(0, len(ids[kind]), ROWS):
            part = ids[kind][start : start + ROWS]
            plan = _accepting(len(part))
            plan.entities[kind] = entity_rows(kind, part, ts)
            yield plan
    every = [e for k in EntityKind for e in ids[k]]
    first = np.cumsum([0, *(counts[k] for k in EntityKind)])
    span = {k: np.arange(counts[k]) + first[i] for i, k in enumerate(EntityKind)}
    pairs, attests = int(edges * 0.45 * 1.5), int(edges * 0.1 * 1.5)  # drawn, then deduped
    requester = rng.choice(span[EntityKind.REQUESTER], pairs)
    used = []
    for kind in (EntityKind.MODEL, EntityKind.NODE):
        popular = rng.pareto(1.2, counts[kind]) + 1
        used.append(rng.choice(span[kind], pairs, p=popular / popular.sum()))
    targets = np.concatenate((span[EntityKind.NODE], span[EntityKind.MODEL]))
    src = np.concatenate((requester, requester, rng.choice(span[EntityKind.WITNESS], attests)))
    dst = np.concatenate((*used, rng.choice(targets, attests)))
    channel = np.concatenate((np.zeros(2 * pairs, np.int64), np.ones(attests, np.int64)))
    _, unique = np.unique((src * n + dst) * 2 + channel, return_index=True)
    if len(unique) < edges:
        raise ValueError(f"only {len(unique):,} distinct edges drawn")
    keep = rng.permutation(unique)[:edges]
    src, dst, channel = src[keep], dst[keep], channel[keep]
    ref = as_of - rng.integers(0, 120 * DAY_MS, edges)
    count = rng.integers(1, 20, edges)
    amount = rng.choice(np.array([0.5, 1.0]), edges) * count
    for start in range(0, edges, ROWS):
        rows = slice(start, start + ROWS)
        plan = _accepting(math.ceil(len(src[rows]) / 2))  # a receipt adds two rows
        plan.evidence = {
            (ATTEST if c else COSIGN, every[a], every[b]): DecayedSum(r, q, k)
            for a, b, c, r, q, k in zip(
                src[rows].tolist(), dst[rows].tolist(), channel[rows].tolist(),
                ref[rows].tolist(), amount[rows].tolist(), count[rows].tolist(), strict=True,
            )
        }  # fmt: skip
        yield plan


def update(evidence: Evidence, rng: np.random.Generator, start: int, span: int) -> WritePlan:
    """One more event on 1/288 of the rows of ``evidence``, between ``start`` and
    ``start + span`` ms: what five minutes add when a day of traffic touches every row."""
    ids, src, dst = evidence.entity_ids, evidence.edge_src, evidence.edge_dst
    changed = rng.choice(len(src), len(src) // 288, replace=False).tolist()
    plan = _accepting(math.ceil(len(changed) / 2))
    plan.evidence = {
        (ATTEST if evidence.edge_channel[i] == Channel.ATTEST else COSIGN, ids[src[i]],
         ids[dst[i]]): DecayedSum(start + int(rng.integers(0, span)), 1.0, 1)
        for i in changed
    }  # fmt: skip
    return plan


RECEIPT_ROWS = 20_000  # receipts per plan (one transaction)


def receipt_plans(
    rng: np.random.Generator, receipts: int, busy_share: float, as_of: int, nodes: int = 100
) -> Iterator[WritePlan]:
    """A network of ``receipts`` receipts over 30 days before ``as_of`` for a list of an
    entity's receipts: node 0 signs ``busy_share`` of them, the other ``nodes - 1`` the
    rest; 10 models of one provider, 1,000 requesters; one receipt in ten carries
    witness votes (the voters only, as ``COUNT_VOTES`` keeps them, by the two
    ``VOTERS``: 80 % valid, 10 % invalid, 10 % a tie; name them the seeds to see these
    verdicts). No attestation or evidence rows: the list reads receipts only.
    """
    ts0 = as_of - 200 * DAY_MS
    provider = signer_ids(rng, 1)
    node_ids, requester_ids = signer_ids(rng, nodes), signer_ids(rng, 1000)
    models = [f"lab-0/model-{i}@1" for i in range(10)]
    plan = _accepting(1 + len(models))
    plan.entities[EntityKind.PROVIDER] = entity_rows(EntityKind.PROVIDER, provider, ts0)
    plan.models = [
        {"id": m, "digest": "sha256:0", "provider": provider[0], "ts": ts0,
         "record_id": f"syn:{m}", "record": RECORD}
        for m in models
    ]  # fmt: skip
    yield plan
    plan = _accepting(nodes + len(requester_ids))
    plan.entities[EntityKind.NODE] = entity_rows(EntityKind.NODE, node_ids, ts0)
    plan.entities[EntityKind.REQUESTER] = entity_rows(EntityKind.REQUESTER, requester_ids, ts0)
    yield plan
    busy = rng.random(receipts) < busy_share
    signer = np.where(busy, 0, rng.integers(1, nodes, receipts))
    stamps = np.sort(as_of - rng.integers(0, 30 * DAY_MS, receipts))
    model = rng.integers(0, len(models), receipts)
    requester = rng.integers(0, len(requester_ids), receipts)
    voted = rng.random(receipts)
    for start in range(0, receipts, RECEIPT_ROWS):
        plan = WritePlan()
        for i in range(start, min(start + RECEIPT_ROWS, receipts)):
            rid = hashlib.sha256(f"receipt:{i}".encode()).hexdigest()
            plan.output_receipts.append(
                {"id": rid, "ts": int(stamps[i]), "node": node_ids[signer[i]],
                 "model": models[model[i]], "requester": requester_ids[requester[i]],
                 "input_hash": rid, "output_hash": "out:" + rid, "proof_type": "none",
                 "measurement": None, "record": RECORD,
                 "leaf": plan.log(rid, hashlib.sha256(rid.encode()).digest())}
            )  # fmt: skip
            if voted[i] < 0.1:
                a, b = VOTERS
                plan.votes[rid] = (
                    ([a], []) if voted[i] < 0.08 else ([], [a]) if voted[i] < 0.09 else ([a], [b])
                )
        plan.accepted = len(plan.output_receipts)
        yield plan
