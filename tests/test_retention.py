"""Snapshot retention (docs/reference.md#snapshots-and-reproduction): every snapshot for 48 hours,
the newest of
each hour for 30 days, the newest of each day after; what is kept still reproduces bit
for bit, and history pages over what is kept."""

from __future__ import annotations

import pytest

from graphsvc.domain.score_snapshots import SnapshotInfo
from graphsvc.reputation import snapshot_lineage
from graphsvc.reputation.retention import DAY_MS, HOUR_MS, RetentionPolicy
from graphsvc.store import snapshots
from tests.conftest import Clocked
from tests.network import T0, Network

NOW = T0 + 100 * DAY_MS


def info(snapshot_id: str, as_of_ms: int, created_ms: int | None = None) -> SnapshotInfo:
    created = as_of_ms if created_ms is None else created_ms
    return SnapshotInfo(snapshot_id, as_of_ms, created, {}, "sha256:x", 0, 0, 0, 0.0)


def test_the_default_policy_thins_by_age() -> None:
    recent = [info(f"r{i}", NOW - i * 5 * 60_000) for i in range(12)]  # the last hour
    two_days_ago = NOW - 50 * HOUR_MS
    hourly = [info(f"h{i}", two_days_ago - i * 20 * 60_000) for i in range(6)]  # 2 hours
    month_ago = NOW - 40 * DAY_MS
    daily = [info(f"d{i}", month_ago - i * 6 * HOUR_MS) for i in range(8)]  # 2 days
    keep = RetentionPolicy().keep([*recent, *hourly, *daily], NOW)
    assert {f"r{i}" for i in range(12)} <= keep
    kept_hourly = sorted(k for k in keep if k.startswith("h"))
    kept_daily = sorted(k for k in keep if k.startswith("d"))
    # Six snapshots 20 minutes apart span three UTC hours at most; one is kept in each.
    hours = {s.as_of_ms // HOUR_MS for s in hourly}
    days = {s.as_of_ms // DAY_MS for s in daily}
    assert len(kept_hourly) == len(hours) and len(kept_daily) == len(days)
    # The one kept in a bucket is its newest.
    for bucket in hours:
        newest = max(
            (s for s in hourly if s.as_of_ms // HOUR_MS == bucket), key=lambda s: s.as_of_ms
        )
        assert newest.id in keep


def test_a_daily_limit_drops_the_oldest_and_the_newest_is_always_kept() -> None:
    old = [info("old", NOW - 400 * DAY_MS), info("older", NOW - 500 * DAY_MS)]
    policy = RetentionPolicy(all_hours=0, hourly_days=0, daily_days=365)
    assert policy.keep(old, NOW) == {"old"}  # newest of all, though past the limit
    assert policy.keep([*old, info("new", NOW)], NOW) == {"new"}
    assert RetentionPolicy().keep([], NOW) == set()


def test_pruning_keeps_what_the_policy_keeps_and_it_still_reproduces(
    clocked: Clocked, monkeypatch: pytest.MonkeyPatch
) -> None:
    running, store, clock = clocked.services, clocked.store, clocked.now
    monkeypatch.setattr(snapshots, "PART_BYTES", 64)  # evidence in many small parts
    net = Network()
    running.ingestor.submit(net.basics())
    times = [T0 + DAY_MS + i * 20 * 60_000 for i in range(6)]  # two hours, 20 min apart
    for n, moment in enumerate(times):
        clock[0] = moment
        running.ingestor.submit([net.receipt(n, ts=moment - 1000)])
        running.scorer.recompute()
    node = net.node.id
    forms = [snapshots.snapshot_evidence(store, s.id) for s in running.reputation.snapshots(10)]
    # Oldest first: a base, then deltas each on the one before.
    assert [e.form for e in reversed(forms)] == ["base"] + ["delta"] * 5
    listed_ids = [s.id for s in reversed(running.reputation.snapshots(10))]
    assert [e.parent for e in reversed(forms)] == [None, *listed_ids[:-1]]
    assert len(running.reputation.history(node, 0, 2**62, limit=100)) == 6
    assert [p.as_of_ms for p in running.reputation.history(node, 0, 2**62, limit=2)] == times[:2]
    page = running.reputation.history(node, times[1] + 1, 2**62, limit=2)
    assert [p.as_of_ms for p in page] == times[2:4]

    clock[0] = times[-1] + 3 * DAY_MS  # now past the 48 hours: one per hour remains
    pruned = running.scorer.prune()
    kept = {s.id for s in running.reputation.snapshots(100)}
    policy = RetentionPolicy()
    listed = [s for s in running.reputation.snapshots(100)]
    assert len(pruned) == 6 - len(kept) and len(kept) == len({t // HOUR_MS for t in times})
    assert kept == policy.keep(listed, clock[0])
    history = running.reputation.history(node, 0, 2**62, limit=100)
    assert {p.as_of_ms for p in history} == {s.as_of_ms for s in listed}
    for snapshot in listed:  # every retained snapshot reproduces bit for bit
        assert running.scorer.reproduce(snapshot.as_of_ms).identical
    # The removed ones were folded into what follows them: one base, deltas after it.
    chain = [snapshots.snapshot_evidence(store, s.id) for s in reversed(listed)]
    assert [e.form for e in chain] == ["base"] + ["delta"] * (len(chain) - 1)
    assert [e.parent for e in chain] == [None, *[s.id for s in reversed(listed)][:-1]]
    assert running.scorer.prune() == []  # nothing more to remove
    for label, key in (("ScoreShard", "snapshot"), ("SnapshotPart", "snapshot")):
        left = store.read(f"MATCH (n:{label}) RETURN DISTINCT n.{key} AS s")
        assert {row["s"] for row in left} == kept  # nothing of a removed snapshot remains


def test_a_new_base_once_the_deltas_outweigh_the_last(
    clocked: Clocked, monkeypatch: pytest.MonkeyPatch
) -> None:
    running, store, clock = clocked.services, clocked.store, clocked.now
    monkeypatch.setattr(snapshot_lineage, "MIN_BASE_BYTES", 0)
    net = Network()
    running.ingestor.submit(net.basics())
    forms = []
    for n in range(8):
        clock[0] += HOUR_MS
        running.ingestor.submit([net.receipt(n, ts=clock[0] - 1000)])
        snapshot = running.scorer.recompute()
        forms.append(snapshots.snapshot_evidence(store, snapshot.id).form)
    assert forms[0] == "base" and "delta" in forms and forms.count("base") >= 2
    for snapshot in running.reputation.snapshots(10):
        assert running.scorer.reproduce(snapshot.as_of_ms).identical


def test_a_recompute_with_nothing_new_stores_an_empty_delta(
    clocked: Clocked,
) -> None:
    running, store, clock = clocked.services, clocked.store, clocked.now
    _, first = clocked.scored_once()
    clock[0] += 2 * DAY_MS  # a day later, nothing ingested: scored again as it aged
    second = running.scorer.recompute()
    stored = snapshots.snapshot_evidence(store, second.id)
    assert (stored.form, stored.parent) == ("delta", first.id)
    assert running.scorer.reproduce(second.as_of_ms).identical
