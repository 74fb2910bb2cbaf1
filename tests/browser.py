"""What the browser tests share: opening a dashboard route and waiting for it to render,
asking the API, screenshots for the README, and the checks every page must pass (no
missing value written as a word, no sideways scrolling, no clipped chart axis).

The fixtures that drive chromium (``browser``, ``page``, ``traffic``) are in conftest.py.
"""

from __future__ import annotations

import io
import json
import os
import re
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image
from playwright.sync_api import Page

SHOTS = Path(__file__).resolve().parents[1] / "docs" / "screenshots"
DESKTOP = {"width": 1280, "height": 900}
WIDE = {"width": 1400, "height": 900}
PHONE = {"width": 390, "height": 844}
# Words a page shows when a missing value reached the DOM as text.
NONSENSE = re.compile(r"\b(null|undefined|NaN|Infinity|Invalid Date)\b")
WAIT_MS = 20_000
SHOT_COLOURS = 64


@dataclass
class Traffic:
    """Every URL the page asked for (HTTP and websockets); anything not local is refused."""

    urls: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def outside(self) -> list[str]:
        return [u for u in self.urls if not re.match(r"^(http|ws)://127\.0\.0\.1:\d+/", u)]


def visit(page: Page, url: str, path: str) -> None:
    """Open a dashboard route (``url`` ends with a slash) and wait until it has rendered."""
    page.goto(url + path)
    settle(page)


def settle(page: Page, since: str | None = None) -> None:
    """Wait until the page has rendered the route in its URL (and, given ``since``, until
    the URL has moved on from it: a click changes the hash a moment later)."""
    page.wait_for_function(
        "since => location.href !== since"
        " && document.querySelector('main').dataset.ready === location.hash",
        arg=since,
        timeout=WAIT_MS,
    )


def follow(page: Page, action: Callable[[], None]) -> None:
    """Do what leads to another route (a click, a key, a form) and wait for it to render."""
    since = page.url
    action()
    settle(page, since)


def shoot(page: Page, name: str) -> None:
    """Screenshot what the window shows (no animation caught halfway). It replaces the
    committed one in docs/ only when asked (GRAPHSVC_UPDATE_SCREENSHOTS=1) or when there
    is none: a caret or a clock changes a few bytes at every run."""
    shot = page.screenshot(animations="disabled")
    assert shot.startswith(b"\x89PNG") and len(shot) > 4096
    path = SHOTS / f"{name}.png"
    if os.environ.get("GRAPHSVC_UPDATE_SCREENSHOTS") == "1" or not path.exists():
        SHOTS.mkdir(parents=True, exist_ok=True)
        path.write_bytes(small_png(shot))


def small_png(png: bytes) -> bytes:
    """The screenshot in a palette of SHOT_COLOURS: a page's flat colours and text keep
    their look at a third of the bytes, so the README stays light to clone."""
    with Image.open(io.BytesIO(png)) as image:
        quantized = image.convert("RGB").quantize(colors=SHOT_COLOURS)
    out = io.BytesIO()
    quantized.save(out, format="PNG", optimize=True)
    return out.getvalue()


def api(url: str, query: str, **variables: Any) -> dict[str, Any]:
    """The ``data`` of a GraphQL query to the server at ``url``; fails on any error."""
    request = urllib.request.Request(
        url + "graphql",
        data=json.dumps({"query": query, "variables": variables}).encode(),
        headers={"content-type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        body: dict[str, Any] = json.load(response)
    assert "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data


def chart_points(page: Page) -> list[int]:
    charts = page.locator("figure.chart")
    assert charts.count() > 0
    assert page.locator("figure.chart canvas").count() >= charts.count()
    return [int(charts.nth(i).get_attribute("data-points") or 0) for i in range(charts.count())]


def every_page(url: str) -> dict[str, str]:
    """One route of each page the dashboard has, on the served demo's own entities, by a
    name: each leaderboard and order, the top entity of each kind, a failing node, one of
    its incidents and its receipt's trail, the enclave gateway's node and its enclave."""
    routes = {
        "overview": "",
        "choose": "#/choose",
        "live": "#/live",
        "search": "#/search?q=node-",
        "missing": "#/no-such-page",
    }
    for kind in ["PROVIDER", "MODEL", "NODE", "WITNESS", "REQUESTER"]:
        routes[f"leaderboard-{kind}"] = f"#/leaderboard/{kind}"
        query = f"{{ leaderboard(kind: {kind}, first: 1) {{ items {{ entity {{ id }} }} }} }}"
        for item in api(url, query)["leaderboard"]["items"]:
            routes[f"top-{kind}"] = f"#/entity/{item['entity']['id']}"
    for order in ["WORST_FIRST", "LOWEST_RISK", "HIGHEST_RISK"]:
        routes[f"leaderboard-{order}"] = f"#/leaderboard/NODE?order={order}"
    faulty = api(
        url,
        "{ leaderboard(kind: NODE, first: 1, orderBy: WORST_FIRST, filter: {minFaultRate: 0.2})"
        " { items { entity { id incidents(first: 1) { items { id ts party { id }"
        " receipt { id output { hash } } } } } } } }",
    )["leaderboard"]["items"][0]["entity"]
    incident = faulty["incidents"]["items"][0]
    routes["failing-node"] = f"#/entity/{faulty['id']}"
    party, at = incident["party"]["id"], incident["ts"]
    routes["incident"] = f"#/incident/{party}/{incident['id']}?at={at}"
    receipt = incident["receipt"]
    routes["trail"] = f"#/trail/{receipt['output']['hash']}?receipt={receipt['id']}"
    gateway = api(url, '{ search(text: "tee-gateway-1") { items { id } } }')
    node = gateway["search"]["items"][0]["id"]
    routes["gateway-node"] = f"#/entity/{node}"
    enclaves = api(url, "query($id: ID!) { entity(id: $id) { enclaves { id } } }", id=node)
    routes["enclave"] = f"#/enclave/{enclaves['entity']['enclaves'][0]['id']}"
    return routes


# Per chart, whether anything is painted on the outermost pixels of its canvas. uPlot
# draws series, grid and ticks inside the plot box, so only a label too long for its
# axis (or too near an end) reaches an edge, where the canvas cuts it off. A blank
# canvas would pass vacuously, so it counts as a problem too.
CLIPPED_CHARTS = """() => [...document.querySelectorAll('figure.chart')].flatMap((figure) => {
  const canvas = figure.querySelector('canvas');
  const { width, height } = canvas;
  const pixels = canvas.getContext('2d').getImageData(0, 0, width, height).data;
  const painted = (x, y) => pixels[(y * width + x) * 4 + 3] > 0;
  const column = (x) => Array.from({ length: height }, (_, y) => painted(x, y)).some(Boolean);
  const row = (y) => Array.from({ length: width }, (_, x) => painted(x, y)).some(Boolean);
  const edges = { left: column(0), right: column(width - 1), top: row(0), bottom: row(height - 1) };
  const cut = Object.keys(edges).filter((edge) => edges[edge]);
  if (!pixels.some((value, i) => i % 4 === 3 && value > 0)) cut.push('nothing drawn yet');
  return cut.length ? [`${figure.getAttribute('aria-label')}: ${cut.join(', ')}`] : [];
})"""

# The sections whose table scrolls sideways inside its box.
SCROLLING_TABLES = (
    "[...document.querySelectorAll('main .scroll')]"
    ".filter(e => e.scrollWidth > e.clientWidth + 1)"
    ".map(e => e.closest('section')?.querySelector('h2')?.textContent ?? '?')"
)


def layout_problems(page: Page, *, wide: bool) -> list[str]:
    """What is wrong with the rendered page: a missing value written as a word, the page
    scrolling sideways, a chart axis cut off and, on a wide window, a table that scrolls
    sideways. Empty when all is well."""
    # uPlot draws on the next animation frame; two frames later every chart is drawn.
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
    problems = [f"says {word!r}" for word in NONSENSE.findall(page.locator("body").inner_text())]
    if not page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"):
        problems.append("the page scrolls sideways")
    problems += [f"clipped chart {c}" for c in page.evaluate(CLIPPED_CHARTS)]
    if wide:  # on a desktop, no table scrolls sideways either
        problems += [f"table scrolls sideways: {s}" for s in page.evaluate(SCROLLING_TABLES)]
    return problems


def walk(page: Page, url: str, routes: list[str]) -> None:
    """Open every route at 1,400 px and at phone width; fails naming the first route with
    a layout problem (``layout_problems``)."""
    for size in [WIDE, PHONE]:
        page.set_viewport_size(size)
        for route in routes:
            visit(page, url, route)
            assert layout_problems(page, wide=size is WIDE) == [], (size, route)
