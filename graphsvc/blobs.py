"""Content-addressed files: bytes stored under their SHA-256, and named references to
them. What the service keeps beside the graph store (the scorer's kept evidence); an
object store could implement the same protocol."""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path
from typing import Protocol

_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")


class BlobStore(Protocol):
    def put(self, data: bytes) -> str:
        """Store ``data``; returns its digest (``sha256:<hex>``)."""

    def get(self, digest: str) -> bytes:
        """The bytes stored under ``digest``; ``KeyError`` when there are none."""

    def delete(self, digest: str) -> None:
        """Forget ``digest`` (nothing happens if it is not stored)."""

    def ref(self, name: str) -> str | None:
        """The digest the reference ``name`` points to, if any."""

    def set_ref(self, name: str, digest: str) -> None:
        """Point ``name`` at ``digest``, atomically."""


class FileBlobStore:
    """Blobs as files named by digest in one folder; references as small files."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _path(self, digest: str) -> Path:
        if not _DIGEST.fullmatch(digest):
            raise ValueError(f"not a sha256 digest: {digest!r}")
        return self.folder / digest.replace(":", "-")

    def put(self, data: bytes) -> str:
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        path = self._path(digest)
        if not path.exists():
            _write_atomically(path, data)
        return digest

    def get(self, digest: str) -> bytes:
        path = self._path(digest)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise KeyError(digest) from None
        if "sha256:" + hashlib.sha256(data).hexdigest() != digest:
            raise ValueError(f"{path} does not hold {digest}: the file was damaged")
        return data

    def delete(self, digest: str) -> None:
        self._path(digest).unlink(missing_ok=True)

    def ref(self, name: str) -> str | None:
        try:
            found = self._ref_path(name).read_text(encoding="ascii").strip()
        except FileNotFoundError:
            return None
        return found if _DIGEST.fullmatch(found) else None

    def set_ref(self, name: str, digest: str) -> None:
        self._path(digest)  # validates it
        _write_atomically(self._ref_path(name), digest.encode("ascii"))

    def _ref_path(self, name: str) -> Path:
        if not _NAME.fullmatch(name):
            raise ValueError(f"not a reference name: {name!r}")
        return self.folder / f"{name}.ref"


def _write_atomically(path: Path, data: bytes) -> None:
    """Write to a temporary file, flush it to disk, then rename it over ``path``: a crash
    leaves the old file or the new one, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with temporary.open("wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
