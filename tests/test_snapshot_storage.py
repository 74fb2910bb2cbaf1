"""How snapshots are stored (graphsvc/store/score_shards.py, store/snapshots.py): scores
in shards that read back exactly, and tables kept for the newest snapshot only."""

from __future__ import annotations

import base64

from graphsvc.scoring.engine import compute_scores
from graphsvc.scoring.evidence import FaultCause
from graphsvc.scoring.params import ScoringParams
from graphsvc.scoring.table import ScoreTable, entity_key
from graphsvc.services import running_services
from graphsvc.settings import Settings
from graphsvc.store import score_shards, snapshots
from tests.conftest import Clocked
from tests.network import T0
from tests.scoring_factories import product

DAY = 86_400_000


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


def test_only_the_newest_snapshot_keeps_its_breakdowns_older_ones_are_explained_again(
    clocked: Clocked,
) -> None:
    running, store, clock = clocked.services, clocked.store, clocked.now
    net, first = clocked.scored_once()
    first_rows = dict(running.reputation.view().by_entity)  # type: ignore[union-attr]
    clock[0] += DAY
    running.ingestor.submit([net.receipt(1, ts=clock[0] - 1000)])
    second = running.scorer.recompute()
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
