"""The dashboard's number formats (graphsvc/web/static/dom.js), run by Node as the browser
runs them: one rule for probabilities on every page (docs/decisions/number-formats.md),
and no missing value ever written as a word."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

DOM = Path(__file__).resolve().parents[1] / "graphsvc/web/static/dom.js"


def formats(expression: str) -> Any:
    """The value of a JavaScript expression over dom.js's exports (as ``dom``)."""
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not installed; scripts/test needs it (Node 20)")
    script = (
        f"import * as dom from {json.dumps(DOM.as_uri())};"
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
