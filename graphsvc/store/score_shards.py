"""How a snapshot's scores are stored: entities hashed into shards of about
``SHARD_SIZE``, each shard two compressed blobs, its figures and its breakdowns.

A few hundred small nodes a snapshot instead of one node per entity (961 bytes each), and
an entity's history reads one small figures blob per snapshot, whatever the number of
entities. JSON keeps every float exact (Python writes the shortest repr that reads back
to the same double).
"""

from __future__ import annotations

import base64
import json
import math
import zlib
from collections.abc import Sequence
from typing import Any

from graphsvc.domain import EntityKind
from graphsvc.domain.snapshots import ScoreRow

SHARD_SIZE = 256
FIGURES = (
    "score",
    "rank",
    "percentile",
    "mass",
    "raw_mass",
    "fault_rate",
    "confidence",
    "positive_evidence",
    "fault_weight",
    "phi",
)
# Appended later: absent from shards stored before risk (docs/design.md §3.8).
OPTIONAL_FIGURES = ("risk", "risk_events")


def shard_count(entities: int) -> int:
    return max(1, math.ceil(entities / SHARD_SIZE))


def shard_of(entity: str, shards: int) -> int:
    """Stable across processes and versions (unlike ``hash``)."""
    return zlib.crc32(entity.encode("utf-8")) % shards


def part_id(snapshot_id: str, shard: int) -> str:
    return f"{snapshot_id}|s{shard}"


def encode(snapshot_id: str, rows: Sequence[ScoreRow]) -> list[dict[str, Any]]:
    """One storage row per shard: ``id``, ``snapshot``, ``shard``, ``figures``,
    ``breakdowns`` (base64 of compressed JSON)."""
    shards = shard_count(len(rows))
    members: list[list[ScoreRow]] = [[] for _ in range(shards)]
    for row in rows:
        members[shard_of(row.entity, shards)].append(row)
    return [
        {
            "id": part_id(snapshot_id, shard),
            "snapshot": snapshot_id,
            "shard": shard,
            "figures": _pack(
                {
                    "entity": [r.entity for r in shard_rows],
                    "kind": [str(r.kind) for r in shard_rows],
                    **{name: [getattr(r, name) for r in shard_rows] for name in FIGURES},
                    **{name: [getattr(r, name) for r in shard_rows] for name in OPTIONAL_FIGURES},
                }
            ),
            "breakdowns": _pack([r.breakdown for r in shard_rows]),
        }
        for shard, shard_rows in enumerate(members)
    ]


def decode(
    figures: str, breakdowns: str | None, as_of_ms: int, only: str | None = None
) -> list[ScoreRow]:
    """The rows of one shard (or only the row of entity ``only``); breakdowns are empty
    when not given."""
    columns = _unpack(figures)
    explained = _unpack(breakdowns) if breakdowns is not None else None
    rows = []
    for i, entity in enumerate(columns["entity"]):
        if only is not None and entity != only:
            continue
        rows.append(
            ScoreRow(
                entity=entity,
                kind=EntityKind(columns["kind"][i]),
                breakdown=explained[i] if explained is not None else {},
                as_of_ms=as_of_ms,
                rank=int(columns["rank"][i]),
                **{name: float(columns[name][i]) for name in FIGURES if name != "rank"},
                **_optional_figures(columns, i),
            )
        )
    return rows


def _optional_figures(columns: dict[str, Any], i: int) -> dict[str, Any]:
    """Row ``i``'s risk figures; absent (None) in shards stored before them."""
    return {
        name: None if columns[name][i] is None else float(columns[name][i])
        for name in OPTIONAL_FIGURES
        if name in columns
    }


def _pack(value: object) -> str:
    text = json.dumps(value, separators=(",", ":"), sort_keys=True)
    return base64.b64encode(zlib.compress(text.encode("utf-8"), 6)).decode("ascii")


def _unpack(blob: str) -> Any:
    return json.loads(zlib.decompress(base64.b64decode(blob)))
