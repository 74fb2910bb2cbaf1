"""A tiny signed network for store and API tests: one of each party, records on demand."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from graphsvc.domain import EntityKind, FaultParty, ProofType, Verdict
from graphsvc.records import builder
from graphsvc.records.builder import Actor, sha256_hex

T0 = 1_767_225_600_000  # 2026-01-01T00:00:00Z
# The witnesses the test networks register (wit-0 ... wit-3): the operator of a test
# network trusts its own witnesses, as the demo does (docs/decisions/0070-standing.md), so the
# suite runs with them as GRAPHSVC_SEEDS (tests/conftest.py).
TEST_SEEDS = tuple(Actor.derived(f"wit-{i}", EntityKind.WITNESS).id for i in range(4))
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


@dataclass
class SignedNetwork:
    """A seeded multi-party network as signed records, for store-level scoring tests."""

    providers: list[Actor]
    models: dict[str, Actor]  # model name -> provider
    nodes: list[Actor]
    witnesses: list[Actor]
    requesters: list[Actor]
    records: list[dict[str, Any]]
    receipts: list[tuple[dict[str, Any], str, Actor]]  # (record, model, node)


def signed_network(
    seed: int, *, receipts: int = 120, days: int = 30, attest_every: int = 3
) -> SignedNetwork:
    """Requesters co-sign receipts on random (model, node) pairs; witnesses attest some."""
    import random

    rng = random.Random(seed)
    providers = [Actor.derived(f"prov-{i}", EntityKind.PROVIDER) for i in range(2)]
    nodes = [Actor.derived(f"node-{i}", EntityKind.NODE) for i in range(4)]
    witnesses = [Actor.derived(f"wit-{i}", EntityKind.WITNESS) for i in range(3)]
    requesters = [Actor.derived(f"req-{i}", EntityKind.REQUESTER) for i in range(6)]
    models = {f"prov-{i % 2}/model-{i}@1": providers[i % 2] for i in range(4)}
    records = [builder.register(a, T0) for a in [*providers, *nodes, *witnesses, *requesters]]
    records += [
        builder.publish_model(p, name, f"{i:064x}", T0 + 1)
        for i, (name, p) in enumerate(models.items())
    ]
    made: list[tuple[dict[str, Any], str, Actor]] = []
    span = days * 86_400_000
    for n in range(receipts):
        model = rng.choice(sorted(models))
        node = rng.choice(nodes)
        ts = T0 + 10 + (span * n) // receipts
        receipt = builder.receipt(
            node,
            model,
            sha256_hex(f"in-{seed}-{n}"),
            sha256_hex(f"out-{seed}-{n}"),
            ts,
            proof=rng.choice(list(ProofType)),
            requester=rng.choice(requesters),
        )
        records.append(receipt)
        made.append((receipt, model, node))
        if n % attest_every == 0:
            witness = witnesses[n % len(witnesses)]
            records.append(
                builder.attestation(witness, builder.record_id(receipt), Verdict.VALID, ts + 5)
            )
    return SignedNetwork(providers, models, nodes, witnesses, requesters, records, made)
