"""What ``graphsvc verify`` checks, on answers already in hand (pure: no network)."""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from graphsvc.records.canonical import canonical_bytes, record_id
from graphsvc.tlog.checkpoint import Checkpoint
from graphsvc.tlog.cosignature import CosignerKey
from graphsvc.tlog.merkle import leaf_hash
from graphsvc.tlog.note import NoteError, NoteVerifier, open_note, parse_note
from graphsvc.tlog.proofs import verify_consistency, verify_inclusion


class VerificationError(ValueError):
    """An answer that does not check out; the message says which and why."""


@dataclass(frozen=True)
class Inclusion:
    """An inclusion proof as the server answers it (GraphQL ``inclusionProof``)."""

    record_id: str
    leaf_index: int
    tree_size: int
    hashes: list[bytes]

    @classmethod
    def of(cls, answer: Mapping[str, Any]) -> Inclusion:
        return cls(
            str(answer["recordId"]),
            int(answer["leafIndex"]),
            int(answer["treeSize"]),
            [base64.b64decode(h, validate=True) for h in answer["hashes"]],
        )


def open_checkpoint(note: str, key: NoteVerifier) -> Checkpoint:
    """The checkpoint a note carries, if the log's key signed it for its origin."""
    try:
        text, _ = open_note(note, [key])
        checkpoint = Checkpoint.parse(text)
    except ValueError as error:
        raise VerificationError(f"checkpoint: {error}") from None
    if checkpoint.origin != key.name:
        raise VerificationError(
            f"checkpoint: its origin {checkpoint.origin!r} is not the key's log {key.name!r}"
        )
    return checkpoint


def count_cosignatures(note: str, witnesses: Sequence[CosignerKey]) -> list[str]:
    """The witnesses among ``witnesses`` whose valid cosignature ``note`` carries."""
    text, signatures = parse_note(note)
    found = []
    for witness in witnesses:
        for signature in signatures:
            if (signature.name, signature.key_hash) == (witness.name, witness.key_hash):
                try:
                    witness.timestamp_of(signature, text)
                except NoteError as error:
                    raise VerificationError(f"cosignature: {error}") from None
                found.append(witness.name)
                break
    return found


def check_record(record: Mapping[str, Any], proof: Inclusion, checkpoint: Checkpoint) -> None:
    """That ``record`` (the full signed record) is leaf ``proof.leaf_index`` of the
    checkpoint's tree."""
    if record_id(record) != proof.record_id:
        raise VerificationError(f"{proof.record_id}: the proof is for another record")
    if proof.tree_size != checkpoint.size:
        raise VerificationError(
            f"{proof.record_id}: proof for tree size {proof.tree_size}, "
            f"checkpoint of {checkpoint.size}"
        )
    leaf = leaf_hash(canonical_bytes(record, without=()))
    try:
        verify_inclusion(proof.leaf_index, checkpoint.size, leaf, proof.hashes, checkpoint.root)
    except ValueError as error:
        raise VerificationError(f"{proof.record_id}: {error}") from None


def check_consistency(old: Checkpoint, new: Checkpoint, hashes: list[bytes]) -> None:
    """That ``old``'s tree is a prefix of ``new``'s (an empty old tree trivially is)."""
    if old.origin != new.origin:
        raise VerificationError(f"checkpoints of two logs: {old.origin!r}, {new.origin!r}")
    if old.size == 0:
        return
    try:
        verify_consistency(old.size, new.size, old.root, new.root, hashes)
    except ValueError as error:
        raise VerificationError(f"consistency {old.size} -> {new.size}: {error}") from None
