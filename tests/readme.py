"""Code blocks of README.md, so the documentation is checked by the tests that run them."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def readme_block(defines: str) -> str:
    """The README's python block that defines ``defines`` (a function name)."""
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    found = [b for b in blocks if re.search(rf"^def {re.escape(defines)}\(", b, re.M)]
    if len(found) != 1:
        raise LookupError(f"README.md has {len(found)} python blocks defining {defines}")
    return found[0]
