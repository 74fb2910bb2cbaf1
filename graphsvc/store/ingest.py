"""Batch ingest: validate, resolve against the store, write in one transaction, answer.

A batch is acknowledged only after its transaction has committed, so an accepted
record is durable before anyone hears it was accepted.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import neo4j

from graphsvc.domain import EntityKind, RecordType
from graphsvc.records import Record, RecordError, record_id, validate_record
from graphsvc.store import cypher
from graphsvc.store.graph_store import GraphStore, Statement
from graphsvc.store.resolution import (
    EvidenceRules,
    KnownEntity,
    KnownReceipt,
    KnownState,
    RecordResult,
    RecordStatus,
    Resolver,
    WritePlan,
    claim_key,
    vote_key,
)

__all__ = ["EvidenceRulesMismatch", "Ingestor", "RecordResult", "RecordStatus", "now_ms"]

_RULES_META = "evidence_rules"


class EvidenceRulesMismatch(RuntimeError):
    """The store's evidence sums were made with other rules than the ones configured."""


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def _best_effort_id(raw: object) -> str | None:
    if not isinstance(raw, Mapping):
        return None
    try:
        return record_id(raw)
    except Exception:
        return None


@dataclass
class _Checked:
    """A batch after the stateless checks, before resolution against the store."""

    size: int
    now: int
    results: dict[int, RecordResult] = field(default_factory=dict)  # rejected, repeated
    valid: list[tuple[int, Record]] = field(default_factory=list)


class Ingestor:
    def __init__(
        self, store: GraphStore, rules: EvidenceRules, *, clock: Callable[[], int] = now_ms
    ) -> None:
        self._store = store
        self._rules = rules
        self._clock = clock
        # Resolution reads then writes; one batch at a time per process keeps that
        # consistent. Other processes are caught by the unique constraints (retry).
        self._lock = threading.Lock()

    def ensure_rules(self) -> None:
        """Record the evidence rules on first use; refuse a store summed with others."""
        wanted = _rules_value(self._rules)
        rows = self._store.read(cypher.GET_META, id=_RULES_META)
        if not rows or rows[0]["value"] is None:
            self._store.write_one(cypher.SET_META, id=_RULES_META, value=wanted)
        elif rows[0]["value"] != wanted:
            raise EvidenceRulesMismatch(
                f"the store's evidence was summed with {rows[0]['value']}, but the settings say "
                f"{wanted}; use the store's half-life and proof weights"
            )

    def submit(self, raws: Sequence[object]) -> list[RecordResult]:
        """Ingest one batch in one transaction; one result per record, in input order.

        The results come back after the commit: an accepted record is durable.
        """
        return self._store_checked(self._check(raws))

    def submit_many(self, batches: Iterable[Sequence[object]]) -> Iterator[list[RecordResult]]:
        """:meth:`submit` each batch in turn, checking the next batch while one is stored.

        Each batch is still its own transaction, resolved after the previous one has
        committed, and its results are yielded after its commit, so the outcome is the
        same as calling :meth:`submit` batch by batch. Only the stateless checks
        (schemas, signatures) of batch k+1 run in a worker thread while batch k is
        resolved and written: libsodium releases the GIL, and the database works on the
        other core.
        """
        with ThreadPoolExecutor(1, thread_name_prefix="graphsvc-check") as pool:
            pending: Future[_Checked] | None = None
            for batch in batches:
                upcoming = pool.submit(self._check, batch)
                if pending is not None:
                    yield self._store_checked(pending.result())
                pending = upcoming
            if pending is not None:
                yield self._store_checked(pending.result())

    def _check(self, raws: Sequence[object]) -> _Checked:
        """Validate each record on its own and drop repeats within the batch."""
        checked = _Checked(size=len(raws), now=self._clock())
        first_index: dict[str, int] = {}
        for index, raw in enumerate(raws):
            try:
                record = validate_record(raw, now_ms=checked.now)
            except RecordError as error:
                checked.results[index] = RecordResult(
                    index, _best_effort_id(raw), RecordStatus.REJECTED, str(error)
                )
                continue
            if record.id in first_index:
                checked.results[index] = RecordResult(
                    index,
                    record.id,
                    RecordStatus.DUPLICATE,
                    f"same record as index {first_index[record.id]}",
                )
                continue
            first_index[record.id] = index
            checked.valid.append((index, record))
        return checked

    def _store_checked(self, checked: _Checked) -> list[RecordResult]:
        results = checked.results
        if checked.valid:
            for result in self._resolve_and_write(checked.valid, checked.now):
                results[result.index] = result
        return [results[index] for index in range(checked.size)]

    def _resolve_and_write(self, records: list[tuple[int, Record]], now: int) -> list[RecordResult]:
        with self._lock:
            for attempt in range(3):
                resolver = Resolver(self._known_state(records), self._rules)
                results = resolver.resolve(records)
                try:
                    self._store.write(self._statements(resolver.plan, now))
                except neo4j.exceptions.ConstraintError:
                    # Another process wrote one of these records meanwhile: resolve again
                    # against what it wrote.
                    if attempt == 2:
                        raise
                    continue
                return results
        raise AssertionError("unreachable")

    def _known_state(self, records: list[tuple[int, Record]]) -> KnownState:
        entity_ids: set[str] = set()
        receipt_ids: set[str] = set()
        attestation_ids: list[str] = []
        dispute_ids: list[str] = []
        votes: list[str] = []
        claims: list[str] = []
        outputs: set[str] = set()
        for _, record in records:
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
        ]
        needed = [s for s in lookups if next(iter(s.params.values()))]
        answers = dict(zip((s.query for s in needed), self._store.read_many(needed), strict=True))

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
            attestation_ids={r["id"] for r in rows(cypher.EXISTING_ATTESTATION_IDS)},
            dispute_ids={r["id"] for r in rows(cypher.EXISTING_DISPUTE_IDS)},
            votes={r["key"] for r in rows(cypher.EXISTING_VOTES)},
            claims={r["key"] for r in rows(cypher.EXISTING_CLAIMS)},
            outputs={r["id"] for r in rows(cypher.EXISTING_OUTPUTS)},
        )

    def _statements(self, plan: WritePlan, now: int) -> list[Statement]:
        statements = [
            Statement(cypher.CREATE_ENTITIES[kind], {"rows": rows})
            for kind, rows in sorted(plan.entities.items())
        ]
        half_life = {"half_life_ms": float(self._rules.half_life_ms)}
        statements += [
            Statement(cypher.CREATE_MODELS, {"rows": plan.models}),
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
                {
                    "rows": [
                        {"output": o, "requester": q} for o, q in sorted(plan.output_requesters)
                    ]
                },
            ),
            Statement(cypher.CREATE_ATTESTATIONS, {"rows": plan.attestations}),
            Statement(
                cypher.COUNT_VOTES,
                {
                    "rows": [
                        {"receipt": r, "valid": v, "invalid": i}
                        for r, (v, i) in sorted(plan.votes.items())
                    ]
                },
            ),
            Statement(cypher.CREATE_DISPUTES, {"rows": plan.disputes}),
            Statement(cypher.MERGE_EVIDENCE, {"rows": plan.evidence_rows(), **half_life}),
            Statement(cypher.COUNT_PROOFS, {"rows": plan.proof_rows()}),
        ]
        if plan.accepted:
            # First, so later statements see this batch's number (attestations keep it).
            bump = Statement(cypher.BUMP_INGEST_COUNTER, {"accepted": plan.accepted, "now_ms": now})
            statements.insert(0, bump)
        return statements


def _rules_value(rules: EvidenceRules) -> str:
    weights = ",".join(f"{k}={v!r}" for k, v in sorted(rules.proof_weights.items()))
    return f"half_life_ms={float(rules.half_life_ms)!r};proof_weights={weights}"
