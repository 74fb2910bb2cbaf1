"""Sign the planned network into records, in dependency order, and write it as NDJSON.

Planning (``world``, ``traffic``, ``verdicts``) is vectorised; this module's loop only
builds and signs records with ``graphsvc.records.builder``. Ed25519 signatures are
deterministic, so the same parameters give byte-identical output.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from graphsvc.demo.network_params import MS_PER_DAY, NetworkParams
from graphsvc.demo.stories import StoryCast
from graphsvc.demo.traffic import NO_REQUESTER, Plan, plan_traffic
from graphsvc.demo.verdict_story import CORRECT, FAULT_OF, MODEL_WRONG, NODE_WRONG, Verdicts, decide
from graphsvc.demo.world import PROOFS, TEE, ZK, World, build_world
from graphsvc.domain import EntityKind, Verdict
from graphsvc.records import builder
from graphsvc.records.builder import Actor, record_id, sha256_hex

Record = dict[str, Any]

# Ties in ts sort receipts before what refers to them (the dependency order of
# docs/reference.md#records).
_RANK = {"register": 0, "model": 1, "receipt": 2, "attestation": 3, "dispute": 3}

_NOTES = {
    FAULT_OF[MODEL_WRONG]: "output reproduced on other nodes but fails the model's reference",
}
_NODE_NOTE = "re-execution gave a different output; other nodes agree with the reference"
_UPHELD_REASONS = (
    "output does not match a re-run of the same input",
    "truncated answer",
    "response ignores the prompt",
    "output is the answer to a different request",
)
_REJECTED_REASONS = ("answer looks wrong", "unexpected output", "quality below expectations")


@dataclass(frozen=True)
class DemoNetwork:
    params: NetworkParams
    records: list[Record]  # dependency order, and chronological
    stories: StoryCast
    names: dict[str, str]  # entity id (signer id or model name) -> display name
    kinds: dict[str, EntityKind]  # entity id -> kind

    def ndjson_lines(self) -> Iterator[str]:
        for record in self.records:
            yield json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False)

    def write_ndjson(self, path: Path) -> str:
        """Write the records (atomically: readers never see half a file); return the
        hex SHA-256 of the bytes written."""
        digest = hashlib.sha256()
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as out:
                for line in self.ndjson_lines():
                    data = (line + "\n").encode()
                    digest.update(data)
                    out.write(data)
            # mkstemp makes the file private; the network is public demo data.
            os.chmod(tmp, 0o644)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return digest.hexdigest()

    def ndjson_digest(self) -> str:
        digest = hashlib.sha256()
        for line in self.ndjson_lines():
            digest.update((line + "\n").encode())
        return digest.hexdigest()


def generate(params: NetworkParams | None = None) -> DemoNetwork:
    """The demo network for ``params`` (default: the built-in defaults)."""
    params = NetworkParams() if params is None else params
    world = build_world(params)
    plan = plan_traffic(params, world)
    verdicts = decide(params, world, plan)
    records, dispute_ids = _sign(params, world, plan, verdicts)
    return DemoNetwork(
        params=params,
        records=records,
        stories=_cast(params, world, plan, verdicts, dispute_ids),
        names=_names(world),
        kinds=_kinds(world),
    )


def _sign(
    params: NetworkParams, world: World, plan: Plan, verdicts: Verdicts
) -> tuple[list[Record], dict[int, str]]:
    rng_seed = params.rng_seed
    # Identities and models exist before the window opens.
    head: list[Record] = [
        builder.register(actor, params.start_ms - 2 * MS_PER_DAY + 1000 * i)
        for i, actor in enumerate(world.actors())
    ]
    head += [
        builder.publish_model(
            world.providers[m.provider], m.name, m.digest, params.start_ms - MS_PER_DAY + 1000 * i
        )
        for i, m in enumerate(world.models)
    ]

    disputes_of: dict[int, list[int]] = {}
    for d, planned in enumerate(verdicts.disputes):
        disputes_of.setdefault(planned.receipt, []).append(d)
    dispute_ids: dict[int, str] = {}
    events: list[tuple[int, int, int, Record]] = []

    def add(record: Record) -> None:
        events.append((record["ts"], _RANK[record["type"]], len(events), record))

    # Plain Python lists: indexing NumPy arrays element by element is slow.
    ts, models, nodes = plan.ts.tolist(), plan.model.tolist(), plan.node.tolist()
    requesters, proofs = plan.requester.tolist(), plan.proof.tolist()
    rings, keys, wrong = plan.ring.tolist(), plan.input_key.tolist(), verdicts.wrong.tolist()
    for i in range(len(plan)):
        model = world.models[models[i]].name
        node = world.nodes[nodes[i]]
        if rings[i]:
            input_hash = sha256_hex(f"{rng_seed}/ring-input/{i}")
            output_hash = sha256_hex(f"{rng_seed}/ring-output/{i}")
            # A made-up measurement: it matches no published runtime image.
            measurement: str | None = "tdx-mrtd:" + sha256_hex(f"fake/{node.name}")[7:71]
        else:
            input_hash = sha256_hex(f"{rng_seed}/input/{keys[i]}")
            output_hash = _output_hash(rng_seed, model, keys[i], i, wrong[i])
            measurement = _measurement(world, rng_seed, proofs[i], models[i], i)
        requester = world.requesters[requesters[i]] if requesters[i] != NO_REQUESTER else None
        receipt = builder.receipt(
            node,
            model,
            input_hash,
            output_hash,
            ts[i],
            proof=PROOFS[proofs[i]],
            measurement=measurement,
            requester=requester,
        )
        add(receipt)
        votes = verdicts.panels.get(i)
        if votes is None:
            continue
        rid = record_id(receipt)
        truth = wrong[i]
        for vote in votes:
            add(_attestation(world.witnesses[vote.witness], rid, truth, vote.honest, vote.ts))
        for d in disputes_of.get(i, ()):
            planned = verdicts.disputes[d]
            pool = _UPHELD_REASONS if planned.upheld else _REJECTED_REASONS
            dispute = builder.dispute(
                world.requesters[planned.requester],
                rid,
                pool[d % len(pool)],
                planned.ts,
            )
            dispute_ids[d] = record_id(dispute)
            add(dispute)
    events.sort(key=lambda event: event[:3])
    return head + [event[3] for event in events], dispute_ids


def _output_hash(rng_seed: int, model: str, key: int, index: int, wrong: int) -> str:
    if wrong == CORRECT:
        # A function of model and input, so re-executions agree on one Output.
        return sha256_hex(f"{rng_seed}/output/{model}/{key}")
    if wrong == MODEL_WRONG:
        # A model bug is reproducible: every node running the input gets the same output,
        # which is how witnesses tell it from a node fault.
        return sha256_hex(f"{rng_seed}/bad-output/{model}/{key}")
    return sha256_hex(f"{rng_seed}/skipped/{index}")


def _measurement(world: World, rng_seed: int, proof: int, model: int, index: int) -> str | None:
    if proof == TEE:
        return world.measurements[model]
    if proof == ZK:
        return "zk-proof:" + sha256_hex(f"{rng_seed}/proof/{index}")[7:]
    return None


def _attestation(witness: Actor, rid: str, truth: int, honest: bool, ts: int) -> Record:
    says_wrong = (truth != CORRECT) == honest
    if not says_wrong:
        return builder.attestation(witness, rid, Verdict.VALID, ts)
    # A lie on a correct output blames the node, the cheapest accusation to make.
    fault = FAULT_OF[truth] if truth != CORRECT else FAULT_OF[NODE_WRONG]
    note = _NOTES.get(fault, _NODE_NOTE)
    return builder.attestation(witness, rid, Verdict.INVALID, ts, fault=fault, note=note)


def _cast(
    params: NetworkParams,
    world: World,
    plan: Plan,
    verdicts: Verdicts,
    dispute_ids: dict[int, str],
) -> StoryCast:
    provider = world.model_fault_provider
    bad = world.faulty_model
    ran_bad = sorted(set(plan.node[(plan.model == bad) & ~plan.ring].tolist()))
    stories = params.stories
    return StoryCast(
        start_ms=params.start_ms,
        end_ms=params.end_ms,
        faulty_nodes=tuple(world.nodes[n].id for n in world.faulty_nodes),
        model_fault_provider=world.providers[provider].id,
        faulty_model=world.models[bad].name,
        provider_healthy_models=tuple(
            m.name for i, m in enumerate(world.models) if m.provider == provider and i != bad
        ),
        faulty_model_nodes=tuple(world.nodes[n].id for n in ran_bad),
        reformed_node=world.nodes[world.reformed_node].id,
        reformed_until_ms=params.start_ms + stories.reformed_node.bad_days * MS_PER_DAY,
        dishonest_witness=world.witnesses[world.dishonest_witness].id,
        disputes_upheld=tuple(dispute_ids[d] for d, p in enumerate(verdicts.disputes) if p.upheld),
        disputes_rejected=tuple(
            dispute_ids[d] for d, p in enumerate(verdicts.disputes) if not p.upheld
        ),
        serial_disputer=(
            None
            if verdicts.serial_disputer is None
            else world.requesters[verdicts.serial_disputer].id
        ),
        sybil_requesters=tuple(world.requesters[r].id for r in world.ring_requesters),
        sybil_nodes=tuple(world.nodes[n].id for n in world.ring_nodes),
        degrading_model=world.models[world.degrading_model].name,
        degrading_since_ms=params.end_ms - stories.degrading_model.days * MS_PER_DAY,
    )


def _names(world: World) -> dict[str, str]:
    names = {actor.id: actor.name for actor in world.actors()}
    names.update({m.name: m.name for m in world.models})
    return names


def _kinds(world: World) -> dict[str, EntityKind]:
    kinds = {actor.id: actor.kind for actor in world.actors()}
    kinds.update({m.name: EntityKind.MODEL for m in world.models})
    return kinds


__all__ = ["DemoNetwork", "generate"]
