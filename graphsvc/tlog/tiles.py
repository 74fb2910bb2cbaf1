"""C2SP ``tlog-tiles``: tile and entry-bundle paths, and the entry-bundle encoding.

A tile at level L holds up to 256 hashes of tree level 8L; tile N of a level holds its
hashes 256N to 256N+255. A partial tile (``.p/<W>``) holds the first W of them. Index N
is written in groups of three digits, every group but the last prefixed with ``x``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

TILE_HEIGHT = 8
TILE_WIDTH = 1 << TILE_HEIGHT
ENTRIES = "entries"
_MAX_ENTRY = 0xFFFF  # an entry's length is a big-endian uint16
_GROUP = re.compile(r"[0-9]{3}")


class TilePathError(ValueError):
    """Not a tile path of this log."""


@dataclass(frozen=True)
class TileRef:
    """A tile (``level`` >= 0) or an entry bundle (``level`` None), ``width`` hashes or
    entries wide."""

    level: int | None
    index: int
    width: int = TILE_WIDTH

    def path(self) -> str:
        level = ENTRIES if self.level is None else str(self.level)
        partial = "" if self.width == TILE_WIDTH else f".p/{self.width}"
        return f"tile/{level}/{encode_index(self.index)}{partial}"


def encode_index(index: int) -> str:
    if index < 0:
        raise ValueError(f"tile index {index} is negative")
    groups = []
    while True:
        groups.append(f"{index % 1000:03d}")
        index //= 1000
        if index == 0:
            break
    groups.reverse()
    return "/".join([*("x" + g for g in groups[:-1]), groups[-1]])


def parse_tile_path(path: str) -> TileRef:
    """``tile/<L>/<N>[.p/<W>]`` or ``tile/entries/<N>[.p/<W>]`` as a :class:`TileRef`."""
    parts = path.split("/")
    if len(parts) < 3 or parts[0] != "tile":
        raise TilePathError(f"{path!r} is not tile/<level>/<index>")
    level_text, rest = parts[1], parts[2:]
    width = TILE_WIDTH
    if len(rest) >= 2 and rest[-2].endswith(".p"):
        width_text = rest[-1]
        if not width_text.isdigit() or width_text != str(int(width_text)):
            raise TilePathError(f"{path!r}: partial width {width_text!r} is not a number")
        width = int(width_text)
        if not 0 < width < TILE_WIDTH:
            raise TilePathError(f"{path!r}: a partial width is between 1 and {TILE_WIDTH - 1}")
        rest = [*rest[:-2], rest[-2][:-2]]
    *prefixes, last = rest
    if not _GROUP.fullmatch(last) or not all(
        p.startswith("x") and _GROUP.fullmatch(p[1:]) for p in prefixes
    ):
        raise TilePathError(f"{path!r}: the index is not written in x-prefixed groups of 3")
    digits = "".join(p[1:] for p in prefixes) + last
    if prefixes and prefixes[0] == "x000":
        raise TilePathError(f"{path!r}: the index has a leading zero group")
    if level_text == ENTRIES:
        level = None
    elif level_text.isdigit() and level_text == str(int(level_text)):
        level = int(level_text)
    else:
        raise TilePathError(f"{path!r}: level {level_text!r} is not a number or 'entries'")
    return TileRef(level, int(digits), width)


def bundle(entries: Sequence[bytes]) -> bytes:
    """An entry bundle: each entry as a big-endian uint16 length and its bytes."""
    out = bytearray()
    for entry in entries:
        if len(entry) > _MAX_ENTRY:
            raise ValueError(f"an entry of {len(entry)} bytes does not fit a bundle")
        out += len(entry).to_bytes(2, "big") + entry
    return bytes(out)


def unbundle(data: bytes) -> list[bytes]:
    entries, at = [], 0
    while at < len(data):
        if at + 2 > len(data):
            raise ValueError("an entry bundle ends inside a length prefix")
        length = int.from_bytes(data[at : at + 2], "big")
        at += 2
        if at + length > len(data):
            raise ValueError("an entry bundle ends inside an entry")
        entries.append(data[at : at + length])
        at += length
    return entries
