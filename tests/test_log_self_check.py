"""The evidence log never equivocates because of its own files (issue 24): a byte
flipped in any tree file, a leaf file cut or extended, the last checkpoint's file
damaged, are found at start or before signing, and the tree is rebuilt from the store;
no two checkpoints ever carry different roots for one size. A store that contradicts a
checkpoint already signed stops the publication (/readyz degraded). A log whose key is
gone refuses to start unless the operator rotates it, and the rotation is announced."""

from __future__ import annotations

import base64
import random
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from graphsvc.api.app import create_app
from graphsvc.cli import main
from graphsvc.evidence_log.audit import audit
from graphsvc.evidence_log.log import CHECKPOINT_FILE, EvidenceLog, LogError
from graphsvc.evidence_log.log_key import KEY_FILE, PUBLIC_FILE, LogKeyMissing
from graphsvc.services import running_services
from graphsvc.settings import Settings
from graphsvc.store import log_entries
from graphsvc.store.endpoint import BoltEndpoint
from graphsvc.store.graph_store import GraphStore, Statement
from graphsvc.tlog.checkpoint import Checkpoint
from graphsvc.tlog.note import NoteVerifier, open_note, parse_note
from graphsvc.tlog.proofs import verify_consistency, verify_inclusion
from tests.network import Network
from tests.test_cli import one_line_failure
from tests.test_evidence_log import ORIGIN, _ingestor, _records

BATCH = 100
RECEIPTS = 560  # with the basics: two full tiles of leaves, so a level-1 file too


@pytest.fixture(scope="module")
def logged(
    embedded_endpoint: BoltEndpoint, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[GraphStore]:
    """A store with a few hundred logged records, in batches of 100."""
    with GraphStore(embedded_endpoint) as store:
        store.write([Statement("MATCH (n) DETACH DELETE n", {})])
        store.apply_schema()
        net = Network()
        ingestor = _ingestor(store)
        ingestor.submit(net.basics())
        receipts = _records(net, RECEIPTS)
        for start in range(0, RECEIPTS, BATCH):
            ingestor.submit(receipts[start : start + BATCH])
        yield store


def _open(store: GraphStore, folder: Path, rebuilds: list[int], **kwargs: bool) -> EvidenceLog:
    return EvidenceLog(
        store,
        folder,
        ORIGIN,
        on_rebuild=lambda: rebuilds.append(1),
        rng=random.Random(7),
        **kwargs,
    )


def _flip(path: Path, offset: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))


def _cut(path: Path, count: int) -> None:
    data = path.read_bytes()
    path.write_bytes(data[:-count])


def _extend(path: Path) -> None:
    path.write_bytes(path.read_bytes() + b"\x07" * 32)


def _assert_same_tree(log: EvidenceLog, store: GraphStore, first: Checkpoint) -> None:
    """The checkpoint for ``first``'s size carries its root, and every leaf's inclusion
    proof verifies against it with the leaf hash the store logged."""
    again = log.publish().checkpoint
    assert (again.size, again.root) == (first.size, first.root)
    hashes = [h for batch in log_entries.batches_until(store, first.size) for h in batch.hashes]
    for index in range(first.size):
        proof = log.inclusion(_record_at(store, index), first.size)
        verify_inclusion(index, first.size, hashes[index], proof.path, first.root)


def _record_at(store: GraphStore, index: int) -> str:
    batch = log_entries.batch_holding(store, index)
    assert batch is not None
    return batch.ids[index - batch.first]


TREE = Path("tree")
LEAVES = TREE / "level-0.hashes"
LEVEL_1 = TREE / "level-1.hashes"
DAMAGE: dict[str, Callable[[Path, int], None]] = {
    "a leaf hash near the end flipped": lambda f, n: _flip(f / LEAVES, 32 * (n - 3)),
    "an old leaf hash flipped": lambda f, n: _flip(f / LEAVES, 32 * 5 + 9),
    "a level-1 hash flipped": lambda f, n: _flip(f / LEVEL_1, 17),
    "the leaf file cut by 16 bytes": lambda f, n: _cut(f / LEAVES, 16),
    "the leaf file cut by a leaf and a half": lambda f, n: _cut(f / LEAVES, 48),
    "one leaf too many": lambda f, n: _extend(f / LEAVES),
    "the level-1 file gone": lambda f, n: (f / LEVEL_1).unlink(),
}


@pytest.mark.parametrize("damage", DAMAGE, ids=list(DAMAGE))
def test_damaged_tree_files_are_rebuilt_at_start_and_sign_the_same_root(
    logged: GraphStore, tmp_path: Path, damage: str
) -> None:
    rebuilds: list[int] = []
    log = _open(logged, tmp_path, rebuilds)
    first = log.publish().checkpoint
    assert first.size == log_entries.log_size(logged) > 2 * 256
    log.close()
    DAMAGE[damage](tmp_path, first.size)
    again = _open(logged, tmp_path, rebuilds)
    _assert_same_tree(again, logged, first)
    again.close()
    if damage != "the level-1 file gone":  # that one the files recompute by themselves
        assert rebuilds == [1]


def test_a_flip_while_serving_is_refused_before_signing(logged: GraphStore, tmp_path: Path) -> None:
    rebuilds: list[int] = []
    log = _open(logged, tmp_path, rebuilds)
    first = log.publish().checkpoint
    _flip(tmp_path / LEAVES, 32 * (first.size - 1) + 3)  # under the open log
    log._published = None  # as after a restart: the next publication signs again
    _assert_same_tree(log, logged, first)
    assert rebuilds == [1]
    log.close()


def test_a_damaged_checkpoint_file_is_set_aside(logged: GraphStore, tmp_path: Path) -> None:
    rebuilds: list[int] = []
    log = _open(logged, tmp_path, rebuilds)
    first = log.publish().checkpoint
    log.close()
    _flip(tmp_path / CHECKPOINT_FILE, 30)
    again = _open(logged, tmp_path, rebuilds)
    _assert_same_tree(again, logged, first)
    assert rebuilds == []
    again.close()


def test_a_store_that_contradicts_a_signed_checkpoint_stops_publication(
    embedded_endpoint: BoltEndpoint, clean_graph: BoltEndpoint, tmp_path: Path
) -> None:
    settings = Settings(log_interval=0)
    with (
        GraphStore(clean_graph) as store,
        running_services(settings, store=store, log_dir=tmp_path) as services,
        TestClient(create_app(services)) as client,
    ):
        net = Network()
        records = [*net.basics(), *_records(net, 5)]
        _ingestor(store).submit(records)
        first = services.log.publish().checkpoint
        assert services.publisher.run_once()
        assert client.get("/readyz").json()["status"] == "ready"
        # The store's own entries rewritten: its newest leaf is another record's now.
        rows = store.read("MATCH (l:LogEntries) RETURN l.first AS first, l.hashes AS h")
        newest = max(rows, key=lambda r: int(r["first"]))
        hashes = bytearray(base64.b64decode(newest["h"]))
        hashes[-1] ^= 0x01
        rewrite = "MATCH (l:LogEntries {first: $first}) SET l.hashes = $h"
        changed = {"first": newest["first"], "h": base64.b64encode(bytes(hashes)).decode()}
        store.write([Statement(rewrite, changed)])
        services.log._published = None  # as after a restart
        with pytest.raises(LogError, match="the store's log changed; not signing"):
            services.log.publish()
        assert not services.publisher.run_once()
        ready = client.get("/readyz").json()
        assert ready["status"] == "degraded", ready
        assert "checkpoints cannot be published" in ready["cause"]
        assert client.get("/log/checkpoint").status_code == 503
        # The tree was kept, not rebuilt from the changed store: the audit names the
        # rewritten entry against the root this log signed.
        assert services.metrics.log_rebuilds._value.get() == 0
        report = audit(services.log)
        assert (report.tree_size, report.log_root) == (first.size, first.root)
        assert [(f.kind, f.leaf) for f in report.findings] == [("changed", first.size - 1)]
        assert "log entry for this leaf was rewritten" in report.findings[0].detail
        assert first.size == len(records)


def test_a_missing_key_stops_the_start_unless_rotated(logged: GraphStore, tmp_path: Path) -> None:
    rebuilds: list[int] = []
    log = _open(logged, tmp_path, rebuilds)
    first = log.publish().checkpoint
    old_key = log.verifier_key()
    log.close()
    (tmp_path / KEY_FILE).unlink()
    with pytest.raises(LogKeyMissing) as refused:
        _open(logged, tmp_path, rebuilds)
    assert "\n" not in str(refused.value) and "--rotate-log-key" in str(refused.value)
    assert not (tmp_path / KEY_FILE).exists()  # nothing made behind the operator's back

    rotated = _open(logged, tmp_path, rebuilds, rotate_key=True)
    new_key = rotated.verifier_key()
    assert new_key != old_key
    (note,) = rotated.rotations()
    text, signers = open_note(note, [NoteVerifier.parse(new_key)])
    assert signers == [ORIGIN]
    assert f"old {old_key}\n" in text and f"new {new_key}\n" in text
    assert f"last checkpoint {first.size} {first.root_b64}" in text
    _assert_same_tree(rotated, logged, first)
    rotated.close()
    # Rotated once: the next start uses the new key, and announces nothing more.
    again = _open(logged, tmp_path, rebuilds, rotate_key=True)
    assert again.verifier_key() == new_key and len(again.rotations()) == 1
    assert (tmp_path / PUBLIC_FILE).read_text().strip() == new_key
    again.close()
    assert rebuilds == []


def test_a_new_log_folder_makes_its_key_silently(logged: GraphStore, tmp_path: Path) -> None:
    log = _open(logged, tmp_path / "fresh", [])
    signed = log.publish()
    text, _ = parse_note(signed.note)
    assert Checkpoint.parse(text).size == log_entries.log_size(logged)
    assert log.rotations() == []
    log.close()


def test_checkpoints_after_a_rebuild_stay_consistent(logged: GraphStore, tmp_path: Path) -> None:
    rebuilds: list[int] = []
    log = _open(logged, tmp_path, rebuilds)
    first = log.publish().checkpoint
    log.close()
    _cut(tmp_path / LEAVES, 16)
    again = _open(logged, tmp_path, rebuilds)
    net = Network()
    _ingestor(logged).submit([net.receipt(RECEIPTS + 1)])
    later = again.publish().checkpoint
    assert later.size == first.size + 1
    verify_consistency(
        first.size, later.size, first.root, later.root, again.consistency(first.size, later.size)
    )
    again.close()


def test_the_cli_refuses_a_log_without_its_key_in_one_line(
    store_env: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["audit"]) == 0
    (tmp_path / "data" / "log" / KEY_FILE).unlink()
    refused = one_line_failure(capsys, ["audit"])
    assert "log.key is missing" in refused and "--rotate-log-key" in refused, refused
    assert not (tmp_path / "data" / "log" / KEY_FILE).exists()
