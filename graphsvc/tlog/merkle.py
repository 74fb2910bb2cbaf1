"""RFC 6962 / 9162 Merkle tree hashing: SHA-256 with a 0x00 leaf and a 0x01 node prefix.

Only what both the log and a verifier need: leaf and node hashes, the root of a list of
leaf hashes, and a compact range that folds leaves in one at a time.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

HASH_SIZE = 32
LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
# The root of the empty tree: SHA-256 of nothing (RFC 9162 §2.1.1).
EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(NODE_PREFIX + left + right).digest()


def largest_power_of_two_below(n: int) -> int:
    """The largest power of two strictly less than ``n`` (``n`` > 1): RFC 6962's k."""
    if n < 2:
        raise ValueError(f"no power of two splits a tree of {n} leaves")
    return 1 << ((n - 1).bit_length() - 1)


class CompactRange:
    """The right edge of a growing tree: one hash per set bit of its size.

    Appending a leaf merges equal-height subtrees, so the root of any prefix of a
    stream of leaves costs O(log n) memory.
    """

    def __init__(self) -> None:
        self.size = 0
        self._stack: list[tuple[int, bytes]] = []  # (height, hash), left to right

    def append(self, leaf: bytes) -> None:
        height, current = 0, leaf
        while self._stack and self._stack[-1][0] == height:
            _, left = self._stack.pop()
            current = node_hash(left, current)
            height += 1
        self._stack.append((height, current))
        self.size += 1

    def extend(self, leaves: Iterable[bytes]) -> None:
        for leaf in leaves:
            self.append(leaf)

    def root(self) -> bytes:
        if not self._stack:
            return EMPTY_ROOT
        root = self._stack[-1][1]
        for _, left in reversed(self._stack[:-1]):
            root = node_hash(left, root)
        return root


def root_of(leaves: Iterable[bytes]) -> bytes:
    """MTH of the leaf hashes ``leaves`` (RFC 9162 §2.1.1)."""
    tree = CompactRange()
    tree.extend(leaves)
    return tree.root()
