"""Building inclusion and consistency proofs (RFC 9162 §2.1.3.1, §2.1.4.1) from stored
subtree hashes.

The log keeps the hashes of complete subtrees (see ``graphsvc.tlog.hash_files``); a
proof names O(log n) of them, each read once (``SubtreeHashes.subtree`` is asked for
each complete subtree at most once per proof).
"""

from __future__ import annotations

from typing import Protocol

from graphsvc.tlog.merkle import largest_power_of_two_below, node_hash


class SubtreeHashes(Protocol):
    def subtree(self, height: int, index: int) -> bytes:
        """The hash of the complete subtree of ``2**height`` leaves starting at leaf
        ``index * 2**height``."""


class _Memo:
    def __init__(self, hashes: SubtreeHashes) -> None:
        self._hashes = hashes
        self._seen: dict[tuple[int, int], bytes] = {}

    def subtree(self, height: int, index: int) -> bytes:
        key = (height, index)
        found = self._seen.get(key)
        if found is None:
            found = self._seen[key] = self._hashes.subtree(height, index)
        return found

    def range(self, start: int, end: int) -> bytes:
        """MTH of the leaves [start, end): its complete subtrees, folded right to left."""
        parts: list[bytes] = []
        while start < end:
            # The largest aligned complete subtree starting at `start` that fits.
            height = (start & -start).bit_length() - 1 if start else (end - start).bit_length()
            while (1 << height) > end - start:
                height -= 1
            parts.append(self.subtree(height, start >> height))
            start += 1 << height
        root = parts[-1]
        for left in reversed(parts[:-1]):
            root = node_hash(left, root)
        return root


def range_hash(hashes: SubtreeHashes, start: int, end: int) -> bytes:
    """MTH of the leaves [start, end) (non-empty), from the stored subtree hashes."""
    if not 0 <= start < end:
        raise ValueError(f"no leaves in [{start}, {end})")
    return _Memo(hashes).range(start, end)


def inclusion_proof(hashes: SubtreeHashes, index: int, size: int) -> list[bytes]:
    """PATH(index, D[0:size]): the audit path of leaf ``index`` in the tree of ``size``."""
    if not 0 <= index < size:
        raise ValueError(f"leaf index {index} is not inside a tree of {size} leaves")
    memo = _Memo(hashes)
    path: list[bytes] = []
    start, end = 0, size
    while end - start > 1:
        k = largest_power_of_two_below(end - start)
        if index < start + k:
            path.append(memo.range(start + k, end))
            end = start + k
        else:
            path.append(memo.range(start, start + k))
            start += k
    path.reverse()  # RFC order: the sibling nearest the leaf first
    return path


def consistency_proof(hashes: SubtreeHashes, size1: int, size2: int) -> list[bytes]:
    """PROOF(size1, D[0:size2]): that the tree of ``size1`` leaves is a prefix."""
    if not 0 <= size1 <= size2:
        raise ValueError(f"no consistency proof from tree size {size1} to {size2}")
    if size1 in (0, size2):
        return []
    memo = _Memo(hashes)
    proof: list[bytes] = []
    start, end, m, whole = 0, size2, size1, True
    while True:
        n = end - start
        if m == n:
            if not whole:
                proof.append(memo.range(start, end))
            break
        k = largest_power_of_two_below(n)
        if m <= k:
            proof.append(memo.range(start + k, end))
            end = start + k
        else:
            proof.append(memo.range(start, start + k))
            start, m, whole = start + k, m - k, False
    proof.reverse()
    return proof
