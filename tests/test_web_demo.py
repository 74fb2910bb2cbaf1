"""The dashboard on the full demo, loaded as ``serve --demo`` loads it (62,780 records):
every page at 1,400 px and at phone width without a missing value written as a word,
sideways scrolling or a clipped chart axis; a brand-new node's page before and after its
first snapshot; ties sharing a rank; the first live recompute five weeks after the demo's
history showing a gap in "records per day". The README's screenshots are taken here.

Slow: loading the full demo takes about two minutes (once, for the module), and
scripts/test --fast leaves it out. Regenerate the README's screenshots with
``GRAPHSVC_UPDATE_SCREENSHOTS=1 .venv/bin/python -m pytest tests/test_web_demo.py``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from playwright.sync_api import Page

from graphsvc.api.app import create_app
from graphsvc.demo.load import load_demo
from graphsvc.demo.network_params import load_params
from graphsvc.demo.world import build_world
from graphsvc.domain import EntityKind, FaultParty, Verdict
from graphsvc.records.builder import Actor, attestation, register
from graphsvc.services import Services, running_services
from graphsvc.settings import Settings
from graphsvc.store.endpoint import BoltEndpoint
from graphsvc.store.graph_store import GraphStore
from tests.browser import (
    PHONE,
    WAIT_MS,
    WIDE,
    Traffic,
    api,
    every_page,
    layout_problems,
    shoot,
    visit,
    walk,
)
from tests.live_server import http_server

# The first test also waits for the module's demo to load: minutes on a busy machine.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

DAY_MS = 86_400_000
# The demo's history ends on a fixed day; a live server opened five weeks later (as the
# issue that asked for these tests found it) recomputes at its own clock.
LATER_MS = 35 * DAY_MS


@dataclass
class Demo:
    services: Services
    url: str
    end_ms: int  # the demo history's last instant
    now: list[int]  # the services' clock, which a test may move on
    newcomer: Actor  # a node registered after the newest snapshot, scored in none
    routes: dict[str, str]  # every_page's routes, found before any test changed the store


@pytest.fixture(scope="module")
def demo(
    embedded_endpoint: BoltEndpoint, _embedded_driver: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Demo]:
    """The full demo in the session's store, loaded by ``serve --demo``'s own loader, plus
    a node registered afterwards; served over HTTP on a free local port."""
    _embedded_driver.execute_query("MATCH (n) DETACH DELETE n")
    end = load_params().end_ms
    now = [end]
    settings = Settings(
        snapshot_refresh=0, subscription_poll=0.2, data=tmp_path_factory.mktemp("full-demo")
    )
    with (
        GraphStore(embedded_endpoint) as store,
        running_services(settings, store=store, clock=lambda: now[0]) as services,
    ):
        assert load_demo(services, progress=False)
        newcomer = Actor.derived("fresh-operator", EntityKind.NODE)
        assert [r.reason for r in services.ingestor.submit([register(newcomer, end)])] == [None]
        with http_server(create_app(services)) as url:
            yield Demo(services, url + "/", end, now, newcomer, every_page(url + "/"))


def test_every_page_of_the_full_demo_reads_and_fits_at_both_widths(
    page: Page, demo: Demo, traffic: Traffic
) -> None:
    """Every page, and the page of a node registered after the newest snapshot (what its
    operator opens first), at 1,400 px and at phone width: no missing value as a word, no
    sideways scrolling, every chart's axis labels inside the chart."""
    routes = [*demo.routes.values(), f"#/entity/{demo.newcomer.id}"]
    walk(page, demo.url, routes)
    visit(page, demo.url, f"#/entity/{demo.newcomer.id}")
    assert "Not scored yet" in page.locator("main").inner_text()
    assert traffic.errors == []


def test_the_overview_charts_fit_their_labels(page: Page, demo: Demo, traffic: Traffic) -> None:
    """The overview's four charts, the proof mix among them (whose axis once read
    "0,000"), at the widths between phone and desktop: nothing cut at a canvas edge."""
    for width in [320, 390, 600, 900, 1400, 1920]:
        page.set_viewport_size({"width": width, "height": 900})
        visit(page, demo.url, "")
        assert page.locator("figure.chart canvas").count() == 4
        assert layout_problems(page, wide=False) == [], width
    assert traffic.errors == []


def test_tied_entities_share_a_rank_on_the_dashboard_as_in_the_api(
    page: Page, demo: Demo, traffic: Traffic
) -> None:
    """The demo's witnesses that the seeds trust alike hold equal mass: they share a rank
    (1, 1, 3: docs/decisions/0082-tied-ranks.md), and the leaderboard page shows the API's."""
    query = "{ leaderboard(kind: WITNESS, first: 20) { items { rank mass } } }"
    items = api(demo.url, query)["leaderboard"]["items"]
    ranks = [i["rank"] for i in items]
    masses = [i["mass"] for i in items]
    # Competition ranking: 1 + those strictly above (the masses compared exactly).
    assert ranks == [1 + sum(other > mass for other in masses) for mass in masses]
    assert len(set(ranks)) < len(ranks), "the demo's witnesses have no tie"
    visit(page, demo.url, "#/leaderboard/WITNESS")
    shown = page.locator("main tbody tr td:first-child").all_inner_texts()
    assert shown == [str(r) for r in ranks]
    assert traffic.errors == []


def test_figures_read_in_the_decided_formats(page: Page, demo: Demo, traffic: Traffic) -> None:
    """Each leaderboard of the full demo, whose typical risk is about 5e-5: every risk and
    its interval in significant digits (docs/decisions/0075-number-formats.md), never the
    "0.0 % (0.0 %-0.0 %)" one decimal gave; confidence shown for every kind but providers;
    entities tied at the top at percentile 100."""
    share = r"(?:< 0\.001|0|\d+(?:\.\d+)?) %"
    interval = re.compile(f"{share} \\({share}\N{EN DASH}{share}\\)")
    small = re.compile(r"0\.0*[1-9]\d? %")  # below 1 %: two significant digits
    for kind in ["NODE", "WITNESS", "MODEL", "REQUESTER", "PROVIDER"]:
        visit(page, demo.url, f"#/leaderboard/{kind}?order=LOWEST_RISK")
        headers = page.locator("main thead th").all_inner_texts()
        assert ("confidence" in headers) == (kind != "PROVIDER"), (kind, headers)
        cells = page.locator("main tbody tr").evaluate_all(
            "rows => rows.map(r => [...r.cells].map(c => c.innerText.trim()))"
        )
        risks = [row[headers.index("risk (90 %)")] for row in cells]
        assert risks and all(interval.fullmatch(r) for r in risks), (kind, risks)
        assert not any(r.startswith("0.0 %") for r in risks), (kind, risks)
        lowest = risks[0].split(" (")[0]
        assert small.fullmatch(lowest) or lowest == "< 0.001 %", (kind, lowest)
    visit(page, demo.url, "#/leaderboard/WITNESS")
    headers = page.locator("main thead th").all_inner_texts()
    cells = page.locator("main tbody tr").evaluate_all(
        "rows => rows.map(r => [...r.cells].map(c => c.innerText.trim()))"
    )
    top = [row for row in cells if row[headers.index("rank")] == "1"]
    assert len(top) > 1 and {row[headers.index("percentile")] for row in top} == {"100"}
    assert traffic.errors == []


def test_the_readme_screenshots(page: Page, demo: Demo, traffic: Traffic) -> None:
    """The README's screenshots, of the full demo (written when missing, or all of them
    with GRAPHSVC_UPDATE_SCREENSHOTS=1). The live feed's is taken by the last test."""
    scenes = {
        "overview": demo.routes["overview"],
        "leaderboard": demo.routes["leaderboard-NODE"],
        "entity": demo.routes["failing-node"],
        "incident": demo.routes["incident"],
        "trail": demo.routes["trail"],
        "enclave": demo.routes["enclave"],
        "choose": "#/choose?minProof=TEE&acceptClaimed=true&minProofShare=0.6&maxFaultRate=0.05",
        "search": demo.routes["search"],
    }
    for name, route in scenes.items():
        visit(page, demo.url, route)
        assert layout_problems(page, wide=True) == [], name
        shoot(page, name)
    page.set_viewport_size(PHONE)
    visit(page, demo.url, "")
    shoot(page, "overview-phone")

    page.set_viewport_size(WIDE)
    page.goto(demo.url + "graphql")
    page.locator(".graphiql-tab").first.wait_for(timeout=WAIT_MS)
    page.locator(".graphiql-execute-button").click()
    page.locator(".result-window").get_by_text("node-").first.wait_for(timeout=WAIT_MS)
    shoot(page, "graphiql")
    assert traffic.errors == []


def test_the_first_live_recompute_leaves_a_gap_and_gives_the_newcomer_one_snapshot(
    page: Page, demo: Demo, traffic: Traffic
) -> None:
    """Five weeks after the demo's history a witness attests and the service recomputes:
    the live feed shows the change, "records per day" breaks its line across the five
    weeks without records (no straight line from the last weekly rate down to the new
    one), and the newcomer's page shows its one snapshot, no mass and no incidents."""
    visit(page, demo.url, "#/live?minDelta=0")
    page.wait_for_selector("[data-state=connected]", timeout=WAIT_MS)
    demo.now[0] = demo.end_ms + LATER_MS
    witness = build_world(load_params()).witnesses[0]
    node = demo.routes["top-NODE"].removeprefix("#/entity/")
    query = "query($id: ID!) { entity(id: $id) { receipts(first: 2) { items { id } } } }"
    receipt = api(demo.url, query, id=node)["entity"]["receipts"]["items"]

    def attest(receipt_id: str, verdict: Verdict, fault: FaultParty | None) -> None:
        record = attestation(witness, receipt_id, verdict, demo.now[0], fault=fault)
        assert [r.reason for r in demo.services.ingestor.submit([record])] == [None]

    attest(receipt[0]["id"], Verdict.VALID, None)
    demo.services.scorer.recompute()
    page.locator("ol[aria-label='Score changes'] li").first.wait_for(timeout=WAIT_MS)
    attest(receipt[1]["id"], Verdict.INVALID, FaultParty.NODE)
    page.locator("ol[aria-label=Incidents] li").first.wait_for(timeout=WAIT_MS)
    assert witness.name in page.locator("ol[aria-label=Incidents]").inner_text()
    shoot(page, "live")

    for size in [WIDE, PHONE]:
        page.set_viewport_size(size)
        visit(page, demo.url, "")
        records = page.locator("figure.chart", has_text="Records stored per day")
        weeks = api(demo.url, "{ snapshots { totalCount } }")["snapshots"]["totalCount"]
        # One rate per snapshot after the first, and one break before the newest.
        assert records.get_attribute("data-points") == str(weeks - 1)
        assert records.get_attribute("data-gaps") == "1"
        assert layout_problems(page, wide=size is WIDE) == [], size

        visit(page, demo.url, f"#/entity/{demo.newcomer.id}")
        assert layout_problems(page, wide=size is WIDE) == [], size
        history = page.locator("figure.chart")
        assert history.count() == 1 and history.get_attribute("data-points") == "1"
        shown = page.locator("main").inner_text()
        assert "Not scored yet" not in shown and "No mass:" in shown, shown
        assert "No witness has blamed it." in shown, shown
    assert traffic.errors == []
