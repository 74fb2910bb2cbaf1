"""The dashboard and GraphiQL in a real browser (Debian's chromium, driven by Playwright)
against a served demo network: every page shows real data, navigation works, nothing is
fetched from anywhere but the server. Each page's screenshot goes to docs/screenshots/.

One browser and one served app for the module; the demo is the scaled-down network of
tests/test_demo_network.py (2,000 receipts), loaded as history like ``serve --demo``.
"""

from __future__ import annotations

import json
import os
import re
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from graphql import parse, print_ast
from playwright.sync_api import Browser, Page, Request, Route

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
from tests.live_server import chromium, http_server
from tests.readme import readme_demo_queries
from tests.test_demo_network import SMALL

# Slow: drives chromium through every page. scripts/test --fast leaves it out.
pytestmark = pytest.mark.slow

SHOTS = Path(__file__).resolve().parents[1] / "docs" / "screenshots"
EXAMPLES = Path(__file__).resolve().parents[1] / "graphsvc/web/static/graphiql-examples.json"
DESKTOP = {"width": 1280, "height": 900}
WIDE = {"width": 1400, "height": 900}
PHONE = {"width": 390, "height": 844}
# Words a page shows when a missing value reached the DOM as text.
NONSENSE = re.compile(r"\b(null|undefined|NaN|Infinity|Invalid Date)\b")
WAIT_MS = 20_000


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


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as found:
        yield found


@dataclass
class Traffic:
    """Every URL the page asked for (HTTP and websockets); anything not local is refused."""

    urls: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def outside(self) -> list[str]:
        return [u for u in self.urls if not re.match(r"^(http|ws)://127\.0\.0\.1:\d+/", u)]


@pytest.fixture
def traffic() -> Traffic:
    return Traffic()


@pytest.fixture
def page(browser: Browser, traffic: Traffic) -> Iterator[Page]:
    context = browser.new_context(viewport=DESKTOP)

    def record(route: Route, request: Request) -> None:
        traffic.urls.append(request.url)
        if request.url.startswith("http://127.0.0.1:"):
            route.continue_()
        else:
            route.abort()

    context.route("**/*", record)
    found = context.new_page()
    found.on("websocket", lambda ws: traffic.urls.append(ws.url))
    found.on("pageerror", lambda error: traffic.errors.append(str(error)))
    # Refusals by the pages' content security policy show up as console errors only.
    found.on(
        "console",
        lambda message: (
            traffic.errors.append(message.text)
            if message.type == "error" and "Content Security Policy" in message.text
            else None
        ),
    )
    yield found
    context.close()


def visit(page: Page, served: Served, path: str) -> None:
    """Open a dashboard route and wait until the page says it has rendered."""
    page.goto(served.url + path)
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
        path.write_bytes(shot)


def names_of(served: Served, kind: str) -> set[str]:
    generated = {n for e, n in served.network.names.items() if served.network.kinds[e] == kind}
    return generated | served.story_names.get(kind, set())


def chart_points(page: Page) -> list[int]:
    charts = page.locator("figure.chart")
    assert charts.count() > 0
    assert page.locator("figure.chart canvas").count() >= charts.count()
    return [int(charts.nth(i).get_attribute("data-points") or 0) for i in range(charts.count())]


def api(served: Served, query: str, **variables: Any) -> dict[str, Any]:
    request = urllib.request.Request(
        served.url + "graphql",
        data=json.dumps({"query": query, "variables": variables}).encode(),
        headers={"content-type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        body: dict[str, Any] = json.load(response)
    assert "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data


def test_overview_charts_the_network(page: Page, served: Served, traffic: Traffic) -> None:
    visit(page, served, "")
    assert page.title() == "Overview · graphsvc"
    receipts = sum(1 for r in served.network.records if r["type"] == "receipt")
    receipts += served.story_receipts
    assert f"{receipts:,}" in page.locator(".tiles").inner_text()
    points = chart_points(page)
    assert len(points) == 4 and all(p >= 3 for p in points), points
    worst = page.locator("main table a").all_inner_texts()
    assert worst and set(worst) <= names_of(served, "node")
    shoot(page, "overview")
    assert traffic.errors == []


def every_page(served: Served) -> list[str]:
    """One route of each page the dashboard has, on the demo's own entities: each
    leaderboard and order, an entity of each kind, an incident, a trail, an enclave."""
    routes = ["", "#/choose", "#/live", "#/search?q=node-", "#/no-such-page"]
    for kind in ["PROVIDER", "MODEL", "NODE", "WITNESS", "REQUESTER"]:
        routes.append(f"#/leaderboard/{kind}")
        top = api(
            served, f"{{ leaderboard(kind: {kind}, first: 1) {{ items {{ entity {{ id }} }} }} }}"
        )
        routes += [f"#/entity/{i['entity']['id']}" for i in top["leaderboard"]["items"]]
    for order in ["WORST_FIRST", "LOWEST_RISK", "HIGHEST_RISK"]:
        routes.append(f"#/leaderboard/NODE?order={order}")
    faulty = api(
        served,
        "{ leaderboard(kind: NODE, first: 1, order: WORST_FIRST, filter: {minFaultRate: 0.2})"
        " { items { entity { id incidents(first: 1) { items { id ts party { id }"
        " receipt { id output { hash } } } } } } } }",
    )["leaderboard"]["items"][0]["entity"]
    incident = faulty["incidents"]["items"][0]
    routes.append(f"#/entity/{faulty['id']}")
    routes.append(f"#/incident/{incident['party']['id']}/{incident['id']}?at={incident['ts']}")
    receipt = incident["receipt"]
    routes.append(f"#/trail/{receipt['output']['hash']}?receipt={receipt['id']}")
    gateway = api(served, '{ search(text: "tee-gateway-1") { items { id } } }')
    node = gateway["search"]["items"][0]["id"]
    routes.append(f"#/entity/{node}")
    enclaves = api(served, "query($id: ID!) { entity(id: $id) { enclaves { id } } }", id=node)
    routes.append(f"#/enclave/{enclaves['entity']['enclaves'][0]['id']}")
    return routes


def test_no_page_prints_null_undefined_or_nan(page: Page, served: Served, traffic: Traffic) -> None:
    """Every page of the demo, and the page of a node registered after the newest
    snapshot (what its operator opens first), at phone width and at 1,400 px: no missing
    value shows as a word, and the page itself never scrolls sideways."""
    newcomer = Actor.derived("fresh-operator", EntityKind.NODE)
    record = register(newcomer, served.network.stories.end_ms)
    assert [r.reason for r in served.services.ingestor.submit([record])] == [None]
    routes = [*every_page(served), f"#/entity/{newcomer.id}"]
    for size in [WIDE, PHONE]:
        page.set_viewport_size(size)
        for route in routes:
            visit(page, served, route)
            text = page.locator("body").inner_text()
            assert not NONSENSE.search(text), (size, route, NONSENSE.findall(text))
            fits = page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
            assert fits, (size, route)
            if size is WIDE:  # on a desktop, no table scrolls sideways either
                wide = page.evaluate(
                    "[...document.querySelectorAll('main .scroll')]"
                    ".filter(e => e.scrollWidth > e.clientWidth + 1)"
                    ".map(e => e.closest('section')?.querySelector('h2')?.textContent ?? '?')"
                )
                assert wide == [], (route, wide)
    visit(page, served, f"#/entity/{newcomer.id}")
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
    node = api(served, "{ leaderboard(kind: NODE, first: 1) { items { entity { id } } } }")
    entity = node["leaderboard"]["items"][0]["entity"]["id"]
    for route in ["", "#/leaderboard/NODE", f"#/entity/{entity}", "#/choose", "#/search?q=node-"]:
        visit(page, served, route)
        banner = page.locator("#loading-banner")
        assert banner.is_visible(), route
        assert "1,234 of 56,789 records (2 %)" in banner.inner_text(), route
        main = page.locator("main").inner_text()
        assert "Scores, ranks and risks appear" in main or route.startswith("#/search"), route
        assert page.locator("main meter, main .tiles:has-text('rank')").count() == 0, route
        assert not re.search(r"\d %\s*\(", main), route  # no risk with its interval
    # Loading ends: the banner goes and the open page redraws with its figures.
    visit(page, served, "#/leaderboard/NODE")
    page.unroute("**/readyz")
    page.locator("#loading-banner").wait_for(state="hidden", timeout=WAIT_MS)
    page.locator("main tbody tr").first.wait_for(timeout=WAIT_MS)
    assert page.locator("main meter").count() > 0
    assert traffic.errors == []


def test_leaderboard_filters_orders_and_pages(page: Page, served: Served, traffic: Traffic) -> None:
    visit(page, served, "#/leaderboard/NODE")
    assert page.title() == "Nodes leaderboard, best first · graphsvc"
    best = page.locator("main tbody tr td:nth-child(2)").all_inner_texts()
    expected = api(served, "{ leaderboard(kind: NODE, first: 20) { items { entity { name } } } }")
    assert best == [i["entity"]["name"] for i in expected["leaderboard"]["items"]]
    assert set(best) <= names_of(served, "node")
    shoot(page, "leaderboard")

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
    visit(page, served, "#/leaderboard/NODE?order=LOWEST_RISK")
    safest = page.locator("main tbody tr td:nth-child(2)").all_inner_texts()
    expected = api(
        served,
        "{ leaderboard(kind: NODE, first: 20, order: LOWEST_RISK) { items { entity { name } } } }",
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
    visit(page, served, "#/leaderboard/NODE?order=WORST_FIRST&minFaultRate=0.2")
    node = page.locator("main tbody a").first.inner_text()
    follow(page, lambda: page.locator("main tbody a").first.click())
    assert page.locator("h1").inner_text().startswith(node)
    assert page.title() == f"{node} (node) · graphsvc"
    snapshots = api(served, "{ snapshots { totalCount } }")["snapshots"]["totalCount"]
    assert chart_points(page) == [snapshots]
    # The breakdown names its sources instead of showing raw keys.
    sources = page.locator("section:has(h2:text('breakdown')) tbody a").all_inner_texts()
    assert sources and not any(s.startswith("ed25519:") for s in sources)
    shoot(page, "entity")

    follow(page, lambda: page.locator("a[href^='#/incident/']").first.click())
    assert page.locator("h1").inner_text() == f"Incident against {node}"
    assert page.locator(".facts .badge").first.inner_text() in {"STANDS", "OUTVOTED"}
    shoot(page, "incident")

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
    shoot(page, "trail")
    assert traffic.errors == []


def test_verified_receipts_lead_to_their_enclave(
    page: Page, served: Served, traffic: Traffic
) -> None:
    found = api(served, '{ search(text: "tee-gateway-1") { items { id } } }')["search"]["items"]
    visit(page, served, f"#/entity/{found[0]['id']}")
    assert "tee · verified" in page.locator("main").inner_text()
    follow(page, lambda: page.locator("a[href^='#/enclave/']").first.click())
    assert page.locator("h1").inner_text() == "Enclave of tee-gateway-1"
    assert page.locator(".facts .badge").first.inner_text() == "KNOWN"
    assert page.locator("main tbody tr").count() == 16  # PCR0-15
    shoot(page, "enclave")
    assert traffic.errors == []


def test_choose_a_provider_shows_why_each_passed(
    page: Page, served: Served, traffic: Traffic
) -> None:
    # The generated history's proofs are all claims: the policy has to accept them.
    url = "#/choose?minProof=TEE&acceptClaimed=true&minProofShare=0.6&maxFaultRate=0.05"
    visit(page, served, url)
    expected = api(
        served,
        "{ recommendProviders(policy: {minProof: TEE, minProofShare: 0.6, maxFaultRate: 0.05,"
        " acceptClaimed: true}) { reputation { entity { name } } } }",
    )["recommendProviders"]
    shown = page.locator("article.offer h3 a").all_inner_texts()
    assert shown == [p["reputation"]["entity"]["name"] for p in expected] and shown
    assert page.locator("article.offer .pass").count() > 0
    assert page.locator("article.offer .fail").count() == 0
    shoot(page, "choose")

    # The form refuses out-of-range numbers; a hand-edited URL gets the API's reason.
    visit(page, served, "#/choose?minProof=TEE&minProofShare=2&maxFaultRate=0.05")
    assert "minProofShare" in page.locator("[role=alert]").inner_text()
    assert traffic.errors == []


def test_live_feed_shows_incidents_and_score_changes_as_they_arrive(
    page: Page, served: Served, traffic: Traffic
) -> None:
    visit(page, served, "#/live?minDelta=0")
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
    served.services.reputation.recompute()
    changes = page.locator("ol[aria-label='Score changes'] li")
    changes.first.wait_for(timeout=WAIT_MS)
    assert "\N{RIGHTWARDS ARROW}" in changes.first.inner_text()

    # Its incidents subscription went out first, so it is listening by now.
    attest(honest[1], Verdict.INVALID, FaultParty.NODE)
    feed = page.locator("ol[aria-label=Incidents] li")
    feed.first.wait_for(timeout=WAIT_MS)
    blamed = network.names[honest[1]["signer"]]
    assert blamed in feed.first.inner_text() and witness.name in feed.first.inner_text()
    shoot(page, "live")
    assert traffic.errors == []


def test_search_from_every_page_finds_names_and_ids(
    page: Page, served: Served, traffic: Traffic
) -> None:
    visit(page, served, "#/choose")
    page.keyboard.press("/")  # the shortcut focuses the search box
    page.keyboard.type("node-")
    follow(page, lambda: page.keyboard.press("Enter"))
    assert page.title() == "Search: node- · graphsvc"
    found = set(page.locator("main tbody a").all_inner_texts())
    assert found and found <= names_of(served, "node")
    shoot(page, "search")

    some_id = next(iter(served.network.names))  # a signer id: found by id, not by name
    visit(page, served, f"#/search?q={some_id}")
    assert page.locator("main tbody a").first.inner_text() == served.network.names[some_id]
    assert traffic.errors == []


def test_unknown_ids_and_a_store_that_is_down_say_so(
    page: Page, served: Served, traffic: Traffic
) -> None:
    visit(page, served, "#/entity/ed25519:nobody")
    assert page.title() == "Unknown entity · graphsvc"
    assert "ed25519:nobody" in page.locator("[role=alert]").inner_text()
    visit(page, served, "#/trail/sha256:nothing")
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
    visit(page, served, "#/leaderboard/MODEL")
    alert = page.locator("[role=alert]").inner_text()
    assert "The graph store is not answering" in alert and "store unreachable" in alert
    assert traffic.errors == []


def test_phone_width_and_keyboard(page: Page, served: Served, traffic: Traffic) -> None:
    page.set_viewport_size(PHONE)
    visit(page, served, "")
    # Wide tables and charts scroll inside their box; the page itself does not.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    shoot(page, "overview-phone")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.closest('main') !== null")
    assert focused
    assert traffic.errors == []


def test_graphiql_works_offline_with_the_readme_examples(
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
    shoot(page, "graphiql")
    assert traffic.errors == []


def test_no_request_leaves_the_server(page: Page, served: Served, traffic: Traffic) -> None:
    for path in ["", "#/leaderboard/WITNESS", "#/choose", "#/live", "#/search?q=a"]:
        visit(page, served, path)
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


def test_graphiql_examples_are_the_readme_demo_queries() -> None:
    queries = readme_demo_queries()
    assert [e["query"] for e in json.loads(EXAMPLES.read_text())] == queries
    # Formatted as graphql-core prints them: one field a line, so each tab reads.
    assert queries and all(print_ast(parse(q)) + "\n" == q for q in queries)
