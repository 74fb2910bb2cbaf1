"""The log's tree on disk: for each tile level L, the hashes of its complete subtrees of
2**(8L) leaves, appended to one file per level (``level-<L>.hashes``, 32 bytes each).

Level 0 is the leaf hashes; a tile ``L/N`` is bytes ``[N*256*32, (N+1)*256*32)`` of
level L's file, a partial tile a prefix of that. Any subtree hash is then one contiguous
read of at most 128 hashes (docs/auditors.md). The files can always be rebuilt from
the leaf hashes the store keeps, so they are not synced on every append; on opening,
a torn or missing tail is cut or recomputed.
"""

from __future__ import annotations

import errno
import os
import threading
from collections.abc import Sequence
from pathlib import Path

from graphsvc.tlog.merkle import HASH_SIZE, node_hash
from graphsvc.tlog.tiles import TILE_HEIGHT, TILE_WIDTH

_TILE_BYTES = TILE_WIDTH * HASH_SIZE


def _fold(hashes: bytes) -> bytes:
    """The root of a complete subtree given its bottom row (a power of two of hashes)."""
    row = [hashes[i : i + HASH_SIZE] for i in range(0, len(hashes), HASH_SIZE)]
    while len(row) > 1:
        row = [node_hash(row[i], row[i + 1]) for i in range(0, len(row), 2)]
    return row[0]


def _fold_tiles(row: bytes) -> bytes:
    """The root of each full tile of ``row``, concatenated: the next level's hashes."""
    return b"".join(_fold(row[i : i + _TILE_BYTES]) for i in range(0, len(row), _TILE_BYTES))


class HashFiles:
    """Append-only subtree hashes of one log, in ``folder``."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self._lock = threading.Lock()
        self._files: list[int] = []  # one descriptor per level, opened read/append
        self._counts: list[int] = []
        self._open_level(0)
        self._counts[0] = self._repair(0, None)
        level = 1
        while self._counts[level - 1] >= TILE_WIDTH or self._path(level).exists():
            self._open_level(level)
            self._counts[level] = self._repair(level, self._counts[level - 1] // TILE_WIDTH)
            level += 1

    @property
    def size(self) -> int:
        """How many leaves the files hold."""
        return self._counts[0]

    def _path(self, level: int) -> Path:
        return self.folder / f"level-{level}.hashes"

    def _open_level(self, level: int) -> None:
        fd = os.open(self._path(level), os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644)
        self._files.append(fd)
        self._counts.append(0)

    def _repair(self, level: int, wanted: int | None) -> int:
        """Cut a torn or surplus tail; recompute a missing one from the level below."""
        fd = self._files[level]
        count = os.fstat(fd).st_size // HASH_SIZE
        if wanted is not None and count > wanted:
            count = wanted
        os.ftruncate(fd, count * HASH_SIZE)
        self._counts[level] = count
        if wanted is not None and count < wanted:
            below = self.read(level - 1, count * TILE_WIDTH, (wanted - count) * TILE_WIDTH)
            os.write(fd, _fold_tiles(below))
            count = wanted
        return count

    def close(self) -> None:
        for fd in self._files:
            os.close(fd)
        self._files.clear()

    def reset(self) -> None:
        """Forget every hash (the store they came from is not this one)."""
        with self._lock:
            for fd in self._files:
                os.ftruncate(fd, 0)
            self._counts = [0] * len(self._counts)

    @property
    def levels(self) -> int:
        """How many tile levels have a file (level 0, the leaves, always does)."""
        return len(self._counts)

    def folds_below(self, level: int, index: int) -> bool:
        """Whether hash ``index`` of ``level`` (1 or more) is the root of the tile below
        it, as it must be: a check of the files against themselves."""
        below = self.read(level - 1, index * TILE_WIDTH, TILE_WIDTH)
        return self.read(level, index, 1) == _fold(below)

    def count(self, level: int) -> int:
        return self._counts[level] if level < len(self._counts) else 0

    def read(self, level: int, start: int, count: int) -> bytes:
        """``count`` hashes of tile level ``level`` from position ``start``, concatenated."""
        if count < 0 or start < 0 or start + count > self.count(level):
            raise IndexError(
                f"hashes {start}..{start + count} of level {level} are not stored "
                f"(it holds {self.count(level)})"
            )
        data = os.pread(self._files[level], count * HASH_SIZE, start * HASH_SIZE)
        if len(data) != count * HASH_SIZE:
            raise OSError(f"short read of {self._path(level)}")
        return data

    def append(self, leaves: Sequence[bytes]) -> None:
        """Append leaf hashes, and every subtree hash they complete. A write that fails
        (a full disk) is undone: the files keep the hashes they held before."""
        if not leaves:
            return
        with self._lock:
            before = list(self._counts)
            try:
                self._append(leaves)
            except OSError:
                for level, fd in enumerate(self._files):
                    count = before[level] if level < len(before) else 0
                    os.ftruncate(fd, count * HASH_SIZE)
                    self._counts[level] = count
                raise

    def _append(self, leaves: Sequence[bytes]) -> None:
        row = b"".join(leaves)
        if len(row) != len(leaves) * HASH_SIZE:
            raise ValueError("leaf hashes are 32 bytes each")
        level = 0
        while row:
            if level == len(self._files):
                self._open_level(level)
            before = self._counts[level]
            written = os.write(self._files[level], row)
            if written != len(row):  # a disk that filled up part way
                raise OSError(errno.ENOSPC, f"short write to {self._path(level)}")
            self._counts[level] = before + len(row) // HASH_SIZE
            # The tiles of this level that the new hashes completed feed the next.
            first, last = before // TILE_WIDTH, self._counts[level] // TILE_WIDTH
            if first == last:
                break
            tiles = self.read(level, first * TILE_WIDTH, (last - first) * TILE_WIDTH)
            row = _fold_tiles(tiles)
            level += 1

    def subtree(self, height: int, index: int) -> bytes:
        """The hash of the complete subtree of 2**height leaves starting at leaf
        ``index * 2**height``: one read of 2**(height mod 8) hashes of its tile level."""
        level, within = divmod(height, TILE_HEIGHT)
        width = 1 << within
        return _fold(self.read(level, index * width, width))
