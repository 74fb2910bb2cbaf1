"""The log's formats against others' vectors: transparency-dev/merkle's proof vectors,
the RFC 6962 reference tree, Go's sumdb/note signature, and the `cryptography` package's
Ed25519 as an independent signer/verifier."""

from __future__ import annotations

import base64
import json
import random
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from nacl.signing import SigningKey

from graphsvc.tlog.checkpoint import Checkpoint, CheckpointError
from graphsvc.tlog.hash_files import HashFiles
from graphsvc.tlog.merkle import EMPTY_ROOT, leaf_hash, root_of
from graphsvc.tlog.note import NoteError, NoteSigner, NoteVerifier, open_note, sign_note
from graphsvc.tlog.proofs import ProofError, verify_consistency, verify_inclusion
from graphsvc.tlog.prove import consistency_proof, inclusion_proof
from graphsvc.tlog.tiles import (
    TilePathError,
    TileRef,
    bundle,
    encode_index,
    parse_tile_path,
    unbundle,
)

VECTORS = json.loads(
    (Path(__file__).parent / "data" / "tlog" / "transparency_dev_vectors.json").read_text()
)

# The reference tree of RFC 6962's test suite (and transparency-dev/merkle's): its
# leaves and the root of each prefix.
RFC_LEAVES = [
    b"",
    b"\x00",
    b"\x10",
    b"\x20\x21",
    b"\x30\x31",
    b"\x40\x41\x42\x43",
    b"\x50\x51\x52\x53\x54\x55\x56\x57",
    bytes(range(0x60, 0x70)),
]
RFC_ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]


def _b64(value: str | None) -> bytes:
    return base64.b64decode(value) if value else b""


def _b64s(values: list[str] | None) -> list[bytes]:
    return [_b64(v) for v in values or []]


@pytest.fixture
def rfc_tree(tmp_path: Path) -> HashFiles:
    files = HashFiles(tmp_path / "tree")
    files.append([leaf_hash(leaf) for leaf in RFC_LEAVES])
    return files


def test_roots_of_the_rfc_reference_tree() -> None:
    assert root_of([]) == EMPTY_ROOT
    for size, root in enumerate(RFC_ROOTS, start=1):
        assert root_of(leaf_hash(leaf) for leaf in RFC_LEAVES[:size]).hex() == root


@pytest.mark.parametrize("case", VECTORS["inclusion"], ids=lambda c: c["file"])
def test_inclusion_vectors(case: dict[str, Any]) -> None:
    def check() -> None:
        verify_inclusion(
            case["leafIdx"],
            case["treeSize"],
            _b64(case["leafHash"]),
            _b64s(case["proof"]),
            _b64(case["root"]),
        )

    if case["wantErr"]:
        with pytest.raises(ProofError):
            check()
    else:
        check()


@pytest.mark.parametrize("case", VECTORS["consistency"], ids=lambda c: c["file"])
def test_consistency_vectors(case: dict[str, Any]) -> None:
    def check() -> None:
        verify_consistency(
            case["size1"],
            case["size2"],
            _b64(case["root1"]),
            _b64(case["root2"]),
            _b64s(case["proof"]),
        )

    if case["wantErr"]:
        with pytest.raises(ProofError):
            check()
    else:
        check()


def test_proofs_built_from_hash_files_are_the_reference_ones(rfc_tree: HashFiles) -> None:
    for case in VECTORS["inclusion"]:
        if case["desc"] == "happy path" and case["treeSize"] <= len(RFC_LEAVES):
            proof = inclusion_proof(rfc_tree, case["leafIdx"], case["treeSize"])
            assert proof == _b64s(case["proof"]), case["file"]
    for case in VECTORS["consistency"]:
        if case["desc"] == "happy path" and case["size2"] <= len(RFC_LEAVES):
            proof = consistency_proof(rfc_tree, case["size1"], case["size2"])
            assert proof == _b64s(case["proof"]), case["file"]


def test_every_proof_of_a_tree_over_two_tiles_verifies(tmp_path: Path) -> None:
    rng = random.Random(9)
    leaves = [leaf_hash(rng.randbytes(8)) for _ in range(600)]
    files = HashFiles(tmp_path / "tree")
    for start in range(0, 600, 37):  # appends that straddle tile boundaries
        files.append(leaves[start : start + 37])
    assert files.count(1) == 2 and files.count(2) == 0
    sizes = [1, 2, 3, 255, 256, 257, 511, 512, 513, 600]
    roots = {n: root_of(leaves[:n]) for n in sizes}
    for n in sizes:
        for index in {0, n // 2, n - 1}:
            path = inclusion_proof(files, index, n)
            verify_inclusion(index, n, leaves[index], path, roots[n])
            with pytest.raises(ProofError):
                verify_inclusion(index, n, leaf_hash(b"other"), path, roots[n])
        for m in sizes:
            if m <= n:
                verify_consistency(m, n, roots[m], roots[n], consistency_proof(files, m, n))
    # Reopened, the files hold the same tree; a torn tail is cut.
    files.close()
    with (tmp_path / "tree" / "level-0.hashes").open("ab") as torn:
        torn.write(b"\x01" * 7)
    again = HashFiles(tmp_path / "tree")
    assert again.size == 600 and again.count(1) == 2
    assert inclusion_proof(again, 5, 600) == inclusion_proof(files_reopened(tmp_path), 5, 600)


def files_reopened(tmp_path: Path) -> HashFiles:
    return HashFiles(tmp_path / "tree")


def test_a_lost_upper_level_is_recomputed(tmp_path: Path) -> None:
    leaves = [leaf_hash(bytes([i % 256, i // 256])) for i in range(700)]
    files = HashFiles(tmp_path / "tree")
    files.append(leaves)
    upper = files.read(1, 0, 2)
    files.close()
    (tmp_path / "tree" / "level-1.hashes").unlink()
    assert HashFiles(tmp_path / "tree").read(1, 0, 2) == upper


# Go's golang.org/x/mod/sumdb/note TestSign: a fixed key and the note it signs.
GO_SEED = base64.b64decode("AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz")[1:]
GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
GO_NOTE = (
    GO_TEXT
    + "\n\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNX"
    + "gKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)


def test_notes_match_go_sumdb_note() -> None:
    signer = NoteSigner("PeterNeumann", SigningKey(GO_SEED))
    assert signer.verifier().encode() == GO_VKEY
    assert sign_note(GO_TEXT, [signer]) == GO_NOTE
    assert open_note(GO_NOTE, [NoteVerifier.parse(GO_VKEY)]) == (GO_TEXT, ["PeterNeumann"])


def test_note_signatures_check_with_an_independent_ed25519() -> None:
    private = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
    signer = NoteSigner("log.example/graphsvc", SigningKey(bytes(range(32))))
    note = sign_note(
        "log.example/graphsvc\n3\n" + base64.b64encode(bytes(32)).decode() + "\n", [signer]
    )
    text, _ = note.split("\n\n")
    blob = base64.b64decode(note.rstrip("\n").rsplit(" ", 1)[1])
    # cryptography's Ed25519 verifies what PyNaCl signed: same bytes, same key.
    public = private.public_key()
    public.verify(blob[4:], (text + "\n").encode())
    assert blob[4:] == private.sign((text + "\n").encode())
    assert isinstance(public, Ed25519PublicKey)


@pytest.mark.parametrize(
    "note",
    [
        GO_NOTE.replace("problem is", "problem was"),  # text changed
        GO_NOTE.replace("x08go", "x08gp"),  # signature changed
        GO_TEXT,  # no signatures
        GO_NOTE.replace("PeterNeumann ", "Someone "),  # no trusted key signed
    ],
)
def test_notes_that_must_not_open(note: str) -> None:
    with pytest.raises(NoteError):
        open_note(note, [NoteVerifier.parse(GO_VKEY)])


def test_bad_verifier_keys_are_refused() -> None:
    for bad in [
        "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # hash
        "PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # type
        "PeterNeumann+c74f20a3",
    ]:
        with pytest.raises(NoteError):
            NoteVerifier.parse(bad)


def test_checkpoint_text_round_trips_and_refuses_malformed() -> None:
    checkpoint = Checkpoint("example.com/log", 20852163, bytes(range(32)))
    assert Checkpoint.parse(checkpoint.text()) == checkpoint
    assert checkpoint.text().splitlines()[1] == "20852163"
    for bad in [
        "a\n01\n" + checkpoint.root_b64 + "\n",
        "a\n1\nAAAA\n",
        "\n1\n" + checkpoint.root_b64 + "\n",
    ]:
        with pytest.raises(CheckpointError):
            Checkpoint.parse(bad)


def test_tile_paths_follow_tlog_tiles() -> None:
    # Index groups as in Go's sumdb/tlog tile paths.
    assert encode_index(123456078) == "x123/x456/078"
    assert encode_index(3057500) == "x003/x057/500"
    assert encode_index(1) == "001"
    assert TileRef(0, 1234067, 5).path() == "tile/0/x001/x234/067.p/5"
    assert TileRef(None, 3).path() == "tile/entries/003"
    for ref in [TileRef(2, 0), TileRef(0, 1234067, 5), TileRef(None, 1000, 255)]:
        assert parse_tile_path(ref.path()) == ref
    for bad in ["tile/0/1", "tile/0/001.p/256", "tile/0/x000/001", "tile/-1/001", "tiles/0/001"]:
        with pytest.raises(TilePathError):
            parse_tile_path(bad)


def test_entry_bundles_round_trip() -> None:
    entries = [b"", b"a", bytes(300)]
    assert unbundle(bundle(entries)) == entries
    assert bundle([b"ab"]) == b"\x00\x02ab"


def test_cosignatures_follow_tlog_cosignature() -> None:
    from graphsvc.tlog.cosignature import CosignerKey, cosign, signed_message
    from graphsvc.tlog.note import parse_note

    # transparency-dev/formats: a native cosignature/v1 verifier key, and the timestamp
    # a cosignature line carries after its key ID.
    remora = CosignerKey.parse(
        "remora.n621.de+da77ade7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2"
    )
    assert remora.encode() == "remora.n621.de+da77ade7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2"
    blob = base64.b64decode(
        "ZGhGuQAAAABm/qTPeyKXD+R2rzyQsxPiP8mXum7qq/iF0u4vanlqJyocWODBt97w9uL+8qT7S5gxEHWWOworDcFiEBYJXORmnFBOBA=="
    )
    assert int.from_bytes(blob[4:12], "big") == 1727964367
    with pytest.raises(NoteError):  # a note key (type 0x01) is not a cosigner key
        CosignerKey.parse(GO_VKEY)
    # A cosignature made here checks with an independent Ed25519 over the C2SP message.
    seed = bytes(range(1, 33))
    text = "example.com/log\n3\n" + base64.b64encode(bytes(32)).decode() + "\n"
    line = cosign(text, "witness.example/w1", SigningKey(seed), 1_700_000_000)
    message = signed_message(text, 1_700_000_000)
    assert message.startswith(b"cosignature/v1\ntime 1700000000\nexample.com/log\n")
    public = Ed25519PrivateKey.from_private_bytes(seed).public_key()
    public.verify(line.signature[8:], message)
    witness = CosignerKey("witness.example/w1", bytes(SigningKey(seed).verify_key))
    _, [parsed] = parse_note(text + "\n" + line.line())
    assert witness.timestamp_of(parsed, text) == 1_700_000_000
    with pytest.raises(NoteError):
        witness.timestamp_of(parsed, text.replace("3", "4"))
