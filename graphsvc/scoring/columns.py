"""Named numpy columns to bytes and back, exactly: a JSON header (free fields plus each
column's name, dtype and length), the columns' raw little-endian bytes one after the
other, all zlib-compressed behind a magic line.

The evidence archive and the stored score tables share this layout; the magic line says
which one a blob is. Equal columns give equal bytes.
"""

from __future__ import annotations

import io
import json
import zlib
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np


def pack(
    magic: bytes,
    header: Mapping[str, Any],
    columns: Sequence[tuple[str, str, np.ndarray]],
    *,
    level: int = 6,
) -> bytes:
    """``columns`` are ``(name, dtype, values)``; ``header`` must not use the key
    ``arrays``, which lists them."""
    buffer = io.BytesIO()
    described = {**header, "arrays": [[name, dtype, int(v.size)] for name, dtype, v in columns]}
    encoded = json.dumps(described, separators=(",", ":")).encode()
    buffer.write(len(encoded).to_bytes(8, "little"))
    buffer.write(encoded)
    for _, dtype, values in columns:
        buffer.write(np.ascontiguousarray(values, dtype=dtype).tobytes())
    return magic + zlib.compress(buffer.getvalue(), level=level)


def unpack(magic: bytes, data: bytes, what: str) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The header and the columns (read-only views of the decompressed bytes, in their
    stored dtype) of a blob made by :func:`pack` with the same ``magic``."""
    if not data.startswith(magic):
        raise ValueError(f"not a graphsvc {what}")
    raw = zlib.decompress(data[len(magic) :])
    size = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8 : 8 + size])
    offset = 8 + size
    columns: dict[str, np.ndarray] = {}
    for name, dtype, count in header.pop("arrays"):
        columns[name] = np.frombuffer(raw, dtype=dtype, count=count, offset=offset)
        offset += np.dtype(dtype).itemsize * count
    return header, columns


def pack_strings(values: Sequence[str]) -> np.ndarray:
    """Strings as one uint8 column (UTF-8, NUL-separated: ids never hold NUL)."""
    return np.frombuffer("\x00".join(values).encode("utf-8"), dtype=np.uint8)


def unpack_strings(column: np.ndarray, count: int) -> list[str]:
    if count == 0:
        return []
    values = column.tobytes().decode("utf-8").split("\x00")
    if len(values) != count:
        raise ValueError(f"expected {count} strings, found {len(values)}")
    return values
