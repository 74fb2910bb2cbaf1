"""A tiny signed network for store and API tests: one of each party, records on demand."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from graphsvc.domain import EntityKind, FaultParty, ProofType, Verdict
from graphsvc.records import builder
from graphsvc.records.builder import Actor, sha256_hex

T0 = 1_767_225_600_000  # 2026-01-01T00:00:00Z
MODEL = "acme/llama-3-8b@1"


@dataclass
class Network:
    provider: Actor = field(default_factory=lambda: Actor.derived("acme", EntityKind.PROVIDER))
    node: Actor = field(default_factory=lambda: Actor.derived("node-1", EntityKind.NODE))
    node2: Actor = field(default_factory=lambda: Actor.derived("node-2", EntityKind.NODE))
    witness: Actor = field(default_factory=lambda: Actor.derived("wit-1", EntityKind.WITNESS))
    witness2: Actor = field(default_factory=lambda: Actor.derived("wit-2", EntityKind.WITNESS))
    requester: Actor = field(default_factory=lambda: Actor.derived("alice", EntityKind.REQUESTER))

    def actors(self) -> list[Actor]:
        return [self.provider, self.node, self.node2, self.witness, self.witness2, self.requester]

    def registrations(self) -> list[dict[str, Any]]:
        return [builder.register(a, T0) for a in self.actors()]

    def model(self, name: str = MODEL) -> dict[str, Any]:
        return builder.publish_model(self.provider, name, "0" * 64, T0 + 1)

    def receipt(
        self,
        n: int = 0,
        *,
        node: Actor | None = None,
        cosigned: bool = True,
        proof: ProofType = ProofType.TEE,
        output: str | None = None,
        ts: int | None = None,
    ) -> dict[str, Any]:
        return builder.receipt(
            node or self.node,
            MODEL,
            sha256_hex(f"in-{n}"),
            output or sha256_hex(f"out-{n}"),
            ts if ts is not None else T0 + 10 + n,
            proof=proof,
            requester=self.requester if cosigned else None,
        )

    def attest(
        self,
        receipt_id: str,
        verdict: Verdict = Verdict.VALID,
        *,
        witness: Actor | None = None,
        fault: FaultParty | None = None,
        ts: int = T0 + 100_000,
    ) -> dict[str, Any]:
        return builder.attestation(witness or self.witness, receipt_id, verdict, ts, fault=fault)

    def dispute(self, receipt_id: str, ts: int = T0 + 200_000) -> dict[str, Any]:
        return builder.dispute(self.requester, receipt_id, "wrong answer", ts)

    def basics(self) -> list[dict[str, Any]]:
        return [*self.registrations(), self.model()]
