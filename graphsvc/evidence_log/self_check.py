"""The log's tree files checked against the leaves the store holds, and against
themselves (docs/decisions/log-self-check.md).

The files are a cache of what the store's batch entries say; a byte flipped, a tail cut
or a leaf too many in them must never reach a signed checkpoint. The check compares the
size with the store's, the newest batch's leaves and a sample of older batches' with the
store's entries, and the newest and a sample of the hashes of every upper level with the
tile below each. Anything it finds is named; the caller rebuilds the files from the
store.
"""

from __future__ import annotations

import random

from graphsvc.store import log_entries
from graphsvc.store.graph_store import GraphStore
from graphsvc.store.log_entries import LoggedBatch
from graphsvc.tlog.hash_files import HashFiles
from graphsvc.tlog.tiles import TILE_WIDTH


def tree_mismatch(
    files: HashFiles, store: GraphStore, *, sample: int, rng: random.Random
) -> str | None:
    """What differs between the files and the store (None: nothing found)."""
    return _leaves_mismatch(files, store, sample, rng) or _levels_mismatch(files, sample, rng)


def _leaves_mismatch(
    files: HashFiles, store: GraphStore, sample: int, rng: random.Random
) -> str | None:
    size = files.size
    logged = log_entries.log_size(store)
    if size > logged:
        return f"the tree holds {size} leaves, the store's log {logged}"
    if size == 0:
        return None
    newest = log_entries.batch_holding(store, size - 1)
    if newest is None:
        return f"the store holds no log entries for leaf {size - 1}"
    end = newest.first + len(newest.hashes)
    if end != size:
        return (
            f"the tree ends at leaf {size}, inside ingest batch {newest.batch} "
            f"(leaves {newest.first} to {end - 1})"
        )
    numbers = sorted({rng.randint(1, newest.batch) for _ in range(sample)} - {newest.batch})
    for batch in [newest, *log_entries.batches_numbered(store, numbers)]:
        problem = _batch_mismatch(files, batch)
        if problem is not None:
            return problem
    return None


def _batch_mismatch(files: HashFiles, batch: LoggedBatch) -> str | None:
    stored = files.read(0, batch.first, len(batch.hashes))
    if stored == b"".join(batch.hashes):
        return None
    leaf = next(
        batch.first + i
        for i, expected in enumerate(batch.hashes)
        if stored[32 * i : 32 * i + 32] != expected
    )
    return f"leaf {leaf}'s hash in the tree is not the one ingest batch {batch.batch} logged"


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
