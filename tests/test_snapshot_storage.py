"""How snapshots are stored (graphsvc/store/score_shards.py, store/snapshots.py): scores
in shards that read back exactly, and snapshots stored by an older graphsvc (a Score node
per entity, the evidence in one blob) still read, page and reproduce."""

from __future__ import annotations

import base64
import json
import random
import zlib

from graphsvc.domain import EntityKind
from graphsvc.domain.snapshots import ScoreRow, SnapshotInfo
from graphsvc.reputation.kept_evidence import evidence_of
from graphsvc.reputation.retention import RetentionPolicy
from graphsvc.reputation.views import SnapshotView
from graphsvc.scoring import columns
from graphsvc.scoring.archive import evidence_to_bytes
from graphsvc.scoring.engine import compute_scores
from graphsvc.scoring.evidence import FaultCause
from graphsvc.scoring.params import ScoringParams
from graphsvc.scoring.table import FIGURES, RISK_FIGURES, ScoreTable, entity_key
from graphsvc.services import Services, running_services
from graphsvc.settings import Settings
from graphsvc.store import score_shards, snapshots
from graphsvc.store.graph_store import GraphStore
from tests.conftest import Clocked
from tests.network import T0, Network
from tests.scoring_factories import product

DAY = 86_400_000


def random_row(rng: random.Random, i: int) -> ScoreRow:
    return ScoreRow(
        entity=f"ed25519:{i:06d}-{rng.random()}",
        kind=rng.choice(list(EntityKind)),
        score=rng.random() * 100,
        rank=rng.randrange(1, 1000),
        percentile=rng.random() * 100,
        mass=rng.random() / 7,
        raw_mass=rng.random() / 3,
        fault_rate=rng.random(),
        confidence=rng.random(),
        positive_evidence=rng.random() * 1e6,
        fault_weight=rng.random() * 1e-9,
        phi=rng.random(),
        breakdown={"incoming": [{"share": rng.random(), "source": "x"}], "faults": []},
        as_of_ms=T0,
    )


def test_shards_read_back_every_figure_exactly() -> None:
    """Shards keep five figures and derive the others with the engine's functions: every
    figure comes back to the last bit, for the whole snapshot and for one entity."""
    net = product(seed=4, requesters=700, receipts=3000)
    net.builder.fault(net.nodes[0], net.witnesses[0], FaultCause.ATTESTED_INVALID, T0, 1.0)
    params = ScoringParams()
    table = ScoreTable.of(compute_scores(net.builder.build(), params, T0), explain=False)
    stored = score_shards.encode("snap", table, params)
    assert len(stored) == score_shards.shard_count(len(table)) > 1
    back = score_shards.decode_table(T0, [s["figures"] for s in stored], table.entity_ids)
    assert back.entity_ids == table.entity_ids and back.differing(table) == []
    for i in (0, 7, len(table) - 1):
        one = table.entity_ids[i]
        shard = stored[score_shards.shard_of(one, len(stored))]
        # Exact: a shard gives back the computed row bit for bit.
        assert score_shards.history_row(shard["figures"], one, T0) == table.row(i)
    assert score_shards.history_row(stored[0]["figures"], "ed25519:absent", T0) is None
    # Keys, not hash(): the same shard in every process.
    assert score_shards.shard_of("ed25519:abc", 7) == entity_key("ed25519:abc") % 7


def test_shards_stored_before_risk_read_without_it() -> None:
    """A keyed shard written before risk has no risk columns and no prior in its
    derivation: its rows say nothing of risk (None), every other figure as before."""
    net = product(seed=5)
    params = ScoringParams()
    table = ScoreTable.of(compute_scores(net.builder.build(), params, T0), explain=False)
    (shard,) = score_shards.encode("snap", table, params)
    how, stored = columns.unpack(score_shards._MAGIC, base64.b64decode(shard["figures"]), "x")
    for name in ("risk_prior", "risk_prior_strength"):
        del how[name]
    old = columns.pack(
        score_shards._MAGIC,
        how,
        [(n, str(v.dtype), v) for n, v in stored.items() if not n.startswith("risk")],
    )
    blob = base64.b64encode(old).decode("ascii")
    one = table.entity_ids[3]
    row = score_shards.history_row(blob, one, T0)
    assert row is not None and row.score == table.row(3).score  # exact: as stored
    assert (row.risk, row.risk_events, row.risk_fault_events, row.risk_prior) == (None,) * 4
    back = score_shards.decode_table(T0, [blob], table.entity_ids)
    assert back.differing(table) == []  # the missing risk figures are not a difference
    assert table.differing(back) == list(table.entity_ids)  # but a risk lost is one


def json_shard(rows: list[ScoreRow]) -> str:
    """A shard the way graphsvc stored them before keys (format 1): compressed JSON."""
    columns = {
        "entity": [r.entity for r in rows],
        "kind": [str(r.kind) for r in rows],
        **{name: [getattr(r, name) for r in rows] for name in FIGURES if name not in RISK_FIGURES},
    }
    text = json.dumps(columns, separators=(",", ":"), sort_keys=True).encode()
    return base64.b64encode(zlib.compress(text)).decode("ascii")


def test_shards_of_json_still_read() -> None:
    rng = random.Random(6)
    rows = [random_row(rng, i) for i in range(20)]
    blob = json_shard(rows)
    # Exact: JSON shards keep every float bit for bit.
    assert score_shards.history_row(blob, rows[4].entity, T0) == ScoreRow(
        **{**rows[4].__dict__, "breakdown": {}}
    )
    ids, _, figures = score_shards.decode(blob, {})
    assert ids == [r.entity for r in rows] and figures["rank"].tolist() == [r.rank for r in rows]
    # Format 1 placed entities by crc32.
    assert score_shards.shard_of("ed25519:abc", 7, None) == 2


def as_stored_before_shards(store: GraphStore, snapshot_id: str, rows: list[ScoreRow]) -> None:
    """Rewrite a snapshot the way graphsvc stored it before shards and parts."""
    lineage = snapshots.evidence_lineage(store, snapshot_id)
    blob = evidence_to_bytes(evidence_of(lineage, Settings().scoring))
    store.write_one("MATCH (p:ScoreShard {snapshot: $id}) DELETE p", id=snapshot_id)
    store.write_one("MATCH (p:SnapshotPart {snapshot: $id}) DELETE p", id=snapshot_id)
    store.write_one("MATCH (p:TablePart {snapshot: $id}) DELETE p", id=snapshot_id)
    store.write_one(
        "MATCH (s:Snapshot {id: $id}) "
        "REMOVE s.shards, s.shard_format, s.evidence_form, s.parent, s.seeds",
        id=snapshot_id,
    )
    store.write_one(
        "CREATE (:SnapshotEvidence {id: $id, blob: $blob})",
        id=snapshot_id,
        blob=base64.b64encode(blob).decode("ascii"),
    )
    store.write_one(
        "UNWIND $rows AS row CREATE (c:Score) SET c = row",
        rows=[
            {
                **{k: v for k, v in row.__dict__.items() if not k.startswith("risk")},
                "id": f"{snapshot_id}|{row.entity}",
                "snapshot": snapshot_id,
                "kind": str(row.kind),
                "breakdown": json.dumps(row.breakdown),
            }
            for row in rows
        ],
    )


def test_snapshots_stored_before_shards_still_read_page_and_reproduce(
    clocked: Clocked,
) -> None:
    running, store, clock = clocked.services, clocked.store, clocked.now
    net, old = clocked.scored_once()
    old_view = running.reputation.view()
    assert old_view is not None
    as_stored_before_shards(store, old.id, list(old_view.by_entity.values()))
    # The upgraded graphsvc starts afresh: its first snapshot keeps a base of its own.
    clock[0] += DAY
    with running_services(
        Settings(snapshot_refresh=0), store=store, clock=lambda: clock[0]
    ) as running:
        running.ingestor.submit([net.receipt(1, ts=clock[0] - 1000)])
        new = running.reputation.recompute()
        check_upgraded(running, store, net, old, new, old_view)


def check_upgraded(
    running: Services,
    store: GraphStore,
    net: Network,
    old: SnapshotInfo,
    new: SnapshotInfo,
    old_view: SnapshotView,
) -> None:

    history = running.reputation.history(net.node.id, 0, 2**62, limit=10)
    assert [p.as_of_ms for p in history] == [old.as_of_ms, new.as_of_ms]
    assert history[0].score == old_view.by_entity[net.node.id].score  # exact: as stored
    # The old snapshot keeps no table: a replica explains it again from its evidence.
    assert snapshots.snapshot_table(store, old) is None
    reread = running.reputation.view_by_id(old.id)
    assert reread is not None and dict(reread.by_entity) == dict(old_view.by_entity)
    stored = snapshots.stored_figures(store, old, list(old_view.by_entity))
    assert not stored.differing(reread.table)
    assert running.reputation.reproduce(old.as_of_ms).identical
    assert running.reputation.reproduce(new.as_of_ms).identical
    running.reputation.retention = RetentionPolicy(all_hours=0, hourly_days=0, daily_days=0)
    assert running.reputation.prune() == [old.id]
    assert store.read("MATCH (n) WHERE n:Score OR n:SnapshotEvidence RETURN count(n) AS c") == [
        {"c": 0}
    ]


def test_only_the_newest_snapshot_keeps_its_breakdowns_older_ones_are_explained_again(
    clocked: Clocked,
) -> None:
    running, store, clock = clocked.services, clocked.store, clocked.now
    net, first = clocked.scored_once()
    first_rows = dict(running.reputation.view().by_entity)  # type: ignore[union-attr]
    clock[0] += DAY
    running.ingestor.submit([net.receipt(1, ts=clock[0] - 1000)])
    second = running.reputation.recompute()
    assert snapshots.snapshot_table(store, first) is None  # dropped when superseded
    kept = snapshots.snapshot_table(store, second)
    assert kept is not None and kept.explained is not None
    with running_services(
        Settings(snapshot_refresh=0), store=store, clock=lambda: clock[0]
    ) as replica:  # nothing cached: the older view comes from the evidence
        older = replica.reputation.view(first.as_of_ms)
        # Exact by design: a snapshot explained again reproduces the one served, bit for bit.
        assert older is not None and dict(older.by_entity) == first_rows
        assert older.by_entity[net.node.id].breakdown  # explained again, not empty


def test_a_kept_table_this_version_cannot_read_is_explained_again(clocked: Clocked) -> None:
    running, store, clock = clocked.services, clocked.store, clocked.now
    _, snapshot = clocked.scored_once()
    rows = dict(running.reputation.view().by_entity)  # type: ignore[union-attr]
    store.write_one(
        "MATCH (p:TablePart {snapshot: $id}) SET p.blob = $blob",
        id=snapshot.id,
        blob=base64.b64encode(b"graphsvc-score-table-v0\n").decode("ascii"),
    )
    assert snapshots.snapshot_table(store, snapshot) is None
    with running_services(
        Settings(snapshot_refresh=0), store=store, clock=lambda: clock[0]
    ) as replica:
        view = replica.reputation.view()
        # Exact by design: the snapshot explained again is the one served, bit for bit.
        assert view is not None and dict(view.by_entity) == rows
