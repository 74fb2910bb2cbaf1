"""The server's evidence log: the tree built from the leaf hashes each ingest batch
stored, signed checkpoints, proofs and tiles.

Leaf indexes are assigned by the ingest transaction itself (``store/ingest_state.py``);
this object only reads what committed batches wrote, in leaf order, into its hash files
(``tlog/hash_files.py``), so every replica over one store builds the same tree.
"""

from __future__ import annotations

import base64
import json
import logging
import random
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from graphsvc.evidence_log.log_key import (
    LogKey,
    load_log_key,
    rotation_note,
    rotations,
    save_rotation,
)
from graphsvc.evidence_log.self_check import Mismatch, leaf_backed_by_tree, tree_mismatch
from graphsvc.files import write_atomically
from graphsvc.records import canonical_bytes
from graphsvc.store import log_entries
from graphsvc.store.evidence_loader import store_id
from graphsvc.store.graph_store import GraphStore
from graphsvc.tlog.checkpoint import Checkpoint
from graphsvc.tlog.cosignature import CosignerKey
from graphsvc.tlog.hash_files import HashFiles
from graphsvc.tlog.merkle import EMPTY_ROOT
from graphsvc.tlog.note import NoteError, Signature, open_note, parse_note, sign_note
from graphsvc.tlog.prove import consistency_proof, inclusion_proof, range_hash
from graphsvc.tlog.tiles import TILE_WIDTH, TileRef, bundle

CHECKPOINT_FILE = "checkpoint"  # the last checkpoint signed, as its signed note
# Older batches compared with the store: at start, and before each checkpoint is signed.
SAMPLE_AT_START = 32
SAMPLE_BEFORE_SIGNING = 2

log = logging.getLogger(__name__)


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
        rotate_key: bool = False,
        on_rebuild: Callable[[], None] = lambda: None,
        rng: random.Random | None = None,
    ) -> None:
        """``publish_on_request``: :meth:`latest` publishes a new checkpoint every time
        (for a server without the background publisher). ``witnesses``: whose
        cosignatures of the latest checkpoint are accepted and served with it.
        ``rotate_key``: a new key if this existing log's is missing (else it refuses to
        start, ``LogKeyMissing``). ``on_rebuild``: called when the tree files disagreed
        with the store and were rebuilt from it (a metric). ``rng``: picks the batches
        the self-check samples."""
        folder.mkdir(parents=True, exist_ok=True)
        marker = folder / "store-id"
        existing = marker.exists() or (folder / "tree" / "level-0.hashes").exists()
        key = load_log_key(folder, origin, exists=existing, rotate=rotate_key)
        self._folder = folder
        self._witnesses = {(w.name, w.key_hash): w for w in witnesses}
        self._cosignatures: dict[str, Signature] = {}  # of the published checkpoint
        self._publish_on_request = publish_on_request
        self._store = store
        self._signer = key.signer
        self.origin = origin
        self._files = HashFiles(folder / "tree")
        # Reentrant: publishing integrates, checks and signs under it in one go.
        self._integrating = threading.RLock()
        self._published: SignedCheckpoint | None = None
        self._on_rebuild = on_rebuild
        self._rng = rng or random.Random()
        # The files belong to one store: a store wiped or replaced starts them again.
        current = store_id(store)
        if not marker.exists() or marker.read_text().strip() != current:
            self._files.reset()
            (folder / CHECKPOINT_FILE).unlink(missing_ok=True)
            marker.write_text(current + "\n")
        self._signed = self._last_signed(key)
        if key.rotated:
            signed = self._signed.text() if self._signed else None
            save_rotation(folder, rotation_note(key, origin, signed))
        with self._integrating:
            self._check_tree(SAMPLE_AT_START)

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

    def integrate(self, store: GraphStore | None = None) -> int:
        """Append the leaves of every batch committed since, read through ``store``
        (default: the log's); the tree's new size. Tree files that end where no batch of
        the store begins are checked (``_check_tree``): rebuilt from the store when they
        are damaged."""
        with self._integrating:
            try:
                return self._integrate(store)
            except LogError:
                self._check_tree(SAMPLE_BEFORE_SIGNING)
                return self._integrate(store)

    def _integrate(self, store: GraphStore | None = None) -> int:
        """Reads through ``store`` (default: the log's)."""
        store = store or self._store
        with self._integrating:
            while True:
                # Read first: a batch that committed before this read has its entries.
                logged = log_entries.log_size(store)
                batches = log_entries.batches_from(store, self._files.size)
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

    def checkpoint_after_batch(
        self, batch: int, store: GraphStore | None = None
    ) -> tuple[int, str] | None:
        """(tree size, base64 root) of the log once ingest batch ``batch`` committed,
        read through ``store`` (default: the log's; a recompute passes its patient view)."""
        store = store or self._store
        size = log_entries.size_after_batch(store, batch)
        if size is None:
            return None
        if size > self._files.size:
            self.integrate(store)
        return size, base64.b64encode(self.root(size)).decode("ascii")

    def publish(self) -> SignedCheckpoint:
        """Integrate, check the tree against the store, then sign a checkpoint of the
        whole tree (the same note again when nothing arrived: Ed25519 signatures are
        deterministic). Never signs a root that disagrees with one signed before."""
        with self._integrating:
            size = self.integrate()
            published = self._published
            if published is not None and published.checkpoint.size == size:
                return published
            self._check_tree(SAMPLE_BEFORE_SIGNING)
            size = self._files.size
            checkpoint = Checkpoint(self.origin, size, self.root(size))
            signed = SignedCheckpoint(checkpoint, sign_note(checkpoint.text(), [self._signer]))
            write_atomically(self._folder / CHECKPOINT_FILE, signed.note.encode("utf-8"))
            self._signed = checkpoint
            self._published = signed
            self._cosignatures = {}  # witnesses cosign each checkpoint anew
        return signed

    def rotations(self) -> list[str]:
        """The notes announcing each rotation of the log's key, oldest first."""
        return rotations(self._folder)

    def _check_tree(self, sample: int) -> None:
        """Compare the tree files with the store (self_check.py) and with the last
        checkpoint signed. Damaged files are rebuilt from the store. Raises ``LogError``,
        and signs nothing, when the store changed instead: the files agree with what
        this log signed and the store does not (the files are kept: they are what
        ``graphsvc audit`` names the rewritten entries by), or a rebuilt tree still
        disagrees with a signed checkpoint."""
        mismatch = tree_mismatch(self._files, self._store, sample=sample, rng=self._rng)
        if mismatch is None:
            problem = self._differs_from_signed()
            if problem is None:
                return
        elif self._store_changed(mismatch):
            raise LogError(
                f"{mismatch.what}, while the tree agrees with the checkpoint this log "
                "signed: the store's log changed; not signing; run graphsvc audit"
            )
        else:
            problem = mismatch.what
        log.error("evidence log tree does not match the store (%s): rebuilding it", problem)
        self._on_rebuild()
        self._files.reset()
        self._integrate()
        problem = self._differs_from_signed()
        if problem is not None:
            raise LogError(
                f"{problem}, even rebuilt from the store: not signing; run graphsvc audit"
            )

    def _store_changed(self, mismatch: Mismatch) -> bool:
        """Whether the store, not the files, moved away from what this log signed."""
        signed = self._signed
        if signed is None:
            return False  # nothing signed: the store is the only reference
        if mismatch.store_size < signed.size:
            return True  # the store lost leaves a checkpoint holds
        leaf = mismatch.leaf
        return (
            leaf is not None
            and leaf < signed.size <= self._files.size
            and self.root(signed.size) == signed.root
            and leaf_backed_by_tree(self._files, leaf)
        )

    def _differs_from_signed(self) -> str | None:
        signed = self._signed
        if signed is None:
            return None
        if signed.size > self._files.size:
            return f"the tree holds {self._files.size} leaves, fewer than the {signed.size} signed"
        if self.root(signed.size) != signed.root:
            return f"the tree's root for size {signed.size} is not the one signed for it"
        return None

    def _last_signed(self, key: LogKey) -> Checkpoint | None:
        """The last checkpoint this log signed, if its file holds one signed by the key
        (or by the key it replaced); a damaged file is set aside with a warning."""
        path = self._folder / CHECKPOINT_FILE
        if not path.exists():
            return None
        verifiers = [key.signer.verifier(), *([key.replaced] if key.replaced else [])]
        try:
            text, signers = open_note(path.read_text(encoding="utf-8"), verifiers)
            if not signers:
                raise NoteError("signed by no key of this log")
            return Checkpoint.parse(text)
        except (NoteError, ValueError, OSError) as error:
            log.warning("evidence log: ignoring the last checkpoint in %s: %s", path, error)
            return None

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

    def _leaf_index(self, record_id: str) -> int | None:
        return log_entries.leaf_of_record(self._store, record_id)

    def inclusion(self, record_id: str, tree_size: int | None = None) -> InclusionProof:
        """The audit path of ``record_id`` in the tree of ``tree_size`` (default: the
        latest checkpoint's)."""
        size = self.latest().checkpoint.size if tree_size is None else tree_size
        index = self._leaf_index(record_id)
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
