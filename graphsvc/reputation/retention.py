"""Which snapshots to keep (docs/reference.md#snapshots-and-reproduction): every one for a while,
then one an hour,
then one a day, so storage per day stays bounded whatever the recompute interval."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from graphsvc.domain.score_snapshots import SnapshotInfo

HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS


@dataclass(frozen=True)
class RetentionPolicy:
    """Ages are measured from now to the time a snapshot is for (its ``as_of``)."""

    all_hours: float = 48.0  # keep every snapshot this young
    hourly_days: float = 30.0  # then the newest of each UTC hour, up to this age
    daily_days: float | None = None  # then the newest of each UTC day (None: forever)

    def keep(self, snapshots: Iterable[SnapshotInfo], now_ms: int) -> set[str]:
        """The ids of ``snapshots`` to keep; the newest one is always kept."""
        found = sorted(snapshots, key=lambda s: (s.as_of_ms, s.created_ms, s.id))
        if not found:
            return set()
        kept = {found[-1].id}
        newest_in: dict[tuple[str, int], SnapshotInfo] = {}
        for snapshot in found:  # oldest first: a later one replaces its bucket's entry
            age_ms = now_ms - snapshot.as_of_ms
            if age_ms <= self.all_hours * HOUR_MS:
                kept.add(snapshot.id)
            elif age_ms <= self.hourly_days * DAY_MS:
                newest_in[("hour", snapshot.as_of_ms // HOUR_MS)] = snapshot
            elif self.daily_days is None or age_ms <= self.daily_days * DAY_MS:
                newest_in[("day", snapshot.as_of_ms // DAY_MS)] = snapshot
        return kept | {s.id for s in newest_in.values()}
