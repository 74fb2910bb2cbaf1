"""The log's tree files checked against the leaves the store holds, and against
themselves (docs/decisions/0067-log-self-check.md).

The files are a cache of what the store's batch entries say; a byte flipped, a tail cut
or a leaf too many in them must never reach a signed checkpoint. The check compares the
size with the store's, the newest batch's leaves and a sample of older batches' with the
store's entries, and the newest and a sample of the hashes of every upper level with the
tile below each. Anything it finds is named; the caller rebuilds the files from the
store, unless the store itself changed (the log's caller decides, from the checkpoint it
signed).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from graphsvc.store import log_entries
from graphsvc.store.graph_store import GraphStore
from graphsvc.store.log_entries import LoggedBatch
from graphsvc.tlog.hash_files import HashFiles
from graphsvc.tlog.tiles import TILE_WIDTH


@dataclass(frozen=True)
class Mismatch:
    """What differs: in words, the store's log size, and the first leaf whose hash
    differs (None when it is the size or the files' own levels that are wrong)."""

    what: str
    store_size: int
    leaf: int | None = None


def tree_mismatch(
    files: HashFiles, store: GraphStore, *, sample: int, rng: random.Random
) -> Mismatch | None:
    """What differs between the files and the store (None: nothing found)."""
    logged = log_entries.log_size(store)
    found = _leaves_mismatch(files, store, logged, sample, rng)
    if found is None:
        problem = _levels_mismatch(files, sample, rng)
        found = None if problem is None else Mismatch(problem, logged)
    return found


def _leaves_mismatch(
    files: HashFiles, store: GraphStore, logged: int, sample: int, rng: random.Random
) -> Mismatch | None:
    size = files.size
    if size > logged:
        return Mismatch(f"the tree holds {size} leaves, the store's log {logged}", logged)
    if size == 0:
        return None
    newest = log_entries.batch_holding(store, size - 1)
    if newest is None:
        return Mismatch(f"the store holds no log entries for leaf {size - 1}", logged)
    end = newest.first + len(newest.hashes)
    if end != size:
        return Mismatch(
            f"the tree ends at leaf {size}, inside ingest batch {newest.batch} "
            f"(leaves {newest.first} to {end - 1})",
            logged,
        )
    numbers = sorted({rng.randint(1, newest.batch) for _ in range(sample)} - {newest.batch})
    for batch in [newest, *log_entries.batches_numbered(store, numbers)]:
        leaf = _first_differing_leaf(files, batch)
        if leaf is not None:
            return Mismatch(
                f"leaf {leaf}'s hash in the tree is not the one ingest batch {batch.batch} logged",
                logged,
                leaf,
            )
    return None


def _first_differing_leaf(files: HashFiles, batch: LoggedBatch) -> int | None:
    stored = files.read(0, batch.first, len(batch.hashes))
    if stored == b"".join(batch.hashes):
        return None
    return next(
        batch.first + i
        for i, expected in enumerate(batch.hashes)
        if stored[32 * i : 32 * i + 32] != expected
    )


def _levels_mismatch(files: HashFiles, sample: int, rng: random.Random) -> str | None:
    for level in range(1, files.levels):
        count = files.count(level)
        if count != files.count(level - 1) // TILE_WIDTH:
            return f"tree level {level} holds {count} hashes for the level below's"
        if count == 0:
            continue
        for index in sorted({count - 1} | {rng.randrange(count) for _ in range(sample)}):
            if not files.folds_below(level, index):
                return f"hash {index} of tree level {level} is not the root of its tile"
    return None


def leaf_backed_by_tree(files: HashFiles, leaf: int) -> bool:
    """Whether the files' hash of ``leaf`` agrees with the level above it (always, for a
    leaf of the last, partial tile, which has no hash above it yet)."""
    tile = leaf // TILE_WIDTH
    return tile >= files.count(1) or files.folds_below(1, tile)
