"""The architecture and the documents, checked: Cypher lives only in the store, and every
document, link, anchor and path the docs and code name exists (docs/architecture.md).
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
# A document cited in plain text with the heading it means: docs/reference.md#risk.
ANCHOR_REFERENCE = re.compile(r"\b((?:docs/[\w/-]+|bench/RESULTS)\.md)#([\w-]+)")
# The numbered sections of the contract before issue 22 split it by reader (built, so that
# this file does not match); docs/design.md is now the contract's front page, without them.
OLD_DESIGN = re.compile(r"design\.md\W{0,2}(?:§|#\d)|\bdesign " + "§")
DESIGN_INDEX_MAX_LINES = 60
READER_DOCUMENTS = ("operators", "api", "auditors", "reference", "architecture", "integrate")
README_MAX_LINES = 200
OLD_BRIEF_SECTION = re.compile(r"\bDESIGN" + " §")  # split, so this file does not match
TOP_LEVEL = ("graphsvc/", "schema/", "seed_data/", "tests/", "docs/", "bench/", "scripts/")
CODE_PATH = re.compile(r"`((?:" + "|".join(TOP_LEVEL) + r")[\w./-]*)`")
DECISIONS = ROOT / "docs" / "decisions"
# Decisions are cited by their file (docs/decisions/<number>-<title>.md), never by the
# numbers they had in section 8 of the old design document before they were files ("D" and one or
# two digits).
BARE_DECISION = re.compile(r"\bD\d{1,2}\b")
DECISION_PATH = re.compile(r"docs/decisions/[\w.-]+\.md")
DECISION_FILE = re.compile(r"^(\d{4})-[a-z0-9]+(?:-[a-z0-9]+)*\.md$")
SOURCE_SUFFIXES = {".py", ".js", ".html", ".css", ".md", ".cypher", ".graphql", ".toml", ""}
NOT_OURS = {"vendor", "data", "node_modules", "__pycache__"}  # vendored files, test vectors


def package_modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def source_files(*tops: str) -> list[Path]:
    """The project's own text files under ``tops`` (vendored files and test data aside)."""
    return [
        path
        for top in tops
        for path in sorted((ROOT / top).rglob("*"))
        if path.is_file()
        and path.suffix in SOURCE_SUFFIXES
        and not NOT_OURS & set(path.relative_to(ROOT).parts)
    ]


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


def test_the_readme_links_every_document_by_reader() -> None:
    links = set(LINK.findall((ROOT / "README.md").read_text(encoding="utf-8")))
    wanted = {f"docs/{name}.md" for name in READER_DOCUMENTS} | {"docs/decisions/README.md"}
    assert sorted(wanted - links) == []


def test_the_readme_stays_one_short_page() -> None:
    # What it is, the two commands, the demo in a minute, links; the rest is in the
    # documents by reader (docs/decisions/0085-documents-by-reader.md).
    lines = (ROOT / "README.md").read_text(encoding="utf-8").count("\n")
    assert 50 < lines < README_MAX_LINES


def test_every_document_heading_the_code_and_docs_cite_exists() -> None:
    citing = [*source_files("graphsvc", "tests", "bench", "scripts", "schema"), *DOCUMENTS]
    cited = {
        (document, anchor, str(path.relative_to(ROOT)))
        for path in citing
        for document, anchor in ANCHOR_REFERENCE.findall(path.read_text(encoding="utf-8"))
    }
    assert len(cited) > 50, "nothing cites a heading: the check would pass vacuously"
    assert ("docs/reference.md", "risk") in {c[:2] for c in cited}
    missing = [
        c for c in sorted(cited) if not (ROOT / c[0]).exists() or c[1] not in anchors(ROOT / c[0])
    ]
    assert missing == []


def test_nothing_cites_the_design_document_the_readers_documents_replaced() -> None:
    assert OLD_DESIGN.search("docs/design" + ".md §3") and not OLD_DESIGN.search("designed")
    assert OLD_DESIGN.search("`docs/design" + ".md` §8")
    assert OLD_DESIGN.search("design.md" + "#3-reputation")
    assert not OLD_DESIGN.search("[the design](docs/design.md)")
    citing = [
        *source_files("graphsvc", "tests", "bench", "scripts", "schema", "docs", "seed_data"),
        *DOCUMENTS,
        ROOT / "pyproject.toml",
    ]
    stale = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in citing
        if path.name != "CHANGELOG.md"  # history may name it
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if OLD_DESIGN.search(line)
    ]
    assert stale == []


def test_the_design_page_is_an_index_of_the_documents_not_a_second_copy() -> None:
    """docs/design.md states the contract's promises in a page and links each to where it
    is specified; a rule written there as well would drift from its home."""
    design = ROOT / "docs" / "design.md"
    text = design.read_text(encoding="utf-8")
    assert len(text.splitlines()) <= DESIGN_INDEX_MAX_LINES
    assert "§" not in text and not re.search(r"^#{3,} ", text, re.MULTILINE)
    linked = {target.split("#")[0] for target in LINK.findall(text)}
    missing = [name for name in READER_DOCUMENTS if f"{name}.md" not in linked]
    assert missing == [] and "decisions/README.md" in linked
    assert "docs/design.md" in LINK.findall((ROOT / "README.md").read_text(encoding="utf-8"))


def test_sections_are_cited_in_the_documents_not_the_old_brief() -> None:
    stale = [
        str(path.relative_to(ROOT))
        for path in [*package_modules(), *sorted((ROOT / "tests").glob("*.py")), *DOCUMENTS]
        if OLD_BRIEF_SECTION.search(path.read_text(encoding="utf-8"))
    ]
    assert stale == []


def test_no_code_cites_a_decision_by_its_old_number() -> None:
    old = "docs/design" + ".md " + "§8 D" + "53"  # built, so that this file does not match
    assert BARE_DECISION.search(old) and BARE_DECISION.search("(D" + "48)")
    assert not BARE_DECISION.search("D123 ID5 3D8 sha256D9")
    files = source_files("graphsvc", "tests", "bench")
    assert len(files) > 100, "the scan found no code: it would pass vacuously"
    bare = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in files
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if BARE_DECISION.search(line)
    ]
    assert bare == []


def test_every_decision_file_cited_exists() -> None:
    citing = [
        *source_files("graphsvc", "tests", "bench", "scripts", "schema", "docs"),
        *DOCUMENTS,
        ROOT / "pyproject.toml",
    ]
    cited = {
        (match, str(path.relative_to(ROOT)))
        for path in citing
        for match in DECISION_PATH.findall(path.read_text(encoding="utf-8"))
    }
    assert len(cited) > 50, "no decision is cited: the check would pass vacuously"
    assert sorted(c for c in cited if not (ROOT / c[0]).exists()) == []


def test_decisions_are_numbered_files_each_listed_once_in_the_index() -> None:
    files = sorted(p.name for p in DECISIONS.glob("*.md") if p.name != "README.md")
    assert [f for f in files if not DECISION_FILE.match(f)] == []
    numbers = [int(f[:4]) for f in files]
    assert numbers == list(range(1, len(files) + 1)), "numbers are unique and consecutive"
    rows = (DECISIONS / "README.md").read_text(encoding="utf-8")
    index = re.findall(r"^\| \d{4} \| \[[^\]]*\]\(([^)]+)\)", rows, re.M)
    assert sorted(index) == files


def test_every_decision_gives_its_status_context_decision_and_consequences() -> None:
    shapeless = []
    for path in sorted(DECISIONS.glob("[0-9]*.md")):
        text = path.read_text(encoding="utf-8")
        headings = set(re.findall(r"^## (.+)$", text, re.M))
        if (
            not text.startswith(f"# {path.name[:4]}. ")
            or not re.search(r"^Status: (accepted|amended by|superseded by)", text, re.M)
            or not {"Context", "Decision", "Consequences"} <= headings
        ):
            shapeless.append(path.name)
    assert shapeless == []


def test_every_setting_is_in_the_operators_configuration_table() -> None:
    from graphsvc.settings import Settings

    guide = (ROOT / "docs" / "operators.md").read_text(encoding="utf-8")
    table = guide.split("\n## Configuration\n", 1)[1].split("\n## ", 1)[0]
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


# A class is a room for one job: past this many public methods it does several.
MAX_PUBLIC_METHODS = 15
# Classes allowed more, each with its reason (none so far).
MANY_METHODS: dict[str, int] = {}


def public_methods(node: ast.ClassDef) -> list[str]:
    """The public methods of a class as callers see them: properties are attributes."""

    def is_property(function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
        return any(
            (isinstance(d, ast.Name) and d.id == "property")
            or (isinstance(d, ast.Attribute) and d.attr in ("setter", "deleter"))
            for d in function.decorator_list
        )

    return [
        item.name
        for item in node.body
        if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef)
        and not item.name.startswith("_")
        and not is_property(item)
    ]


def test_no_class_has_more_than_fifteen_public_methods() -> None:
    counts = {
        f"{path.relative_to(ROOT).as_posix()}:{node.name}": len(public_methods(node))
        for path in package_modules()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.ClassDef)
    }
    too_many = {
        name: count
        for name, count in counts.items()
        if count > MANY_METHODS.get(name, MAX_PUBLIC_METHODS)
    }
    assert not too_many, f"classes doing several jobs (split them): {too_many}"
    stale = {name for name in MANY_METHODS if counts.get(name, 0) <= MAX_PUBLIC_METHODS}
    assert not stale, f"no longer needs an exception: {stale}"


def test_the_method_count_sees_methods_and_not_properties() -> None:
    source = "class A:\n    def a(self): ...\n    async def b(self): ...\n"
    source += "    def _c(self): ...\n    @property\n    def d(self): ...\n"
    (node,) = ast.parse(source).body
    assert isinstance(node, ast.ClassDef)
    assert public_methods(node) == ["a", "b"]


API = PACKAGE / "api"


def api_imports(tree: ast.Module) -> set[str]:
    """The ``graphsvc.api`` modules a module imports when it loads: its top-level
    imports, not those under ``if TYPE_CHECKING`` or inside functions."""
    found: set[str] = set()
    for statement in tree.body:
        if isinstance(statement, ast.ImportFrom) and statement.module:
            if statement.module == "graphsvc.api":
                found.update(f"graphsvc.api.{alias.name}" for alias in statement.names)
            elif statement.module.startswith("graphsvc.api."):
                found.add(statement.module)
        elif isinstance(statement, ast.Import):
            found.update(a.name for a in statement.names if a.name.startswith("graphsvc.api."))
    return found


def is_type_module(path: Path) -> bool:
    return path.name == "types.py" or path.name.endswith("_types.py")


def test_the_api_modules_import_each_other_without_a_circle() -> None:
    graph = {
        f"graphsvc.api.{path.stem}": api_imports(ast.parse(path.read_text(encoding="utf-8")))
        for path in sorted(API.glob("*.py"))
    }
    done: set[str] = set()

    def visit(module: str, trail: list[str]) -> None:
        if module in trail:
            raise AssertionError(" -> ".join([*trail[trail.index(module) :], module]))
        if module in done:
            return
        for imported in sorted(graph.get(module, ())):
            visit(imported, [*trail, module])
        done.add(module)

    for module in graph:
        visit(module, [])


@pytest.mark.parametrize("path", [p for p in sorted(API.glob("*.py")) if is_type_module(p)])
def test_api_type_modules_hold_types_and_refer_up_only_in_fields(path: Path) -> None:
    """Resolver helpers (reads through the services) live in the ``*_reads`` modules and
    ``schema.py``; a type module imports a sibling lazily only in a field that must refer
    up (to a type, or the reads, of a module that imports it)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    helpers = [node.name for node in tree.body if isinstance(node, ast.AsyncFunctionDef)]
    assert not helpers, f"{path.name}: resolver helpers belong in a *_reads module: {helpers}"
    for node in ast.walk(tree):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        lazy = [
            statement.module
            for statement in ast.walk(node)
            if isinstance(statement, ast.ImportFrom)
            and (statement.module or "").startswith("graphsvc.api")
        ]
        is_field = any("strawberry.field" in ast.unparse(d) for d in node.decorator_list)
        assert not lazy or is_field, f"{path.name}:{node.name} imports {lazy} lazily"


def test_every_module_name_has_one_meaning() -> None:
    """A module's file name says what it holds: no two modules share one (packages'
    ``__init__`` and ``__main__`` aside)."""
    by_name: dict[str, list[str]] = {}
    for path in package_modules():
        if path.name not in ("__init__.py", "__main__.py"):
            by_name.setdefault(path.name, []).append(path.relative_to(ROOT).as_posix())
    assert len(by_name) > 100, "no modules found: the check would pass vacuously"
    shared = {name: paths for name, paths in by_name.items() if len(paths) > 1}
    assert not shared, f"module names used twice (rename one): {shared}"
