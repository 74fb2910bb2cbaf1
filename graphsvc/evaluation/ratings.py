"""Signed, time-stamped trust networks read from CSV (``graphsvc replay``'s input).

Rows are ``source,target,rating,time`` (rating an integer in [-10, 10], time in Unix
seconds), gzip-compressed if the name ends in ``.gz``. The first row is a header when
its rating or time cell is not a number; its columns are then found by name, any case:
``source``/``src``/``rater``/``from``, ``target``/``dst``/``ratee``/``to``,
``rating``/``weight``/``score``/``sign``, ``time``/``timestamp``/``ts``/``date``
(unknown names keep the four columns in that order). A header-less file has exactly
four columns. Any cell that cannot be used is an error naming its line and column.
"""

from __future__ import annotations

import csv
import gzip
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import numpy as np

from graphsvc.scoring.evidence import IntArray

COLUMNS = ("source", "target", "rating", "time")
_ALIASES = {
    "source": ("source", "src", "rater", "from", "source_id"),
    "target": ("target", "dst", "ratee", "to", "target_id"),
    "rating": ("rating", "weight", "score", "sign", "value"),
    "time": ("time", "timestamp", "ts", "date", "unix_time"),
}


@dataclass(frozen=True)
class Ratings:
    """A trust network as arrays sorted by time; ``src``/``dst`` index ``ids`` (sorted)."""

    ids: tuple[str, ...]
    src: IntArray
    dst: IntArray
    rating: IntArray
    time_s: IntArray


def ratings_before(ratings: Ratings, t_s: int) -> slice:
    """The ratings strictly before ``t_s``: a prefix, as they are sorted by time (a slice
    is a view, where a boolean mask would copy every array at every checkpoint)."""
    return slice(0, int(np.searchsorted(ratings.time_s, t_s, side="left")))


class RatingsFormatError(ValueError):
    """A row of the ratings CSV is malformed; the message names line and column."""


def _open_text(path: Path) -> TextIO:
    if path.suffix == ".gz":
        return gzip.open(path, "rt", newline="")
    return path.open(newline="")


def _number(cell: str) -> int | None:
    """The integer a cell holds (``12`` or ``12.0``), else None."""
    try:
        return int(cell)
    except ValueError:
        pass
    try:
        value = float(cell)
    except ValueError:
        return None
    return int(value) if value.is_integer() else None


def _header_positions(cells: list[str], path: Path) -> tuple[int, ...]:
    """Column index of source, target, rating and time in a header row."""
    names = [c.strip().lower() for c in cells]
    found = []
    for column in COLUMNS:
        hits = [i for i, name in enumerate(names) if name in _ALIASES[column]]
        found.append(hits[0] if hits else -1)
    if -1 in found or len(set(found)) < 4:
        if len(cells) != 4:
            raise RatingsFormatError(
                f"{path}:1: header {','.join(cells)!r} does not name the source, target, "
                "rating and time columns"
            )
        return (0, 1, 2, 3)
    return tuple(found)


def load_ratings(path: str | Path) -> Ratings:
    """Parse the file; raise ``RatingsFormatError`` naming line and column on bad rows."""
    path = Path(path)
    src_names: list[str] = []
    dst_names: list[str] = []
    ratings: list[int] = []
    times: list[int] = []
    positions: tuple[int, ...] = (0, 1, 2, 3)
    width = 4
    first = True
    with _open_text(path) as f:
        for line_no, row in enumerate(csv.reader(f), start=1):
            if not row or all(not cell.strip() for cell in row):
                continue
            cells = [cell.strip() for cell in row]
            if first:
                first = False
                if _is_header(cells):
                    positions, width = _header_positions(cells, path), len(cells)
                    continue
            if len(cells) != width:
                raise RatingsFormatError(
                    f"{path}:{line_no}: expected {width} columns (source,target,rating,time), "
                    f"got {len(cells)}"
                )
            values = [cells[i] for i in positions]
            for k, name in ((0, "source"), (1, "target")):
                if not values[k]:
                    raise RatingsFormatError(
                        f"{path}:{line_no}: column {positions[k] + 1} ({name}) is empty"
                    )
            rating = _int(values[2], path, line_no, positions[2] + 1, "rating")
            if not -10 <= rating <= 10:
                raise RatingsFormatError(
                    f"{path}:{line_no}: column {positions[2] + 1} (rating) = {rating} "
                    "is outside [-10, 10]"
                )
            time_s = _int(values[3], path, line_no, positions[3] + 1, "time")
            src_names.append(values[0])
            dst_names.append(values[1])
            ratings.append(rating)
            times.append(time_s)
    if not ratings:
        raise RatingsFormatError(f"{path}: no ratings")
    ids = tuple(sorted(set(src_names) | set(dst_names)))
    index = {name: i for i, name in enumerate(ids)}
    order = np.argsort(np.array(times, dtype=np.int64), kind="stable")
    return Ratings(
        ids=ids,
        src=np.array([index[s] for s in src_names], dtype=np.int64)[order],
        dst=np.array([index[d] for d in dst_names], dtype=np.int64)[order],
        rating=np.array(ratings, dtype=np.int64)[order],
        time_s=np.array(times, dtype=np.int64)[order],
    )


def _is_header(cells: list[str]) -> bool:
    """A first row whose rating or time cell is not a number names its columns."""
    if len(cells) >= 4 and _number(cells[2]) is not None and _number(cells[3]) is not None:
        return False
    return any(c.strip().lower() in names for c in cells for names in _ALIASES.values()) or (
        len(cells) >= 4 and _number(cells[2]) is None and _number(cells[3]) is None
    )


def _int(cell: str, path: Path, line_no: int, col: int, name: str) -> int:
    value = _number(cell)
    if value is None:
        raise RatingsFormatError(
            f"{path}:{line_no}: column {col} ({name}) = {cell!r} is not an integer"
        )
    return value
