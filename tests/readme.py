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


def readme_demo_queries() -> list[str]:
    """The GraphQL blocks of the README's demo section, in order."""
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## The demo") : text.index("## Records")]
    return re.findall(r"```graphql\n(.*?)```", section, re.S)
