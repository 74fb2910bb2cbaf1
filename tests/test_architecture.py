"""The architecture and the documents, checked: Cypher lives only in the store, and every
document, link and design section the docs and code name exists (docs/architecture.md).
The import rules themselves are import-linter contracts (pyproject.toml, scripts/test)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "graphsvc"
STORE = PACKAGE / "store"
DOCUMENTS = [
    ROOT / "README.md",
    ROOT / "CONTRIBUTING.md",
    ROOT / "CHANGELOG.md",
    *sorted((ROOT / "docs").glob("*.md")),
    *sorted((ROOT / "docs" / "decisions").glob("*.md")),
    ROOT / "seed_data" / "README.md",
    ROOT / "bench" / "RESULTS.md",
]
# A clause keyword followed by a pattern or parameter: Cypher, not prose.
CYPHER = re.compile(r"\b(MATCH|MERGE|OPTIONAL MATCH|UNWIND|DETACH DELETE)\s*[($]")
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
SECTION_REFERENCE = re.compile(r"docs/design\.md §(\d+)")
OLD_BRIEF_SECTION = re.compile(r"\bDESIGN" + " §")  # split, so this file does not match
TOP_LEVEL = ("graphsvc/", "schema/", "seed_data/", "tests/", "docs/", "bench/", "scripts/")
CODE_PATH = re.compile(r"`((?:" + "|".join(TOP_LEVEL) + r")[\w./-]*)`")


def package_modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def slug(heading: str) -> str:
    """The anchor GitHub gives a heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(document: Path) -> set[str]:
    text = document.read_text(encoding="utf-8")
    return {slug(h) for h in re.findall(r"^#{1,6} (.+)$", text, re.M)}


def test_no_module_outside_the_store_contains_cypher() -> None:
    offenders = []
    for path in package_modules():
        if path.is_relative_to(STORE):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            is_text = isinstance(node, ast.Constant) and isinstance(node.value, str)
            if is_text and CYPHER.search(node.value):
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert offenders == []


def test_the_cypher_check_recognises_cypher() -> None:
    # The check above must be able to fail: every store statement is Cypher by its rule.
    from graphsvc.store import cypher

    statements = [v for k, v in vars(cypher).items() if k.isupper() and isinstance(v, str)]
    recognised = [s for s in statements if CYPHER.search(s)]
    assert len(recognised) >= 20
    assert not CYPHER.search("match the receipts (all of them) to their nodes")


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_link_and_path_a_document_names_exists(document: Path) -> None:
    text = document.read_text(encoding="utf-8")
    missing = []
    for target in LINK.findall(text):
        if re.match(r"[a-z]+:", target):  # http:, https:, mailto:: not checked offline
            continue
        path, _, fragment = target.partition("#")
        resolved = (document.parent / path).resolve() if path else document
        if not resolved.exists() or (
            fragment and resolved.suffix == ".md" and fragment not in anchors(resolved)
        ):
            missing.append(target)
    for path in CODE_PATH.findall(text):
        if not (ROOT / path.rstrip(".")).exists():
            missing.append(path)
    assert missing == []


def test_the_readme_links_the_design_and_the_architecture() -> None:
    links = LINK.findall((ROOT / "README.md").read_text(encoding="utf-8"))
    assert "docs/design.md" in links and "docs/architecture.md" in links


def test_every_design_section_the_code_cites_exists() -> None:
    design = (ROOT / "docs" / "design.md").read_text(encoding="utf-8")
    sections = {int(n) for n in re.findall(r"^## (\d+)\. ", design, re.M)}
    cited: dict[int, list[str]] = {}
    for path in [*package_modules(), *sorted((ROOT / "tests").glob("*.py"))]:
        for number in SECTION_REFERENCE.findall(path.read_text(encoding="utf-8")):
            cited.setdefault(int(number), []).append(str(path.relative_to(ROOT)))
    assert cited, "the code cites no design section: the check would pass vacuously"
    assert {n: where for n, where in cited.items() if n not in sections} == {}


def test_sections_are_cited_in_the_design_doc_not_the_old_brief() -> None:
    stale = [
        str(path.relative_to(ROOT))
        for path in [*package_modules(), *sorted((ROOT / "tests").glob("*.py")), *DOCUMENTS]
        if OLD_BRIEF_SECTION.search(path.read_text(encoding="utf-8"))
    ]
    assert stale == []


def test_every_setting_is_in_the_readme_configuration_table() -> None:
    from graphsvc.settings import Settings

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = readme.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    missing = [name for name in Settings.model_fields if f"`GRAPHSVC_{name.upper()}" not in table]
    assert missing == []


def test_pre_commit_runs_the_checks_scripts_test_runs() -> None:
    # A commit is judged as CI judges it: each of scripts/test's checks is a hook, with
    # the same tool from the same venv, and no hook checks something CI does not.
    import yaml

    def check(line: str) -> str:
        tool, _, rest = line.partition(" ")
        args = [a for a in rest.split("|")[0].split() if a not in ("graphsvc", "tests", "bench")]
        return " ".join([tool.strip('"').rsplit("/", 1)[-1], *args])

    script = (ROOT / "scripts" / "test").read_text(encoding="utf-8").splitlines()
    in_ci = {check(line) for line in script if line.startswith('"$venv/bin/')}
    in_ci |= {line.split("||")[-1].strip() for line in script if "scripts/lock --check" in line}
    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text(encoding="utf-8"))
    hooks = [hook for repo in config["repos"] for hook in repo["hooks"]]
    assert all(hook["language"] == "system" for hook in hooks)
    in_hooks = {check(h["entry"]) if "/bin/" in h["entry"] else h["entry"] for h in hooks}
    assert in_ci == in_hooks and len(in_hooks) == 5
