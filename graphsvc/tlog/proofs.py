"""Verification of inclusion and consistency proofs (RFC 9162 §2.1.3.2, §2.1.4.2).

Verification only: nothing here builds a proof, so a verifier importing this module
shares no code with the log that answers the proofs (see ``graphsvc.tlog.prove``).
"""

from __future__ import annotations

from collections.abc import Sequence

from graphsvc.tlog.merkle import HASH_SIZE, node_hash


class ProofError(ValueError):
    """A proof does not verify; the message says which check failed."""


def _check_hash(value: bytes, what: str) -> None:
    if len(value) != HASH_SIZE:
        raise ProofError(f"{what} must be {HASH_SIZE} bytes, got {len(value)}")


def root_from_inclusion(index: int, size: int, leaf: bytes, path: Sequence[bytes]) -> bytes:
    """The root that ``path`` proves ``leaf`` (a leaf hash) at ``index`` belongs to."""
    if not 0 <= index < size:
        raise ProofError(f"leaf index {index} is not inside a tree of {size} leaves")
    _check_hash(leaf, "leaf hash")
    fn, sn, root = index, size - 1, leaf
    for position, sibling in enumerate(path):
        _check_hash(sibling, f"inclusion path element {position}")
        if sn == 0:
            raise ProofError("inclusion path is longer than the tree is deep")
        if fn & 1 or fn == sn:
            root = node_hash(sibling, root)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            root = node_hash(root, sibling)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("inclusion path is shorter than the tree is deep")
    return root


def verify_inclusion(
    index: int, size: int, leaf: bytes, path: Sequence[bytes], root: bytes
) -> None:
    """Raise :class:`ProofError` unless ``path`` proves ``leaf`` at ``index`` in ``root``."""
    _check_hash(root, "root hash")
    if root_from_inclusion(index, size, leaf, path) != root:
        raise ProofError(f"leaf {index} is not included in the tree of size {size} with that root")


def verify_consistency(
    size1: int, size2: int, root1: bytes, root2: bytes, path: Sequence[bytes]
) -> None:
    """Raise :class:`ProofError` unless ``path`` proves the tree of ``size1`` leaves and
    root ``root1`` is a prefix of the tree of ``size2`` leaves and root ``root2``."""
    if size1 < 0 or size2 < size1:
        raise ProofError(f"tree size {size2} is smaller than the earlier size {size1}")
    if size1 == 0:
        # Every tree extends the empty one: there is nothing to prove (as RFC 9162 and
        # transparency-dev/merkle, a proof from size 0 is refused; callers skip it).
        raise ProofError("a consistency proof from the empty tree proves nothing")
    if size1 == size2:
        if path:
            raise ProofError("a proof between equal tree sizes must be empty")
        if root1 != root2:
            raise ProofError(f"two different roots for the same tree size {size1}")
        return
    _check_hash(root1, "first root hash")
    _check_hash(root2, "second root hash")
    if not path:
        raise ProofError("the consistency proof is empty")
    for position, element in enumerate(path):
        _check_hash(element, f"consistency path element {position}")
    elements = list(path)
    if size1 & (size1 - 1) == 0:  # a power of two: the first tree is a node of the second
        elements.insert(0, root1)
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    first = second = elements[0]
    for element in elements[1:]:
        if sn == 0:
            raise ProofError("consistency path is longer than the tree is deep")
        if fn & 1 or fn == sn:
            first = node_hash(element, first)
            second = node_hash(element, second)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            second = node_hash(second, element)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("consistency path is shorter than the tree is deep")
    if first != root1:
        raise ProofError(f"the proof does not lead to the root of the tree of size {size1}")
    if second != root2:
        raise ProofError(f"the proof does not lead to the root of the tree of size {size2}")
