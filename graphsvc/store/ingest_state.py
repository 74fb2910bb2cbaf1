"""The store's side of ingest: read what a batch's records touch, write a batch's plan.

Resolution (``graphsvc.ingest.resolution``) decides between the two without a
database; these functions are its only reads and writes.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import Any

from graphsvc.domain import EntityKind, RecordType
from graphsvc.domain.batch import (
    KnownEnclave,
    KnownEntity,
    KnownReceipt,
    KnownState,
    WritePlan,
    claim_key,
    vote_key,
)
from graphsvc.records import Record
from graphsvc.records.enclaves import EnclaveFacts, gateway_model
from graphsvc.store import cypher
from graphsvc.store.graph_store import GraphStore, Statement


def known_state(store: GraphStore, records: Sequence[Record]) -> KnownState:
    """What the store holds that ``records`` refer to or collide with, in one read."""
    entity_ids: set[str] = set()
    receipt_ids: set[str] = set()
    attestation_ids: list[str] = []
    dispute_ids: list[str] = []
    votes: list[str] = []
    claims: list[str] = []
    outputs: set[str] = set()
    enclave_ids: set[str] = set()
    image_ids: list[str] = []
    for record in records:
        body = record.body
        entity_ids.add(record.signer)
        if record.type is RecordType.MODEL:
            entity_ids.add(body["model"])
        elif record.type is RecordType.RECEIPT:
            receipt_ids.add(record.id)
            entity_ids.add(body["model"])
            if "requester" in body:
                entity_ids.add(body["requester"])
            outputs.add(body["output_hash"])
            if "enclave" in body["proof"]:
                enclave_ids.add(body["proof"]["enclave"])
        elif record.type is RecordType.OPENGRADIENT:
            receipt_ids.add(record.id)
            entity_ids.add(gateway_model(body["model"]))
            outputs.add(f"keccak256:{body['output_hash']}")
            enclave_ids.add(body["tee_id"])
        elif record.type is RecordType.ENCLAVE:
            assert isinstance(record.facts, EnclaveFacts)
            enclave_ids.add(record.facts.id)
        elif record.type is RecordType.IMAGE:
            image_ids.append(record.id)
        elif record.type is RecordType.ATTESTATION:
            receipt_ids.add(body["receipt"])
            attestation_ids.append(record.id)
            votes.append(vote_key(record.signer, body["receipt"]))
        elif record.type is RecordType.DISPUTE:
            receipt_ids.add(body["receipt"])
            dispute_ids.append(record.id)
            claims.append(claim_key(record.signer, body["receipt"]))

    lookups = [
        Statement(cypher.ENTITIES_BY_ID, {"ids": sorted(entity_ids)}),
        Statement(cypher.RECEIPTS_BY_ID, {"ids": sorted(receipt_ids)}),
        Statement(cypher.EXISTING_ATTESTATION_IDS, {"ids": attestation_ids}),
        Statement(cypher.EXISTING_DISPUTE_IDS, {"ids": dispute_ids}),
        Statement(cypher.EXISTING_VOTES, {"keys": votes}),
        Statement(cypher.EXISTING_CLAIMS, {"keys": claims}),
        Statement(cypher.EXISTING_OUTPUTS, {"ids": sorted(outputs)}),
        Statement(cypher.ENCLAVES_BY_ID, {"ids": sorted(enclave_ids)}),
        Statement(cypher.EXISTING_IMAGE_IDS, {"ids": image_ids}),
    ]
    needed = [s for s in lookups if next(iter(s.params.values()))]
    answers = dict(zip((s.query for s in needed), store.read_many(needed), strict=True))

    def rows(query: str) -> list[dict[str, Any]]:
        # Each lookup answers one row holding the list of what it found.
        answer = answers.get(query)
        return list(answer[0]["rows"]) if answer else []

    return KnownState(
        entities={
            r["id"]: KnownEntity(EntityKind(r["kind"]), r["record_id"], r["provider"])
            for r in rows(cypher.ENTITIES_BY_ID)
        },
        receipts={
            r["id"]: KnownReceipt(r["node"], r["model"], r["requester"])
            for r in rows(cypher.RECEIPTS_BY_ID)
        },
        attestation_ids=_stored_ids(
            rows(cypher.EXISTING_ATTESTATION_IDS), rows(cypher.EXISTING_VOTES), attestation_ids
        ),
        dispute_ids=_stored_ids(
            rows(cypher.EXISTING_DISPUTE_IDS), rows(cypher.EXISTING_CLAIMS), dispute_ids
        ),
        votes={r["key"] for r in rows(cypher.EXISTING_VOTES)},
        claims={r["key"] for r in rows(cypher.EXISTING_CLAIMS)},
        outputs={r["id"] for r in rows(cypher.EXISTING_OUTPUTS)},
        enclaves={
            r["id"]: KnownEnclave(
                r["node"], base64.b64decode(r["key"]), r["record_id"], bool(r["debug"])
            )
            for r in rows(cypher.ENCLAVES_BY_ID)
        },
        image_ids={r["id"] for r in rows(cypher.EXISTING_IMAGE_IDS)},
    )


def _stored_ids(
    by_id: list[dict[str, Any]], by_key: list[dict[str, Any]], wanted: list[str]
) -> set[str]:
    """The wanted ids found stored, by id or through their vote (claim) key: another
    writer's commit may fall between the two lookups (see cypher.EXISTING_VOTES)."""
    asked = set(wanted)
    return {r["id"] for r in by_id} | {r["id"] for r in by_key if r["id"] in asked}


def write_plan(store: GraphStore, plan: WritePlan, *, now_ms: int, half_life_ms: float) -> None:
    """Write one batch in one transaction. ``WriteConflict`` when another writer stored
    one of its records first (nothing is written then)."""
    store.write(_statements(plan, now_ms, half_life_ms))


def _statements(plan: WritePlan, now_ms: int, half_life_ms: float) -> list[Statement]:
    statements = [
        Statement(cypher.CREATE_ENTITIES[kind], {"rows": rows})
        for kind, rows in sorted(plan.entities.items())
    ]
    half_life = {"half_life_ms": float(half_life_ms)}
    evidence = plan.evidence_rows()
    statements += [
        Statement(cypher.CREATE_MODELS, {"rows": plan.models}),
        Statement(cypher.CREATE_IMAGES, {"rows": plan.images}),
        Statement(cypher.CREATE_ENCLAVES, {"rows": plan.enclaves}),
        Statement(cypher.CREATE_OUTPUT_RECEIPTS, {"rows": plan.output_receipts}),
        Statement(cypher.CREATE_RECEIPTS, {"rows": plan.receipts}),
        Statement(
            cypher.LINK_OUTPUT_MODEL,
            {"rows": [{"output": o, "model": m} for o, m in sorted(plan.output_models)]},
        ),
        Statement(
            cypher.LINK_OUTPUT_NODE,
            {"rows": [{"output": o, "node": n} for o, n in sorted(plan.output_nodes)]},
        ),
        Statement(
            cypher.LINK_REQUESTER_OUTPUT,
            {"rows": [{"output": o, "requester": q} for o, q in sorted(plan.output_requesters)]},
        ),
        Statement(cypher.CREATE_ATTESTATIONS, {"rows": plan.attestations}),
        Statement(
            cypher.COUNT_VOTES,
            {
                "rows": [
                    {"receipt": r, "valid": sorted(v), "invalid": sorted(i)}
                    for r, (v, i) in sorted(plan.votes.items())
                ]
            },
        ),
        Statement(cypher.CREATE_DISPUTES, {"rows": plan.disputes}),
        Statement(cypher.MERGE_EVIDENCE, {"rows": evidence, **half_life}),
        Statement(cypher.COUNT_PROOFS, {"rows": plan.proof_rows()}),
    ]
    if evidence:
        changed = [row["id"] for row in evidence]
        statements.append(Statement(cypher.CREATE_CHANGED_EVIDENCE, {"ids": changed}))
    if plan.accepted:
        # First, so later statements see this batch's number (attestations keep it) and
        # its first leaf index (every record keeps its own).
        bump = Statement(cypher.BUMP_INGEST_COUNTER, {"accepted": plan.accepted, "now_ms": now_ms})
        statements.insert(0, bump)
        statements.append(
            Statement(
                cypher.CREATE_LOG_ENTRIES,
                {
                    "size": len(plan.leaves),
                    "hashes": base64.b64encode(b"".join(plan.leaves)).decode("ascii"),
                    "ids": plan.leaf_ids,
                },
            )
        )
    return statements
