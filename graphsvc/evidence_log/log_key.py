"""The log's signing key: kept in ``log.key`` (mode 0600, never logged), its public half
in ``log.pub``. A log that already exists never gets a new key silently: without its key
it refuses to start, unless the operator asks for a rotation, which signs a note linking
the old key to the new one (docs/decisions/0067-log-self-check.md)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from graphsvc.files import write_atomically
from graphsvc.records import generate_signing_key, read_signing_key, write_signing_key
from graphsvc.tlog.note import NoteError, NoteSigner, NoteVerifier, sign_note

KEY_FILE = "log.key"
PUBLIC_FILE = "log.pub"
ROTATIONS = "key-rotations"

log = logging.getLogger(__name__)


class LogKeyMissing(Exception):
    """An existing log whose signing key is gone (one line, for the operator)."""


@dataclass(frozen=True)
class LogKey:
    signer: NoteSigner
    # The key this one replaced, when the operator rotated it at this start (None when
    # it was unknown: no key and no public half left).
    replaced: NoteVerifier | None = None
    rotated: bool = False


def load_log_key(folder: Path, origin: str, *, exists: bool, rotate: bool) -> LogKey:
    """The log's key. ``exists``: the folder holds a log already (its tree or its
    store marker). ``rotate``: the operator asks for a new key if this one is missing."""
    path = folder / KEY_FILE
    if path.exists():
        signer = NoteSigner(origin, read_signing_key(path))
        _write_public(folder, signer.verifier())
        return LogKey(signer)
    if exists and not rotate:
        raise LogKeyMissing(
            f"the evidence log in {folder} exists but its key {path} is missing: restore "
            "it, or start with --rotate-log-key (GRAPHSVC_LOG_ROTATE_KEY=true) to sign "
            "from now on with a new key, announced by a note linking the two"
        )
    replaced = _read_public(folder, origin) if exists else None
    key = generate_signing_key()
    try:
        write_signing_key(path, key)
    except FileExistsError:  # another process of this data directory made it first
        return LogKey(NoteSigner(origin, read_signing_key(path)))
    signer = NoteSigner(origin, key)
    (folder / PUBLIC_FILE).unlink(missing_ok=True)
    _write_public(folder, signer.verifier())
    if exists:
        log.warning(
            "evidence log key rotated: old %s, new %s",
            replaced.encode() if replaced else "unknown",
            signer.verifier().encode(),
        )
    return LogKey(signer, replaced, rotated=exists)


def rotation_note(key: LogKey, origin: str, checkpoint: str | None) -> str:
    """The note announcing a rotation, signed by the new key: the old key, the new one,
    and the last checkpoint the old key signed (its text's size and root lines)."""
    old = key.replaced.encode() if key.replaced else "unknown"
    last = " ".join(checkpoint.splitlines()[1:3]) if checkpoint else "none"
    text = (
        f"{origin} key rotation\nold {old}\nnew {key.signer.verifier().encode()}\n"
        f"last checkpoint {last}\n"
    )
    return sign_note(text, [key.signer])


def save_rotation(folder: Path, note: str) -> None:
    rotations = folder / ROTATIONS
    rotations.mkdir(exist_ok=True)
    number = len(list(rotations.glob("*.note"))) + 1
    (rotations / f"{number:06d}.note").write_text(note, encoding="utf-8")


def rotations(folder: Path) -> list[str]:
    """Every rotation note of this log, oldest first."""
    found = sorted((folder / ROTATIONS).glob("*.note"))
    return [path.read_text(encoding="utf-8") for path in found]


def _write_public(folder: Path, verifier: NoteVerifier) -> None:
    path = folder / PUBLIC_FILE
    if path.exists():
        return
    write_atomically(path, (verifier.encode() + "\n").encode("ascii"))


def _read_public(folder: Path, origin: str) -> NoteVerifier | None:
    try:
        verifier = NoteVerifier.parse((folder / PUBLIC_FILE).read_text(encoding="ascii").strip())
    except (OSError, NoteError, ValueError):
        return None
    return verifier if verifier.name == origin else None
