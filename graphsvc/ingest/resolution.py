"""Decide each validated record's fate against what the store already holds.

Pure: the reads happen before (:class:`KnownState`), the writes after (:class:`WritePlan`),
so the attribution rule is tested without a database. Records are resolved in
dependency order (register, model, receipt, attestation/dispute), and each accepted
record is added to the known state at once, so references within one batch resolve.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from graphsvc.domain import (
    DEPENDENCY_ORDER,
    SIGNER_KIND,
    EntityKind,
    FaultParty,
    ProofStatus,
    ProofType,
    RecordType,
    Verdict,
)
from graphsvc.domain.batch import (
    DecayedSum,
    KnownEnclave,
    KnownEntity,
    KnownReceipt,
    KnownState,
    WritePlan,
    claim_key,
    vote_key,
)
from graphsvc.domain.outcomes import RecordResult, RecordStatus
from graphsvc.domain.votes import verdict_score
from graphsvc.proofs import (
    ProofFailure,
    gateway_message,
    keccak256,
    load_enclave_key,
    verify_gateway_signature,
)
from graphsvc.records import Record, RecordError, canonical_bytes
from graphsvc.records.enclaves import EnclaveFacts, gateway_model, image_key
from graphsvc.scoring.evidence import Channel
from graphsvc.scoring.params import ScoringParams
from graphsvc.tlog.merkle import leaf_hash

# Evidence rows name their channel by the enum member, lower-cased.
COSIGN = Channel.COSIGN.name.lower()
ATTEST = Channel.ATTEST.name.lower()


@dataclass(frozen=True)
class EvidenceRules:
    """How records become evidence at ingest (docs/reference.md#reputation)."""

    half_life_ms: float
    proof_weights: Mapping[ProofType, float]

    @classmethod
    def of(cls, params: ScoringParams) -> EvidenceRules:
        """The rules the scoring parameters imply: their half-life and proof weights."""
        return cls(
            half_life_ms=params.half_life_ms,
            proof_weights={proof: params.proof_weight(proof.value) for proof in ProofType},
        )


def enclave_status(enclave: KnownEnclave) -> ProofStatus:
    """What a verified signature of ``enclave`` makes a proof: VERIFIED, unless the enclave
    runs in debug mode (its measurements prove nothing), then CLAIMED."""
    return ProofStatus.CLAIMED if enclave.debug else ProofStatus.VERIFIED


def stored_record(record: Record) -> str:
    """The signed record as stored (its RFC 8785 form), so anyone can re-verify it later."""
    return _signed(record).decode("utf-8")


def record_leaf_hash(record: Record) -> bytes:
    """The record's leaf hash in the log: RFC 6962 over its RFC 8785 bytes, `sig` included."""
    return leaf_hash(_signed(record))


def _signed(record: Record) -> bytes:
    # validate_record computes them with the record's other forms; a Record made
    # otherwise (a test's) has them computed here.
    return record.signed or canonical_bytes(record.body, without=())


class Resolver:
    def __init__(self, state: KnownState, rules: EvidenceRules) -> None:
        self.state = state
        self.rules = rules
        self.plan = WritePlan()

    def resolve(self, records: Iterable[tuple[int, Record]]) -> list[RecordResult]:
        ordered = sorted(records, key=lambda item: (DEPENDENCY_ORDER[item[1].type], item[0]))
        results = []
        for index, record in ordered:
            try:
                duplicate = self._resolve_one(record)
            except RecordError as rejection:
                results.append(
                    RecordResult(index, record.id, RecordStatus.REJECTED, str(rejection))
                )
                continue
            status = RecordStatus.DUPLICATE if duplicate else RecordStatus.ACCEPTED
            if not duplicate:
                self.plan.accepted += 1
            results.append(RecordResult(index, record.id, status))
        return results

    # Each handler returns True for a duplicate, raises RecordError, or plans the writes.
    def _resolve_one(self, record: Record) -> bool:
        handler = {
            RecordType.REGISTER: self._register,
            RecordType.MODEL: self._model,
            RecordType.RECEIPT: self._receipt,
            RecordType.ATTESTATION: self._attestation,
            RecordType.DISPUTE: self._dispute,
            RecordType.IMAGE: self._image,
            RecordType.ENCLAVE: self._enclave,
            RecordType.OPENGRADIENT: self._gateway_receipt,
        }[record.type]
        return handler(record)

    def _require_kind(self, entity_id: str, kind: EntityKind, field_name: str) -> None:
        known = self.state.entities.get(entity_id)
        if known is None:
            raise RecordError(field_name, f"unknown {kind}: {entity_id} has not registered")
        if known.kind != kind:
            raise RecordError(
                field_name, f"{entity_id} is registered as a {known.kind}, not a {kind}"
            )

    def _require_signer(self, record: Record) -> None:
        kind = SIGNER_KIND[record.type]
        if kind is not None:
            self._require_kind(record.signer, kind, "signer")

    def _register(self, record: Record) -> bool:
        kind = EntityKind(record.body["kind"])
        known = self.state.entities.get(record.signer)
        if known is not None:
            if known.record_id == record.id:
                return True
            raise RecordError("signer", f"{record.signer} is already registered as a {known.kind}")
        self.state.entities[record.signer] = KnownEntity(kind, record.id)
        self.plan.entities.setdefault(kind, []).append(
            {
                "id": record.signer,
                "kind": str(kind),
                "name": record.body["name"],
                "ts": record.ts,
                "record_id": record.id,
                "record": stored_record(record),
                "leaf": self.plan.log(record.id, record_leaf_hash(record)),
            }
        )
        return False

    def _model(self, record: Record) -> bool:
        name = record.body["model"]
        known = self.state.entities.get(name)
        if known is not None and known.record_id == record.id:
            return True
        self._require_signer(record)
        if known is not None:
            owner = "this provider" if known.provider == record.signer else known.provider
            raise RecordError("model", f"model {name} is already published by {owner}")
        self.state.entities[name] = KnownEntity(EntityKind.MODEL, record.id, record.signer)
        self.plan.models.append(
            {
                "id": name,
                "digest": record.body["digest"],
                "provider": record.signer,
                "ts": record.ts,
                "record_id": record.id,
                "record": stored_record(record),
                "leaf": self.plan.log(record.id, record_leaf_hash(record)),
            }
        )
        return False

    def _require_model(self, model: str, field_name: str) -> None:
        if self.state.entities.get(model, KnownEntity(EntityKind.NODE, None)).kind != (
            EntityKind.MODEL
        ):
            raise RecordError(field_name, f"unknown model: {model} has no provider `model` record")

    def _receipt(self, record: Record) -> bool:
        if record.id in self.state.receipts:
            return True
        body = record.body
        self._require_signer(record)
        self._require_model(body["model"], "model")
        requester = body.get("requester")
        if requester is not None:
            self._require_kind(requester, EntityKind.REQUESTER, "requester")
        proof = body["proof"]
        enclave = proof.get("enclave")
        status = ProofStatus.CLAIMED
        if enclave is not None:
            status = self._check_enclave_signature(record, proof)
        self._plan_receipt(
            record,
            node=record.signer,
            model=body["model"],
            requester=requester,
            input_hash=body["input_hash"],
            output_hash=body["output_hash"],
            proof_type=proof["type"],
            status=status,
            enclave=enclave,
            measurement=proof.get("measurement"),
        )
        return False

    def _check_enclave_signature(self, record: Record, proof: Mapping[str, str]) -> ProofStatus:
        """A receipt's own proof: its node's registered enclave signed its hashes."""
        enclave = self._known_enclave(proof["enclave"], "proof.enclave")
        if enclave.node != record.signer:
            raise RecordError(
                "proof.enclave", f"enclave {proof['enclave']} is registered by another node"
            )
        if proof["type"] != ProofType.TEE:
            raise RecordError("proof.type", "an enclave's signature proves a tee execution")
        body = record.body
        message = gateway_message(
            keccak256(body["input_hash"].encode("utf-8")),
            keccak256(body["output_hash"].encode("utf-8")),
            record.ts,
        )
        self._verify_enclave(enclave, message, proof["signature"], "proof.signature")
        return enclave_status(enclave)

    def _known_enclave(self, enclave_id: str, field_name: str) -> KnownEnclave:
        enclave = self.state.enclaves.get(enclave_id)
        if enclave is None:
            raise RecordError(field_name, f"unknown enclave: {enclave_id} has not been registered")
        return enclave

    @staticmethod
    def _verify_enclave(
        enclave: KnownEnclave, message: bytes, signature_b64: str, field_name: str
    ) -> None:
        try:
            key = load_enclave_key(enclave.key_der)
            verify_gateway_signature(key, message, base64.b64decode(signature_b64))
        except ProofFailure as failure:
            raise RecordError(field_name, f"bad signature: {failure.reason}") from None

    def _gateway_receipt(self, record: Record) -> bool:
        """An OpenGradient response: its enclave's signature, then a receipt of its node."""
        if record.id in self.state.receipts:
            return True
        body = record.body
        enclave = self._known_enclave(body["tee_id"], "response.tee_id")
        message = gateway_message(
            bytes.fromhex(body["request_hash"]),
            bytes.fromhex(body["output_hash"]),
            body["timestamp"],
        )
        self._verify_enclave(enclave, message, body["signature"], "response.tee_signature")
        model = gateway_model(body["model"])
        self._require_model(model, "request.model")
        self._plan_receipt(
            record,
            node=enclave.node,
            model=model,
            requester=None,
            input_hash=f"keccak256:{body['request_hash']}",
            output_hash=f"keccak256:{body['output_hash']}",
            proof_type=ProofType.TEE.value,
            status=enclave_status(enclave),
            enclave=body["tee_id"],
            measurement=None,
        )
        return False

    def _plan_receipt(
        self,
        record: Record,
        *,
        node: str,
        model: str,
        requester: str | None,
        input_hash: str,
        output_hash: str,
        proof_type: str,
        status: ProofStatus,
        enclave: str | None,
        measurement: str | None,
    ) -> None:
        self.state.receipts[record.id] = KnownReceipt(node, model, requester)
        row = {
            "id": record.id,
            "ts": record.ts,
            "node": node,
            "model": model,
            "requester": requester,
            "input_hash": input_hash,
            "output_hash": output_hash,
            "proof_type": proof_type,
            "proof_status": str(status),
            "enclave": enclave,
            "measurement": measurement,
            "record": stored_record(record),
            "leaf": self.plan.log(record.id, record_leaf_hash(record)),
        }
        if output_hash not in self.state.outputs:
            # The Output starts with this receipt (its first_ts is this ts).
            self.state.outputs.add(output_hash)
            self.plan.output_receipts.append(row)
        else:
            self.plan.receipts.append(row)
            self.plan.output_models.add((output_hash, model))
            self.plan.output_nodes.add((output_hash, node))
            if requester is not None:
                self.plan.output_requesters.add((output_hash, requester))
        key = (model, proof_type, str(status))
        self.plan.proofs[key] = self.plan.proofs.get(key, 0) + 1
        if requester is not None:
            # A claim nobody could check weighs as no proof (docs/reference.md#evidence).
            weighed = ProofType(proof_type) if status is ProofStatus.VERIFIED else ProofType.NONE
            q = self.rules.proof_weights[weighed]
            self._evidence(COSIGN, requester, model, record.ts, q)
            self._evidence(COSIGN, requester, node, record.ts, q)

    def _image(self, record: Record) -> bool:
        if record.id in self.state.image_ids:
            return True
        self._require_signer(record)
        self.state.image_ids.add(record.id)
        body = record.body
        pcrs = body["pcrs"]
        self.plan.images.append(
            {
                "id": record.id,
                "provider": record.signer,
                "platform": body["platform"],
                "name": body["name"],
                "measurements": json.dumps(pcrs, sort_keys=True),
                "image": image_key(body["platform"], pcrs),
                "ts": record.ts,
                "record": stored_record(record),
                "leaf": self.plan.log(record.id, record_leaf_hash(record)),
            }
        )
        return False

    def _enclave(self, record: Record) -> bool:
        facts = record.facts
        assert isinstance(facts, EnclaveFacts)  # validation attached them
        known = self.state.enclaves.get(facts.id)
        if known is not None:
            if known.record_id == record.id:
                return True
            raise RecordError("key", f"enclave {facts.id} is already registered by {known.node}")
        self._require_signer(record)
        self.state.enclaves[facts.id] = KnownEnclave(
            record.signer, facts.key_der, record.id, facts.debug
        )
        self.plan.enclaves.append(
            {
                "id": facts.id,
                "node": record.signer,
                "platform": record.body["platform"],
                "key": record.body["key"],
                "measurements": json.dumps(facts.measurements, sort_keys=True),
                "image": facts.image,
                "debug": facts.debug,
                "root": facts.root,
                "binding": facts.binding,
                "attested_ms": facts.attested_ms,
                "ts": record.ts,
                "record_id": record.id,
                "record": stored_record(record),
                "leaf": self.plan.log(record.id, record_leaf_hash(record)),
            }
        )
        return False

    def _referenced_receipt(self, record: Record) -> KnownReceipt:
        receipt_id = record.body["receipt"]
        receipt = self.state.receipts.get(receipt_id)
        if receipt is None:
            raise RecordError("receipt", f"unknown receipt: {receipt_id}")
        return receipt

    def _attestation(self, record: Record) -> bool:
        if record.id in self.state.attestation_ids:
            return True
        self._require_signer(record)
        receipt = self._referenced_receipt(record)
        body = record.body
        key = vote_key(record.signer, body["receipt"])
        if key in self.state.votes:
            raise RecordError("receipt", "this witness has already attested this receipt")
        self.state.attestation_ids.add(record.id)
        self.state.votes.add(key)
        verdict = Verdict(body["verdict"])
        score = verdict_score(verdict, body.get("score"))
        fault = body.get("fault")
        # The party an `invalid` verdict blames; the scorer decides whether it stands.
        party = None
        if verdict is Verdict.INVALID:
            party = receipt.node if fault == FaultParty.NODE.value else receipt.model
        self.plan.attestations.append(
            {
                "id": record.id,
                "ts": record.ts,
                "witness": record.signer,
                "receipt": body["receipt"],
                "vote": key,
                "verdict": str(verdict),
                "fault": fault,
                "party": party,
                "score": score,
                "note": body.get("note"),
                "record": stored_record(record),
                "leaf": self.plan.log(record.id, record_leaf_hash(record)),
            }
        )
        valid_by, invalid_by = self.plan.votes.setdefault(body["receipt"], ([], []))
        (valid_by if verdict is Verdict.VALID else invalid_by).append(record.signer)
        # A graded verdict is one event: its score is positive evidence on the node and
        # the model, an invalid one's shortfall its claim's fault
        # (docs/decisions/0089-graded-verdicts.md).
        if score > 0.0:
            self._evidence(ATTEST, record.signer, receipt.node, record.ts, score)
            self._evidence(ATTEST, record.signer, receipt.model, record.ts, score)
        return False

    def _dispute(self, record: Record) -> bool:
        if record.id in self.state.dispute_ids:
            return True
        self._require_signer(record)
        self._referenced_receipt(record)
        body = record.body
        key = claim_key(record.signer, body["receipt"])
        if key in self.state.claims:
            raise RecordError("receipt", "this requester has already disputed this receipt")
        self.state.dispute_ids.add(record.id)
        self.state.claims.add(key)
        self.plan.disputes.append(
            {
                "id": record.id,
                "ts": record.ts,
                "requester": record.signer,
                "receipt": body["receipt"],
                "claim": key,
                "reason": body["reason"],
                "record": stored_record(record),
                "leaf": self.plan.log(record.id, record_leaf_hash(record)),
            }
        )
        return False

    def _evidence(self, channel: str, src: str, dst: str, ts: int, q: float) -> None:
        running = self.plan.evidence.get((channel, src, dst))
        if running is None:
            running = self.plan.evidence[(channel, src, dst)] = DecayedSum(ts)
        running.add(ts, q, self.rules.half_life_ms)
