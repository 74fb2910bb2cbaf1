"""How snapshots are stored (graphsvc/store/score_shards.py, store/snapshots.py): scores
in shards that read back exactly, and snapshots stored by an older graphsvc (a Score node
per entity, the evidence in one blob) still read, page and reproduce."""

from __future__ import annotations

import base64
import json
import random
from dataclasses import replace

from graphsvc.domain import EntityKind
from graphsvc.domain.snapshots import ScoreRow, SnapshotInfo
from graphsvc.reputation.kept_evidence import evidence_of
from graphsvc.reputation.retention import RetentionPolicy
from graphsvc.reputation.views import SnapshotView
from graphsvc.scoring.archive import evidence_to_bytes
from graphsvc.services import Services, running_services
from graphsvc.settings import Settings
from graphsvc.store import score_shards, snapshots
from graphsvc.store.graph_store import GraphStore
from tests.conftest import Clocked
from tests.network import T0, Network

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


def test_shards_read_back_every_row_exactly() -> None:
    rng = random.Random(5)
    rows = [random_row(rng, i) for i in range(1000)]
    stored = score_shards.encode("snap", rows)
    assert len(stored) == score_shards.shard_count(1000) == 4
    back = [
        row
        for shard in stored
        for row in score_shards.decode(shard["figures"], shard["breakdowns"], T0)
    ]
    assert sorted(back, key=lambda r: r.entity) == sorted(rows, key=lambda r: r.entity)
    one = rows[17]
    shard = stored[score_shards.shard_of(one.entity, 4)]
    figures_only = score_shards.decode(shard["figures"], None, T0, only=one.entity)
    assert figures_only == [ScoreRow(**{**one.__dict__, "breakdown": {}})]
    # crc32, not hash(): the same shard in every process.
    assert score_shards.shard_of("ed25519:abc", 7) == 2


def as_stored_before_shards(store: GraphStore, snapshot_id: str, rows: list[ScoreRow]) -> None:
    """Rewrite a snapshot the way graphsvc stored it before shards and parts."""
    lineage = snapshots.evidence_lineage(store, snapshot_id)
    blob = evidence_to_bytes(evidence_of(lineage, Settings().scoring))
    store.write_one("MATCH (p:ScoreShard {snapshot: $id}) DELETE p", id=snapshot_id)
    store.write_one("MATCH (p:SnapshotPart {snapshot: $id}) DELETE p", id=snapshot_id)
    store.write_one(
        "MATCH (s:Snapshot {id: $id}) REMOVE s.shards, s.evidence_form, s.parent, s.seeds",
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
    net = Network()
    running.ingestor.submit([*net.basics(), net.receipt(0)])
    old = running.reputation.recompute()
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
    assert history[0].score == old_view.by_entity[net.node.id].score
    reread, explained = snapshots.snapshot_scores(store, old)
    before_risk = {  # graphsvc stored no risk before shards
        e: replace(r, risk=None, risk_events=None) for e, r in old_view.by_entity.items()
    }
    assert explained and {r.entity: r for r in reread} == before_risk
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
    net = Network()
    running.ingestor.submit([*net.basics(), net.receipt(0)])
    first = running.reputation.recompute()
    first_rows = dict(running.reputation.view().by_entity)  # type: ignore[union-attr]
    clock[0] += DAY
    running.ingestor.submit([net.receipt(1, ts=clock[0] - 1000)])
    second = running.reputation.recompute()
    assert snapshots.snapshot_scores(store, first)[1] is False  # dropped when superseded
    assert snapshots.snapshot_scores(store, second)[1] is True
    with running_services(
        Settings(snapshot_refresh=0), store=store, clock=lambda: clock[0]
    ) as replica:  # nothing cached: the older view comes from the evidence
        older = replica.reputation.view(first.as_of_ms)
        assert older is not None and older.by_entity == first_rows
        assert older.by_entity[net.node.id].breakdown  # explained again, not empty
