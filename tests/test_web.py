"""The dashboard and GraphiQL in a real browser (Debian's chromium, driven by Playwright)
against a served demo network: every page shows real data, navigation works, nothing is
fetched from anywhere but the server.

One served app for the module; the demo is the scaled-down network of
tests/test_demo_network.py (2,000 receipts), loaded as history like ``serve --demo``. The
full demo, and the README's screenshots, are in tests/test_web_demo.py.
"""

from __future__ import annotations

import json
import re
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from graphql import parse, print_ast
from playwright.sync_api import Page

from graphsvc.api.app import create_app
from graphsvc.demo import DemoNetwork, generate
from graphsvc.demo.load import replay_history, trusted_enclave_story
from graphsvc.demo.world import build_world
from graphsvc.domain import EntityKind, FaultParty, Verdict
from graphsvc.records import record_id
from graphsvc.records.builder import Actor, attestation, register
from graphsvc.services import Services, running_services
from graphsvc.settings import Settings
from graphsvc.store.endpoint import BoltEndpoint
from graphsvc.store.graph_store import GraphStore
from tests.browser import (
    PHONE,
    WAIT_MS,
    Traffic,
    api,
    chart_points,
    every_page,
    follow,
    settle,
    visit,
    walk,
)
from tests.doc_blocks import demo_queries
from tests.live_server import http_server
from tests.test_demo_network import SMALL

# Slow: drives chromium through every page. scripts/test --fast leaves it out.
pytestmark = pytest.mark.slow

EXAMPLES = Path(__file__).resolve().parents[1] / "graphsvc/web/static/graphiql-examples.json"


@dataclass
class Served:
    services: Services
    network: DemoNetwork
    url: str
    story_receipts: int  # the enclave story's gateway responses
    story_names: dict[str, set[str]]  # the enclave story's parties' names by kind


@pytest.fixture(scope="module")
def served(
    embedded_endpoint: BoltEndpoint, _embedded_driver: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    """The demo network in the session's store, with the enclave story as ``serve --demo``
    loads it, served over HTTP on a free local port."""
    _embedded_driver.execute_query("MATCH (n) DETACH DELETE n")
    network = generate(SMALL)
    end = network.stories.end_ms
    data = tmp_path_factory.mktemp("web-data")
    settings = Settings(snapshot_refresh=0, subscription_poll=0.2, data=data)
    with (
        GraphStore(embedded_endpoint) as store,
        running_services(settings, store=store, clock=lambda: end) as services,
    ):
        story = trusted_enclave_story(services, end)
        replay_history(services, network.records, last=story.records)
        gateway = sum(1 for r in story.records if r["type"] == "opengradient")
        with http_server(create_app(services)) as url:
            names = {
                "node": {n.name for n in story.nodes},
                "provider": {story.gateway.name},
            }
            yield Served(services, network, url + "/", gateway, names)


def names_of(served: Served, kind: str) -> set[str]:
    generated = {n for e, n in served.network.names.items() if served.network.kinds[e] == kind}
    return generated | served.story_names.get(kind, set())


def test_overview_charts_the_network(page: Page, served: Served, traffic: Traffic) -> None:
    visit(page, served.url, "")
    assert page.title() == "Overview · graphsvc"
    receipts = sum(1 for r in served.network.records if r["type"] == "receipt")
    receipts += served.story_receipts
    assert f"{receipts:,}" in page.locator(".tiles").inner_text()
    points = chart_points(page)
    assert len(points) == 4 and all(p >= 3 for p in points), points
    worst = page.locator("main table a").all_inner_texts()
    assert worst and set(worst) <= names_of(served, "node")
    assert traffic.errors == []


def test_no_page_prints_null_undefined_or_nan(page: Page, served: Served, traffic: Traffic) -> None:
    """Every page of the demo, and the page of a node registered after the newest
    snapshot (what its operator opens first), at phone width and at 1,400 px: no missing
    value shows as a word, and the page itself never scrolls sideways."""
    newcomer = Actor.derived("fresh-operator", EntityKind.NODE)
    record = register(newcomer, served.network.stories.end_ms)
    assert [r.reason for r in served.services.ingestor.submit([record])] == [None]
    routes = [*every_page(served.url).values(), f"#/entity/{newcomer.id}"]
    walk(page, served.url, routes)
    visit(page, served.url, f"#/entity/{newcomer.id}")
    assert "Not scored yet" in page.locator("main").inner_text()
    assert traffic.errors == []


def test_while_the_demo_loads_every_page_shows_progress_and_holds_scores(
    page: Page, served: Served, traffic: Traffic
) -> None:
    """/readyz as ``serve --demo`` answers it mid-load: a banner with the progress on every
    page, no score, rank or risk as a figure; when loading ends the page redraws."""
    loading = {"status": "loading", "cause": "loading demo"}
    progress = {"done": 1234, "total": 56789, "unit": "rec"}
    page.route(
        "**/readyz", lambda route: route.fulfill(status=503, json={**loading, "progress": progress})
    )
    node = api(served.url, "{ leaderboard(kind: NODE, first: 1) { items { entity { id } } } }")
    entity = node["leaderboard"]["items"][0]["entity"]["id"]
    for route in ["", "#/leaderboard/NODE", f"#/entity/{entity}", "#/choose", "#/search?q=node-"]:
        visit(page, served.url, route)
        banner = page.locator("#loading-banner")
        assert banner.is_visible(), route
        assert "1,234 of 56,789 records (2 %)" in banner.inner_text(), route
        main = page.locator("main").inner_text()
        assert "Scores, ranks and risks appear" in main or route.startswith("#/search"), route
        assert page.locator("main meter, main .tiles:has-text('rank')").count() == 0, route
        assert not re.search(r"\d %\s*\(", main), route  # no risk with its interval
    # Loading ends: the banner goes and the open page redraws with its figures.
    visit(page, served.url, "#/leaderboard/NODE")
    page.unroute("**/readyz")
    page.locator("#loading-banner").wait_for(state="hidden", timeout=WAIT_MS)
    page.locator("main tbody tr").first.wait_for(timeout=WAIT_MS)
    assert page.locator("main meter").count() > 0
    assert traffic.errors == []


def test_leaderboard_filters_orders_and_pages(page: Page, served: Served, traffic: Traffic) -> None:
    visit(page, served.url, "#/leaderboard/NODE")
    assert page.title() == "Nodes leaderboard, best first · graphsvc"
    best = page.locator("main tbody tr td:nth-child(2)").all_inner_texts()
    expected = api(
        served.url, "{ leaderboard(kind: NODE, first: 20) { items { entity { name } } } }"
    )
    assert best == [i["entity"]["name"] for i in expected["leaderboard"]["items"]]
    assert set(best) <= names_of(served, "node")

    follow(page, lambda: page.click("a[rel=next]"))
    assert "21\N{EN DASH}" in page.locator(".pager").inner_text()
    assert page.locator("main tbody tr td:first-child").first.inner_text() == "21"
    follow(page, lambda: page.click("a[rel=prev]"))
    assert page.locator("main tbody tr td:first-child").first.inner_text() == "1"

    page.select_option("select[name=order]", "WORST_FIRST")
    page.fill("input[name=minFaultRate]", "0.2")
    follow(page, lambda: page.click("form.controls button"))
    assert "order=WORST_FIRST" in page.url and "minFaultRate=0.2" in page.url
    rates = [
        float(t.rstrip(" %")) for t in page.locator("main tbody td:nth-child(5)").all_inner_texts()
    ]
    assert rates and all(rate >= 20 for rate in rates)

    # Lowest risk first: the order the API gives, each risk shown with its interval.
    visit(page, served.url, "#/leaderboard/NODE?order=LOWEST_RISK")
    safest = page.locator("main tbody tr td:nth-child(2)").all_inner_texts()
    expected = api(
        served.url,
        "{ leaderboard(kind: NODE, first: 20, orderBy: LOWEST_RISK)"
        " { items { entity { name } } } }",
    )
    assert safest == [i["entity"]["name"] for i in expected["leaderboard"]["items"]]
    risks = page.locator("main tbody td:nth-child(7)").all_inner_texts()
    share = r"(?:< 0\.001|0|[\d.]+) %"
    interval = re.compile(f"{share} \\({share}\N{EN DASH}{share}\\)")
    assert risks and all(interval.fullmatch(r) for r in risks)
    assert traffic.errors == []


def test_leaderboard_to_entity_to_incident_to_trail(
    page: Page, served: Served, traffic: Traffic
) -> None:
    visit(page, served.url, "#/leaderboard/NODE?order=WORST_FIRST&minFaultRate=0.2")
    node = page.locator("main tbody a").first.inner_text()
    follow(page, lambda: page.locator("main tbody a").first.click())
    assert page.locator("h1").inner_text().startswith(node)
    assert page.title() == f"{node} (node) · graphsvc"
    snapshots = api(served.url, "{ snapshots { totalCount } }")["snapshots"]["totalCount"]
    assert chart_points(page) == [snapshots]
    # The breakdown names its sources instead of showing raw keys.
    sources = page.locator("section:has(h2:text('breakdown')) tbody a").all_inner_texts()
    assert sources and not any(s.startswith("ed25519:") for s in sources)

    follow(page, lambda: page.locator("a[href^='#/incident/']").first.click())
    assert page.locator("h1").inner_text() == f"Incident against {node}"
    assert page.locator(".facts .badge").first.inner_text() in {"STANDS", "OUTVOTED"}
    # Each witness's score, as the scorer weighed it, agrees with its verdict.
    rows = page.locator("main tbody tr").evaluate_all(
        "rows => rows.filter(r => r.querySelector('td.score')).map(r =>"
        " [r.querySelector('.badge').textContent, r.querySelector('td.score').textContent])"
    )
    assert rows
    for verdict, score in rows:
        assert (float(score) >= 0.5) == (verdict == "VALID"), (verdict, score)

    follow(page, lambda: page.click("text=The output's trail"))
    graph = page.locator("svg.trail-graph")
    kinds = graph.locator("g.node").evaluate_all("gs => gs.map(g => g.dataset.kind)")
    assert {"output", "receipt", "model", "node", "provider", "attestation"} <= set(kinds)
    assert int(graph.get_attribute("data-nodes") or 0) == len(kinds)
    assert node in (graph.text_content() or "")
    assert page.locator("details.record[open]").count() == 1  # the incident's receipt
    # From the output alone, each signed record is one click away: its receipt's box.
    page.goto(page.url.split("?")[0])
    settle(page)
    assert page.locator("details.record[open]").count() == 0
    follow(page, lambda: page.locator("svg.trail-graph a:has(g.receipt)").first.click())
    record = json.loads(page.locator("details.record[open] pre").first.inner_text())
    assert record["type"] == "receipt" and record["sig"]
    assert traffic.errors == []


def test_verified_receipts_lead_to_their_enclave(
    page: Page, served: Served, traffic: Traffic
) -> None:
    found = api(served.url, '{ search(text: "tee-gateway-1") { items { id } } }')["search"]["items"]
    visit(page, served.url, f"#/entity/{found[0]['id']}")
    assert "tee · verified" in page.locator("main").inner_text()
    follow(page, lambda: page.locator("a[href^='#/enclave/']").first.click())
    assert page.locator("h1").inner_text() == "Enclave of tee-gateway-1"
    assert page.locator(".facts .badge").first.inner_text() == "KNOWN"
    assert page.locator("main tbody tr").count() == 16  # PCR0-15
    assert traffic.errors == []


def test_choose_a_provider_shows_why_each_passed(
    page: Page, served: Served, traffic: Traffic
) -> None:
    # The generated history's proofs are all claims: the policy has to accept them.
    url = "#/choose?minProof=TEE&acceptClaimed=true&minProofShare=0.6&maxFaultRate=0.05"
    visit(page, served.url, url)
    expected = api(
        served.url,
        "{ recommendProviders(policy: {minProof: TEE, minProofShare: 0.6, maxFaultRate: 0.05,"
        " acceptClaimed: true}) { reputation { entity { name } } } }",
    )["recommendProviders"]
    shown = page.locator("article.offer h3 a").all_inner_texts()
    assert shown == [p["reputation"]["entity"]["name"] for p in expected] and shown
    assert page.locator("article.offer .pass").count() > 0
    assert page.locator("article.offer .fail").count() == 0

    # The form refuses out-of-range numbers; a hand-edited URL gets the API's reason.
    visit(page, served.url, "#/choose?minProof=TEE&minProofShare=2&maxFaultRate=0.05")
    assert "minProofShare" in page.locator("[role=alert]").inner_text()
    assert traffic.errors == []


def test_live_feed_shows_incidents_and_score_changes_as_they_arrive(
    page: Page, served: Served, traffic: Traffic
) -> None:
    visit(page, served.url, "#/live?minDelta=0")
    page.wait_for_selector("[data-state=connected]", timeout=WAIT_MS)
    network = served.network
    witness = build_world(SMALL).witnesses[0]
    honest = [
        r
        for r in network.records
        if r["type"] == "receipt" and r["signer"] not in network.stories.faulty_nodes
    ]

    def attest(receipt: dict[str, Any], verdict: Verdict, fault: FaultParty | None) -> None:
        record = attestation(
            witness, record_id(receipt), verdict, network.stories.end_ms, fault=fault
        )
        assert [r.reason for r in served.services.ingestor.submit([record])] == [None]

    # A new snapshot: the page subscribed after the one it was opened on, so it sees it.
    attest(honest[0], Verdict.VALID, None)
    served.services.scorer.recompute()
    changes = page.locator("ol[aria-label='Score changes'] li")
    changes.first.wait_for(timeout=WAIT_MS)
    assert "\N{RIGHTWARDS ARROW}" in changes.first.inner_text()

    # Its incidents subscription went out first, so it is listening by now.
    attest(honest[1], Verdict.INVALID, FaultParty.NODE)
    feed = page.locator("ol[aria-label=Incidents] li")
    feed.first.wait_for(timeout=WAIT_MS)
    blamed = network.names[honest[1]["signer"]]
    assert blamed in feed.first.inner_text() and witness.name in feed.first.inner_text()
    assert traffic.errors == []


def test_search_from_every_page_finds_names_and_ids(
    page: Page, served: Served, traffic: Traffic
) -> None:
    visit(page, served.url, "#/choose")
    page.keyboard.press("/")  # the shortcut focuses the search box
    page.keyboard.type("node-")
    follow(page, lambda: page.keyboard.press("Enter"))
    assert page.title() == "Search: node- · graphsvc"
    found = set(page.locator("main tbody a").all_inner_texts())
    assert found and found <= names_of(served, "node")

    some_id = next(iter(served.network.names))  # a signer id: found by id, not by name
    visit(page, served.url, f"#/search?q={some_id}")
    assert page.locator("main tbody a").first.inner_text() == served.network.names[some_id]
    assert traffic.errors == []


def test_unknown_ids_and_a_store_that_is_down_say_so(
    page: Page, served: Served, traffic: Traffic
) -> None:
    visit(page, served.url, "#/entity/ed25519:nobody")
    assert page.title() == "Unknown entity · graphsvc"
    assert "ed25519:nobody" in page.locator("[role=alert]").inner_text()
    visit(page, served.url, "#/trail/sha256:nothing")
    assert "sha256:nothing" in page.locator("[role=alert]").inner_text()

    # What the API answers while its store is unreachable: a masked error, readyz 503.
    page.route(
        "**/graphql*",  # GET carries the query in the URL
        lambda route: route.fulfill(
            json={"data": None, "errors": [{"message": "Unexpected error."}]}
        ),
    )
    page.route(
        "**/readyz",
        lambda route: route.fulfill(
            status=503, json={"status": "unavailable", "cause": "store unreachable"}
        ),
    )
    visit(page, served.url, "#/leaderboard/MODEL")
    alert = page.locator("[role=alert]").inner_text()
    assert "The graph store is not answering" in alert and "store unreachable" in alert
    assert traffic.errors == []


def test_phone_width_and_keyboard(page: Page, served: Served, traffic: Traffic) -> None:
    page.set_viewport_size(PHONE)
    visit(page, served.url, "")
    # Wide tables and charts scroll inside their box; the page itself does not.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.closest('main') !== null")
    assert focused
    assert traffic.errors == []


def test_graphiql_works_offline_with_the_demo_queries(
    page: Page, served: Served, traffic: Traffic
) -> None:
    page.goto(served.url + "graphql")
    tabs = page.locator(".graphiql-tab")
    tabs.first.wait_for(timeout=WAIT_MS)
    examples = json.loads(EXAMPLES.read_text())
    assert tabs.all_inner_texts() == [e["operation"] for e in examples]
    page.locator(".graphiql-execute-button").click()
    result = page.locator(".result-window")
    result.get_by_text("node-").first.wait_for(timeout=WAIT_MS)
    assert traffic.errors == []


def test_no_request_leaves_the_server(page: Page, served: Served, traffic: Traffic) -> None:
    for path in ["", "#/leaderboard/WITNESS", "#/choose", "#/live", "#/search?q=a"]:
        visit(page, served.url, path)
    page.goto(served.url + "graphql")
    page.locator(".graphiql-tab").first.wait_for(timeout=WAIT_MS)
    assert any("/static/vendor/graphiql-3.8.3/" in u for u in traffic.urls)
    assert any("/static/vendor/uplot-1.6.32/" in u for u in traffic.urls)
    assert any(u.startswith("ws://") for u in traffic.urls)
    assert traffic.outside() == []


def test_static_files_have_their_content_types(served: Served) -> None:
    expected = {
        "": "text/html",
        "static/app.js": "text/javascript",
        "static/vendor/uplot-1.6.32/uPlot.esm.js": "text/javascript",
        "static/style.css": "text/css",
        "static/graphiql-examples.json": "application/json",
        "static/favicon.svg": "image/svg+xml",
    }
    for path, content_type in expected.items():
        with urllib.request.urlopen(served.url + path, timeout=30) as response:
            assert response.headers["content-type"].split(";")[0] == content_type, path
    with urllib.request.urlopen(served.url, timeout=30) as response:
        assert "default-src 'self'" in response.headers["content-security-policy"]
    html = urllib.request.Request(served.url + "graphql", headers={"accept": "text/html"})
    with urllib.request.urlopen(html, timeout=30) as response:
        page = response.read().decode()
    assert "static/vendor/graphiql-3.8.3/graphiql.min.js" in page
    assert "https://" not in page


def test_graphiql_examples_are_the_documented_demo_queries() -> None:
    queries = demo_queries()
    assert [e["query"] for e in json.loads(EXAMPLES.read_text())] == queries
    # Formatted as graphql-core prints them: one field a line, so each tab reads.
    assert queries and all(print_ast(parse(q)) + "\n" == q for q in queries)
