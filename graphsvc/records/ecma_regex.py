"""JSON Schema ``pattern`` with the ECMA-262 meaning of ``$``.

JSON Schema patterns are ECMA-262 regular expressions, where ``$`` (without the
multiline flag) matches only at the end of the input. In Python's ``re`` it also matches
before a trailing newline, so jsonschema's default ``pattern`` keyword would accept
``"acme/llama-3-8b@1\\n"`` as a model name. Translating ``$`` to ``\\Z`` closes that gap
for the patterns used in the record schemas.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from typing import Any

from jsonschema.exceptions import ValidationError


def _translate(pattern: str) -> str:
    out: list[str] = []
    escaped = in_class = False
    for char in pattern:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
        elif char == "$":
            out.append(r"\Z")
            continue
        out.append(char)
    return "".join(out)


@functools.cache
def compile_pattern(pattern: str) -> re.Pattern[str]:
    return re.compile(_translate(pattern))


def pattern_keyword(
    validator: Any, pattern: str, instance: object, schema: Any
) -> Iterator[ValidationError]:
    """Drop-in replacement for jsonschema's ``pattern`` keyword implementation."""
    if isinstance(instance, str) and compile_pattern(pattern).search(instance) is None:
        yield ValidationError(f"{instance!r} does not match {pattern!r}")
