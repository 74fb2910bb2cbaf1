"""No test depends on the last bit of a float by accident: a test that compares with a
float literal by ``==`` or ``!=`` uses ``pytest.approx`` (or an explicit tolerance), unless
a comment on the comparison or the line above says why it is exact (``exact``: a stored
figure read back, a determinism or reproduction property, a structural zero).

Comparisons between two computed floats cannot be told from others by their syntax: they
follow the same rule by review (a grep for ``==`` in tests/, then a look)."""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent


def holds_a_float(node: ast.expr) -> bool:
    """A float literal, or a list, tuple, set or dict display holding one (not a call's
    arguments: ``pytest.approx(1.0)`` is the way to compare)."""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, float)
    if isinstance(node, ast.UnaryOp):
        return holds_a_float(node.operand)
    if isinstance(node, ast.List | ast.Tuple | ast.Set):
        return any(holds_a_float(e) for e in node.elts)
    if isinstance(node, ast.Dict):
        return any(holds_a_float(v) for v in node.values)
    return False


def inexact_float_equalities(source: str) -> list[int]:
    """Lines of ``source`` that compare with a float literal by == or != and give no
    reason (a comment saying ``exact``) on the comparison's lines or the line above."""
    lines = source.splitlines()
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Compare):
            continue
        if not any(isinstance(op, ast.Eq | ast.NotEq) for op in node.ops):
            continue
        if not any(holds_a_float(o) for o in (node.left, *node.comparators)):
            continue
        end = node.end_lineno or node.lineno
        around = lines[max(node.lineno - 2, 0) : end]
        if not any("#" in line and "exact" in line.split("#", 1)[1].lower() for line in around):
            found.append(node.lineno)
    return found


def test_no_test_compares_with_a_float_literal_without_a_tolerance_or_a_reason() -> None:
    offenders = [
        f"{path.name}:{line}"
        for path in sorted(TESTS.glob("*.py"))
        for line in inexact_float_equalities(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []


def test_the_check_finds_what_it_is_for() -> None:
    source = (
        "assert risk == 0.25\n"
        "assert rows == [{'score': 100.0}]\n"
        "assert (a, b) != (1, -2.5)\n"
        "assert risk == pytest.approx(0.25)\n"
        "assert count == 3\n"
        "assert mass == 0.0  # exact: nothing flows in\n"
        "# Exact: the stored figure itself.\n"
        "assert stored == 1.5\n"
    )
    assert inexact_float_equalities(source) == [1, 2, 3]
