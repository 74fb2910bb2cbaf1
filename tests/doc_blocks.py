"""Code blocks of the documents, so the documentation is checked by the tests that run
them: the demo queries of docs/api.md, the numpy reproducer of docs/auditors.md."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
API_DOC = ROOT / "docs" / "api.md"
AUDITORS_DOC = ROOT / "docs" / "auditors.md"


def section(document: Path, heading: str) -> str:
    """The text of the ``## heading`` section of ``document``, up to the next one."""
    text = document.read_text(encoding="utf-8")
    start = text.index(f"\n## {heading}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else len(text)]


def graphql_blocks(text: str) -> list[str]:
    return re.findall(r"```graphql\n(.*?)```", text, re.S)


def python_block(document: Path, defines: str) -> str:
    """The python block of ``document`` that defines ``defines`` (a function name)."""
    blocks = re.findall(r"```python\n(.*?)```", document.read_text(encoding="utf-8"), re.S)
    found = [b for b in blocks if re.search(rf"^def {re.escape(defines)}\(", b, re.M)]
    if len(found) != 1:
        raise LookupError(f"{document.name} has {len(found)} python blocks defining {defines}")
    return found[0]


def demo_queries() -> list[str]:
    """The GraphQL blocks of docs/api.md's demo section, in order."""
    return graphql_blocks(section(API_DOC, "The demo queries"))
