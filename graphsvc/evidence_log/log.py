"""The server's evidence log: the tree built from the leaf hashes each ingest batch
stored, signed checkpoints, proofs and tiles.

Leaf indexes are assigned by the ingest transaction itself (``store/ingest_state.py``);
this object only reads what committed batches wrote, in leaf order, into its hash files
(``tlog/hash_files.py``), so every replica over one store builds the same tree.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from nacl.signing import SigningKey

from graphsvc.records import (
    canonical_bytes,
    generate_signing_key,
    read_signing_key,
    write_signing_key,
)
from graphsvc.store import log_entries
from graphsvc.store.evidence_loader import store_id
from graphsvc.store.graph_store import GraphStore
from graphsvc.tlog.checkpoint import Checkpoint
from graphsvc.tlog.cosignature import CosignerKey
from graphsvc.tlog.hash_files import HashFiles
from graphsvc.tlog.merkle import EMPTY_ROOT
from graphsvc.tlog.note import NoteError, NoteSigner, Signature, parse_note, sign_note
from graphsvc.tlog.prove import consistency_proof, inclusion_proof, range_hash
from graphsvc.tlog.tiles import TILE_WIDTH, TileRef, bundle

KEY_FILE = "log.key"


class LogError(ValueError):
    """A question the log cannot answer as asked (unknown record, size beyond the log)."""


@dataclass(frozen=True)
class SignedCheckpoint:
    checkpoint: Checkpoint
    note: str  # the checkpoint text, signed (C2SP signed-note)


@dataclass(frozen=True)
class InclusionProof:
    record_id: str
    leaf_index: int
    tree_size: int
    path: list[bytes]


class EvidenceLog:
    """The log of one store, its tree kept in ``folder`` with its Ed25519 key."""

    def __init__(
        self,
        store: GraphStore,
        folder: Path,
        origin: str,
        *,
        publish_on_request: bool = False,
        witnesses: Sequence[CosignerKey] = (),
    ) -> None:
        """``publish_on_request``: :meth:`latest` publishes a new checkpoint every time
        (for a server without the background publisher). ``witnesses``: whose
        cosignatures of the latest checkpoint are accepted and served with it."""
        folder.mkdir(parents=True, exist_ok=True)
        self._witnesses = {(w.name, w.key_hash): w for w in witnesses}
        self._cosignatures: dict[str, Signature] = {}  # of the published checkpoint
        self._publish_on_request = publish_on_request
        self._store = store
        self._signer = NoteSigner(origin, _log_key(folder / KEY_FILE))
        self.origin = origin
        self._files = HashFiles(folder / "tree")
        self._integrating = threading.Lock()
        self._published: SignedCheckpoint | None = None
        # The files belong to one store: a store wiped or replaced starts them again.
        marker = folder / "store-id"
        current = store_id(store)
        if not marker.exists() or marker.read_text().strip() != current:
            self._files.reset()
            marker.write_text(current + "\n")

    def close(self) -> None:
        self._files.close()

    @property
    def store(self) -> GraphStore:
        return self._store

    def verifier_key(self) -> str:
        """The log's public key in note verifier format: ``<origin>+<hash>+<key>``."""
        return self._signer.verifier().encode()

    @property
    def size(self) -> int:
        """How many leaves this process has built into its tree."""
        return self._files.size

    def integrate(self) -> int:
        """Append the leaves of every batch committed since; the tree's new size."""
        with self._integrating:
            while True:
                # Read first: a batch that committed before this read has its entries.
                logged = log_entries.log_size(self._store)
                batches = log_entries.batches_from(self._store, self._files.size)
                if not batches:
                    if logged != self._files.size:
                        # Entries missing, or a store restored from before leaves the
                        # tree holds: never publish over it; the publisher reports it.
                        raise LogError(
                            f"the store counts {logged} logged records but the log's tree "
                            f"holds {self._files.size} and no entries follow: run "
                            "graphsvc audit"
                        )
                    return self._files.size
                before = self._files.size
                for batch in batches:
                    self._files.append(batch.hashes)
                if self._files.size == before:
                    # Entries that hold no leaf where leaves are due: reading on would
                    # find the same ones again, forever.
                    raise LogError(
                        f"the log entries of ingest batch {batches[0].batch} at leaf "
                        f"{before} hold no leaf hash: run graphsvc audit"
                    )

    def leaf_hashes(self, start: int, count: int) -> list[bytes]:
        """The tree's leaf hashes ``start`` to ``start + count``."""
        data = self._files.read(0, start, count)
        return [data[i : i + 32] for i in range(0, len(data), 32)]

    def root(self, size: int) -> bytes:
        self._check_size(size)
        return range_hash(self._files, 0, size) if size else EMPTY_ROOT

    def checkpoint_after_batch(self, batch: int) -> tuple[int, str] | None:
        """(tree size, base64 root) of the log once ingest batch ``batch`` committed."""
        size = log_entries.size_after_batch(self._store, batch)
        if size is None:
            return None
        if size > self._files.size:
            self.integrate()
        return size, base64.b64encode(self.root(size)).decode("ascii")

    def publish(self) -> SignedCheckpoint:
        """Integrate, then sign a checkpoint of the whole tree (the same note again when
        nothing arrived: Ed25519 signatures are deterministic)."""
        size = self.integrate()
        published = self._published
        if published is not None and published.checkpoint.size == size:
            return published
        checkpoint = Checkpoint(self.origin, size, self.root(size))
        signed = SignedCheckpoint(checkpoint, sign_note(checkpoint.text(), [self._signer]))
        with self._integrating:
            self._published = signed
            self._cosignatures = {}  # witnesses cosign each checkpoint anew
        return signed

    def latest(self) -> SignedCheckpoint:
        """The newest published checkpoint (publishing one if none was yet), with the
        witnesses' cosignatures it has received."""
        signed = self.publish() if self._publish_on_request else self._published
        signed = signed or self.publish()
        with self._integrating:
            if signed is not self._published or not self._cosignatures:
                return signed
            lines = "".join(c.line() for _, c in sorted(self._cosignatures.items()))
        return SignedCheckpoint(signed.checkpoint, signed.note + lines)

    def add_cosignatures(self, note: str) -> list[str]:
        """Keep the configured witnesses' cosignatures of the latest checkpoint that
        ``note`` (the checkpoint with cosignature lines) carries; their names."""
        try:
            text, signatures = parse_note(note)
        except NoteError as error:
            raise LogError(f"not a cosigned checkpoint: {error}") from None
        published = self._published
        if published is None or text != published.checkpoint.text():
            latest = published.checkpoint.size if published else 0
            raise LogError(f"the note cosigns another checkpoint than the latest ({latest})")
        accepted: dict[str, Signature] = {}
        for signature in signatures:
            witness = self._witnesses.get((signature.name, signature.key_hash))
            if witness is None:
                continue  # the log's own line, or a witness not configured here
            try:
                witness.timestamp_of(signature, text)
            except NoteError as error:
                raise LogError(str(error)) from None
            accepted[witness.name] = signature
        if not accepted:
            raise LogError("the note carries no cosignature of a configured witness")
        with self._integrating:
            if self._published is published:
                self._cosignatures.update(accepted)
        return sorted(accepted)

    def _check_size(self, size: int) -> None:
        if not 0 <= size <= self._files.size:
            raise LogError(f"tree size {size} is beyond the log's {self._files.size} leaves")

    def leaf_index(self, record_id: str) -> int | None:
        return log_entries.leaf_of_record(self._store, record_id)

    def inclusion(self, record_id: str, tree_size: int | None = None) -> InclusionProof:
        """The audit path of ``record_id`` in the tree of ``tree_size`` (default: the
        latest checkpoint's)."""
        size = self.latest().checkpoint.size if tree_size is None else tree_size
        index = self.leaf_index(record_id)
        if index is None:
            raise LogError(f"no logged record has id {record_id}")
        if index >= size:
            self.integrate()
        self._check_size(size)
        if index >= size:
            raise LogError(f"record {record_id} is leaf {index}, not in a tree of {size} leaves")
        return InclusionProof(record_id, index, size, inclusion_proof(self._files, index, size))

    def consistency(self, from_size: int, to_size: int) -> list[bytes]:
        if to_size > self._files.size:
            self.integrate()
        self._check_size(to_size)
        if not 0 <= from_size <= to_size:
            raise LogError(f"no consistency proof from tree size {from_size} to {to_size}")
        return consistency_proof(self._files, from_size, to_size)

    def tile(self, ref: TileRef) -> bytes | None:
        """A hash tile's bytes; None when the log does not hold it (yet)."""
        if ref.level is None:
            return self.entries(ref)
        start = ref.index * TILE_WIDTH
        if start + ref.width > self._files.count(ref.level):
            return None
        return self._files.read(ref.level, start, ref.width)

    def entries(self, ref: TileRef) -> bytes | None:
        """An entry bundle: the stored records of its leaves, as their leaf data."""
        start = ref.index * TILE_WIDTH
        if start + ref.width > self._files.size:
            return None
        leaves = list(range(start, start + ref.width))
        found = log_entries.records_at(self._store, leaves)
        data = []
        for leaf in leaves:
            records = found[leaf]
            if len(records) != 1:
                raise LogError(
                    f"the store holds {len(records)} records for leaf {leaf}: run graphsvc audit"
                )
            data.append(leaf_data(records[0].record))
        return bundle(data)


def leaf_data(stored: str) -> bytes:
    """A stored record's leaf data: its RFC 8785 bytes, `sig` included."""
    return canonical_bytes(json.loads(stored), without=())


def _log_key(path: Path) -> SigningKey:
    """The log's signing key: read, or generated at first use (mode 0600, never logged)."""
    if path.exists():
        return read_signing_key(path)
    key = generate_signing_key()
    try:
        write_signing_key(path, key)
    except FileExistsError:  # another process of this data directory made it first
        return read_signing_key(path)
    return key
