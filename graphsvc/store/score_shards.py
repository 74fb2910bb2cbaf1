"""How a snapshot's scores are stored (docs/decisions/0036-scores-as-columns.md).

- **Shards**, kept as long as the snapshot: entities hashed into shards of about
  ``SHARD_SIZE``, each one compressed blob of columns: the entity's 64-bit key
  (:func:`entity_keys`), its kind and the figures the others derive from exactly
  (``STORED_FIGURES``, :func:`derived_figures`). An entity's history reads one
  small shard per snapshot, whatever the number of entities, and no id is repeated in
  every snapshot.
- **The table** (ids, figures and every explanation, :func:`table_to_bytes`), kept only
  for the newest snapshot, in parts well under a Bolt message: what a restarted process
  or a replica loads to serve it. Older snapshots are explained again from their evidence.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from graphsvc.domain.score_snapshots import ScoreRow
from graphsvc.scoring import columns
from graphsvc.scoring.evidence import KINDS_BY_CODE
from graphsvc.scoring.params import ScoringParams
from graphsvc.scoring.table import (
    FIGURES,
    ScoreTable,
    derivation,
    derived_figures,
    entity_key,
    entity_keys,
    figure_dtype,
)
from graphsvc.scoring.table import (
    STORED_FIGURES as STORED,
)

SHARD_SIZE = 256
_MAGIC = b"graphsvc-score-shard-v1\n"


def shard_count(entities: int) -> int:
    return max(1, math.ceil(entities / SHARD_SIZE))


def shard_of(entity: str, shards: int) -> int:
    """Stable across processes and versions (unlike ``hash``)."""
    return entity_key(entity) % shards


def part_id(snapshot_id: str, shard: int) -> str:
    return f"{snapshot_id}|s{shard}"


def encode(snapshot_id: str, table: ScoreTable, params: ScoringParams) -> list[dict[str, Any]]:
    """One storage row per shard: ``id``, ``snapshot``, ``shard``, ``figures`` (base64 of
    the packed columns); ``params`` are the ones the table was computed with."""
    how = derivation(table, params)
    keys = entity_keys(table.entity_ids)
    shards = shard_count(len(table))
    shard = (keys % np.uint64(shards)).astype(np.int64)
    order = np.argsort(shard, kind="stable")
    bounds = np.searchsorted(shard[order], np.arange(shards + 1)).tolist()
    kinds = table.kinds.astype(np.int8)
    rows = []
    for s in range(shards):
        members = order[bounds[s] : bounds[s + 1]]
        packed = columns.pack(
            _MAGIC,
            how,
            [
                ("key", "<u8", keys[members]),
                ("kind", "<i1", kinds[members]),
                *((name, _stored_dtype(name), table.figures[name][members]) for name in STORED),
            ],
            level=1,
        )
        rows.append(
            {
                "id": part_id(snapshot_id, s),
                "snapshot": snapshot_id,
                "shard": s,
                "figures": base64.b64encode(packed).decode("ascii"),
                "breakdowns": None,
            }
        )
    return rows


def decode(
    figures: str, names: Mapping[int, str]
) -> tuple[list[str], np.ndarray, dict[str, np.ndarray]]:
    """Ids, kind codes and figure columns of one stored shard; entities are named from
    their key by ``names``, or ``key:<hex>`` when it has none."""
    how, stored = columns.unpack(_MAGIC, base64.b64decode(figures), "score shard")
    ids = [names.get(k, f"key:{k:016x}") for k in stored["key"].tolist()]
    kinds = stored["kind"].astype(np.int64)
    return ids, kinds, derived_figures({n: stored[n] for n in STORED}, kinds, how)


def decode_table(as_of_ms: int, shards: Sequence[str], names: Sequence[str]) -> ScoreTable:
    """A snapshot's figures from all of its stored shards (no explanations), entities
    named by ``names`` (:func:`decode`)."""
    by_key = dict(zip(entity_keys(names).tolist(), names, strict=True))
    ids: list[str] = []
    kinds, figures = [], []
    for shard in shards:
        shard_ids, shard_kinds, shard_figures = decode(shard, by_key)
        ids += shard_ids
        kinds.append(shard_kinds)
        figures.append(shard_figures)
    order = sorted(range(len(ids)), key=ids.__getitem__)
    return ScoreTable(
        as_of_ms=as_of_ms,
        entity_ids=tuple(ids[i] for i in order),
        kinds=np.concatenate(kinds)[order] if kinds else np.zeros(0, dtype=np.int64),
        figures={
            n: np.concatenate([f[n] for f in figures])[order]
            if figures
            else np.zeros(0, dtype=figure_dtype(n))
            for n in FIGURES
        },
    )


def _stored_dtype(name: str) -> str:
    return "<i4" if name == "rank" else figure_dtype(name)


def history_row(figures: str, entity: str, as_of_ms: int) -> ScoreRow | None:
    """The row of ``entity`` in one stored shard, without breakdown."""
    how, stored = columns.unpack(_MAGIC, base64.b64decode(figures), "score shard")
    one = np.flatnonzero(stored["key"] == np.uint64(entity_key(entity)))[:1]
    if not len(one):
        return None
    kinds = stored["kind"][one].astype(np.int64)
    derived = derived_figures({n: stored[n][one] for n in STORED}, kinds, how)
    values = {name: derived[name][0].item() for name in FIGURES}
    kind = KINDS_BY_CODE[int(kinds[0])]
    return ScoreRow(entity, kind, **values, breakdown={}, as_of_ms=as_of_ms)
