"""C2SP ``tlog-checkpoint``: a log's origin, tree size and root hash, as note text."""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass

from graphsvc.tlog.merkle import HASH_SIZE

_SIZE = re.compile(r"0|[1-9][0-9]{0,19}")


class CheckpointError(ValueError):
    """Text that is not a well-formed checkpoint."""


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def text(self) -> str:
        lines = [self.origin, str(self.size), base64.b64encode(self.root).decode()]
        return "".join(line + "\n" for line in [*lines, *self.extensions])

    @property
    def root_b64(self) -> str:
        return base64.b64encode(self.root).decode()

    @classmethod
    def parse(cls, text: str) -> Checkpoint:
        if not text.endswith("\n"):
            raise CheckpointError("a checkpoint's text ends with a newline")
        lines = text[:-1].split("\n")
        if len(lines) < 3:
            raise CheckpointError("a checkpoint has an origin, a tree size and a root hash line")
        origin, size, root_b64, *extensions = lines
        if not origin:
            raise CheckpointError("a checkpoint's origin line is empty")
        if not _SIZE.fullmatch(size):
            raise CheckpointError(f"tree size {size!r} is not a decimal without leading zeros")
        try:
            root = base64.b64decode(root_b64, validate=True)
        except (binascii.Error, ValueError):
            raise CheckpointError("the root hash line is not base64") from None
        if len(root) != HASH_SIZE:
            raise CheckpointError(f"the root hash is {len(root)} bytes, not {HASH_SIZE}")
        if any(not line for line in extensions):
            raise CheckpointError("a checkpoint's extension lines are non-empty")
        return cls(origin, int(size), root, tuple(extensions))
