"""The dashboard's number formats (graphsvc/web/static/dom.js), run by Node as the browser
runs them: one rule for probabilities on every page (docs/decisions/0075-number-formats.md),
and no missing value ever written as a word."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

STATIC = Path(__file__).resolve().parents[1] / "graphsvc/web/static"


def formats(expression: str) -> Any:
    """The value of a JavaScript expression over dom.js's and charts.js's exports (as
    ``dom`` and ``charts``)."""
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not installed; scripts/test needs it (Node 20)")
    script = (
        f"import * as dom from {json.dumps((STATIC / 'dom.js').as_uri())};"
        f"import * as charts from {json.dumps((STATIC / 'charts.js').as_uri())};"
        f"process.stdout.write(JSON.stringify({expression}));"
    )
    done = subprocess.run(
        [node, "--experimental-default-type=module", "--input-type=module", "-e", script],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(done.stdout)


def test_probabilities_keep_two_significant_digits_down_to_a_floor() -> None:
    cases = {
        "0": "0 %",
        "5e-6": "< 0.001 %",  # below 1e-5 a figure means nothing for a decision
        "1e-5": "0.0010 %",
        "5.2e-5": "0.0052 %",  # the demo's typical risk, which used to read "0.0 %"
        "0.000123": "0.012 %",
        "0.0052": "0.52 %",
        "0.00999": "1.0 %",
        "0.01": "1.0 %",
        "0.0549": "5.5 %",
        "0.994": "99.4 %",
        "1": "100.0 %",
    }
    shown = formats(f"[{', '.join(cases)}].map(dom.share)")
    assert dict(zip(cases, shown, strict=True)) == cases


def test_a_risk_and_its_interval_follow_the_same_rule() -> None:
    shown = formats("dom.riskText({risk: 5.2e-5, riskLow: 1e-6, riskHigh: 0.0003})")
    assert shown == "0.0052 % (< 0.001 %\N{EN DASH}0.030 %)"
    assert formats("dom.riskText({risk: null})") == "\N{EN DASH}"


@pytest.mark.parametrize("value", ["null", "undefined", "NaN", "Infinity", '""', '"x"'])
def test_missing_values_are_a_dash_in_every_format(value: str) -> None:
    shown = formats(f"[dom.num({value}), dom.pct({value}), dom.share({value}), dom.count({value})]")
    assert shown == ["\N{EN DASH}"] * 4


def test_a_single_snapshot_gets_a_two_day_axis_and_a_span_its_own() -> None:
    day = 86_400
    assert formats("charts.timeRange([1800000000])") == [1_800_000_000 - day, 1_800_000_000 + day]
    assert formats("charts.timeRange([100, 50 * 86400, 7 * 86400])") == [100, 50 * day]


def test_a_gap_in_the_data_breaks_the_line() -> None:
    # Weekly points, then five weeks without any: one null between, nothing else added.
    week = 7 * 86_400
    x = [0, week, 2 * week, 3 * week, 8 * week]
    got = formats(f"charts.withGaps({x}, [[1, 2, 3, 4, 5]])")
    assert got == [[0, week, 2 * week, 3 * week, 5.5 * week, 8 * week], [[1, 2, 3, 4, None, 5]]]
    regular = formats(f"charts.withGaps({x[:4]}, [[1, 2, 3, 4]])")
    assert regular == [x[:4], [[1, 2, 3, 4]]]
