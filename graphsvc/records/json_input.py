"""JSON from the network, parsed strictly (docs/decisions/0053-strict-json-input.md).

Records are signed over their RFC 8785 form, which assumes I-JSON (RFC 7493): so a
duplicate key is refused (the signer and the server could read different values), as are
NaN and Infinity. Bytes must be UTF-8. Nesting and integer size are bounded so that a
hostile line costs little and fails with a sentence, not a RecursionError or Python's
4,300-digit ValueError.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

MAX_DEPTH = 64
MAX_INT_DIGITS = 64

_STRINGS = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKETS = re.compile(rb"[\[\]{}]")


class JSONInputError(ValueError):
    """Why a piece of input is not acceptable JSON, in words for the sender: a predicate
    to put after its subject ("line 3 is not JSON: ...", "request body nests ...")."""


def parse_json(data: bytes | str, *, max_depth: int = MAX_DEPTH) -> Any:
    """The value ``data`` holds; :class:`JSONInputError` names what is wrong."""
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise JSONInputError(
            f"is not UTF-8: byte {raw[error.start]:#04x} at offset {error.start}"
        ) from None
    _check_depth(raw, max_depth)
    try:
        return json.loads(
            text,
            object_pairs_hook=_object,
            parse_int=_integer,
            parse_float=_float,
            parse_constant=_constant,
        )
    except json.JSONDecodeError as error:
        raise JSONInputError(f"is not JSON: {error.msg} at column {error.colno}") from None
    except RecursionError:  # unreachable after the depth check; kept as a guard
        raise JSONInputError(f"nests deeper than {max_depth} levels") from None


def _check_depth(raw: bytes, max_depth: int) -> None:
    # Fast path: fewer brackets in all than the limit cannot nest deeper than it.
    if raw.count(b"{") + raw.count(b"[") <= max_depth:
        return
    depth = 0
    for match in _BRACKETS.finditer(_STRINGS.sub(b'""', raw)):
        if match.group() in (b"{", b"["):
            depth += 1
            if depth > max_depth:
                raise JSONInputError(f"nests deeper than {max_depth} levels")
        else:
            depth -= 1


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found = dict(pairs)
    if len(found) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise JSONInputError(
                    f"has a duplicate key {key!r} in an object (I-JSON forbids it)"
                )
            seen.add(key)
    return found


def _integer(text: str) -> int:
    digits = len(text.lstrip("-"))
    if digits > MAX_INT_DIGITS:
        raise JSONInputError(f"has an integer of {digits} digits (at most {MAX_INT_DIGITS})")
    return int(text)


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise JSONInputError(f"has the number {text[:40]}, out of range")
    return value


def _constant(name: str) -> Any:
    raise JSONInputError(f"has {name}, which is not JSON")
