"""The evidence state (graphsvc/scoring/evidence_state.py): applied batch by batch, it
builds the same evidence, bit for bit, as a builder fed everything at once."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import pytest

from graphsvc.domain import EntityKind
from graphsvc.scoring.archive import evidence_to_bytes
from graphsvc.scoring.evidence import Channel, Evidence
from graphsvc.scoring.evidence_builder import EvidenceBuilder
from graphsvc.scoring.evidence_state import EvidenceChanges, EvidenceState, EvidenceStateMismatch
from graphsvc.scoring.params import ScoringParams
from graphsvc.scoring.verdicts import attested_faults, vote_faults

PARAMS = ScoringParams()
T0 = 1_767_225_600_000


@dataclass
class World:
    """The whole store, as a full read would see it."""

    kinds: dict[str, EntityKind] = field(default_factory=dict)
    provider: dict[str, str] = field(default_factory=dict)
    edges: dict[tuple[str, str, str], tuple[int, float]] = field(default_factory=dict)
    accusations: dict[str, tuple[str, str, str, int]] = field(default_factory=dict)
    claims: dict[str, tuple[str, str, int]] = field(default_factory=dict)
    votes: dict[str, list[tuple[str, str, int]]] = field(default_factory=dict)

    def reference(self, seeds: list[str]) -> Evidence:
        builder = EvidenceBuilder()
        for entity, kind in self.kinds.items():
            builder.entity(entity, kind)
            if entity in self.provider:
                builder.structural(entity, self.provider[entity])
        for (channel, src, dst), (ref, amount) in self.edges.items():
            builder.edge(src, dst, Channel[channel.upper()], ref, amount)
        disputed = {r for r, _, _ in self.claims.values()}
        votes = sorted(
            (r, w, v, t)
            for r, cast in self.votes.items()
            if len({v for _, v, _ in cast}) > 1 or r in disputed
            for w, v, t in cast
        )
        trusted = frozenset(seeds)  # no seeds: nobody has standing
        for fault in [
            *attested_faults(self.accusations.values(), votes, trusted),
            *vote_faults(votes, list(self.claims.values()), PARAMS, trusted),
        ]:
            builder.fault(*fault.as_row())
        for entity in seeds:
            if builder.has_entity(entity):
                builder.seed(entity)
        return builder.build(aggregated_half_life_ms=PARAMS.half_life_ms)


def grow(world: World, rng: random.Random, batch: int, changes: EvidenceChanges) -> None:
    """One batch of new entities, new and updated edges, votes and disputes."""
    new = []
    for kind in (EntityKind.PROVIDER, EntityKind.NODE, EntityKind.WITNESS, EntityKind.REQUESTER):
        for i in range(rng.randint(0 if batch else 2, 3)):
            new.append((f"{kind}-{batch}-{i}", kind, ""))
    providers = [e for e, k in world.kinds.items() if k is EntityKind.PROVIDER] + [
        e for e, k, _ in new if k is EntityKind.PROVIDER
    ]
    new += [(f"model-{batch}-{i}", EntityKind.MODEL, rng.choice(providers)) for i in range(2)]
    rng.shuffle(new)  # a model may come before its provider
    for entity, kind, provider in new:
        world.kinds[entity] = kind
        if provider:
            world.provider[entity] = provider
        changes.entity_id.append(entity)
        changes.entity_kind.append(str(kind))
        changes.entity_provider.append(provider)
    of = {k: [e for e, kk in world.kinds.items() if kk is k] for k in EntityKind}
    changed = set()
    for _ in range(40):
        if rng.random() < 0.5:
            key = ("cosign", rng.choice(of[EntityKind.REQUESTER]), rng.choice(of[EntityKind.NODE]))
        else:
            key = ("attest", rng.choice(of[EntityKind.WITNESS]), rng.choice(of[EntityKind.MODEL]))
        world.edges[key] = (T0 + batch * 1000 + rng.randrange(1000), rng.random() * 3)
        changed.add(key)
    # What changed, and (read again, unchanged) some of what did not.
    touched = sorted(changed | {k for k in world.edges if rng.random() < 0.2})
    for channel, src, dst in touched:
        ref, amount = world.edges[(channel, src, dst)]
        changes.edge_channel.append(channel)
        changes.edge_src.append(src)
        changes.edge_dst.append(dst)
        changes.edge_ref_ms.append(ref)
        changes.edge_amount.append(amount)
    receipts = [f"receipt-{i}" for i in range(12)]
    voted = set()
    for i in range(6):
        receipt, witness = rng.choice(receipts), rng.choice(of[EntityKind.WITNESS])
        if any(w == witness for w, _, _ in world.votes.get(receipt, [])):
            continue
        verdict = rng.choice(["valid", "invalid"])
        world.votes.setdefault(receipt, []).append((witness, verdict, T0 + batch * 1000 + i))
        voted.add(receipt)
        if verdict == "invalid":
            party = rng.choice(of[EntityKind.NODE])
            accusation = (receipt, witness, party, T0 + batch * 1000 + i, 0.0)
            world.accusations[f"att-{batch}-{i}"] = accusation
            changes.accusations[f"att-{batch}-{i}"] = accusation
    if rng.random() < 0.7:
        receipt = rng.choice(receipts)
        claim = (receipt, rng.choice(of[EntityKind.REQUESTER]), T0 + batch * 1000 + 999)
        world.claims[f"dispute-{batch}"] = claim
        changes.claims[f"dispute-{batch}"] = claim
        voted.add(receipt)
    changes.votes = {r: tuple(world.votes.get(r, [])) for r in voted}


@pytest.mark.parametrize("seed", range(6))
def test_an_evidence_state_applied_batch_by_batch_equals_a_full_build(seed: int) -> None:
    rng = random.Random(seed)
    world, kept = World(), EvidenceState("store-1")
    for batch in range(8):
        changes = EvidenceChanges(from_batch=batch - 1, to_batch=batch)
        grow(world, rng, batch, changes)
        kept.apply(changes)
        # No seeds, every witness (so that majorities decide), or two arbitrary entities.
        witnesses = sorted(e for e, k in world.kinds.items() if k is EntityKind.WITNESS)
        seeds = [[], witnesses, sorted(world.kinds)[:2]][batch % 3]
        ours, newest = kept.evidence(PARAMS, seeds=seeds)
        reference = world.reference(seeds)
        # Exact by design: the kept evidence is the full re-read's, bit for bit.
        assert evidence_to_bytes(ours) == evidence_to_bytes(reference)
        assert newest == max(reference.edge_ref_ms.max(), reference.fault_ref_ms.max(initial=0))
    assert kept.batch == 7 and kept.edges == len(world.edges)
    final = world.reference(sorted(e for e, k in world.kinds.items() if k is EntityKind.WITNESS))
    assert len(final.fault_party) and len(final.struct_src)  # the case covers them too
    again = EvidenceState.from_bytes(kept.to_bytes())
    assert (again.store_id, again.batch) == ("store-1", 7)
    # Exact, as above: the kept evidence survives its file bit for bit.
    assert evidence_to_bytes(again.evidence(PARAMS)[0]) == evidence_to_bytes(world.reference([]))


def test_changes_must_follow_on_from_the_kept_batch() -> None:
    kept = EvidenceState()
    with pytest.raises(EvidenceStateMismatch, match="do not follow batch -1"):
        kept.apply(EvidenceChanges(from_batch=3, to_batch=5))
    with pytest.raises(EvidenceStateMismatch, match="unknown entity 'ghost'"):
        kept.apply(
            EvidenceChanges(
                from_batch=-1,
                to_batch=0,
                edge_src=["ghost"],
                edge_dst=["ghost"],
                edge_channel=["cosign"],
                edge_ref_ms=[T0],
                edge_amount=[1.0],
            )
        )


def test_a_row_read_twice_keeps_its_later_reading() -> None:
    # A row that moved to a later batch while changes were read in parts shows up twice.
    kept = EvidenceState()
    kept.apply(
        EvidenceChanges(
            from_batch=-1,
            to_batch=2,
            entity_id=["a", "b"],
            entity_kind=["requester", "node"],
            entity_provider=["", ""],
            edge_src=["a", "a"],
            edge_dst=["b", "b"],
            edge_channel=["cosign", "cosign"],
            edge_ref_ms=[T0, T0 + 5],
            edge_amount=[1.0, 2.5],
        )
    )
    evidence, newest = kept.evidence(PARAMS)
    assert evidence.edge_amount.tolist() == [2.5] and newest == T0 + 5  # exact: as recorded


def test_a_file_of_another_format_is_refused() -> None:
    import io

    import numpy as np

    buffer = io.BytesIO()
    np.savez(buffer, header=np.frombuffer(b'{"format": "other"}', dtype=np.uint8))
    with pytest.raises(ValueError, match="not a graphsvc kept-evidence file"):
        EvidenceState.from_bytes(buffer.getvalue())
