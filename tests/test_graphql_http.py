"""The API as its ecosystem sees it: the graphql-http audit (the GraphQL-over-HTTP
spec's own conformance check, run with Node), the graphql-response+json media type,
CORS tried by a real browser from allowed and refused origins, compression, request ids.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2
import pytest
from playwright.sync_api import Browser
from starlette.applications import Starlette
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import HTMLResponse
from starlette.routing import Route
from starlette.types import Message, Receive, Scope, Send

from graphsvc.api.app import create_app
from graphsvc.api.cors import CORS
from graphsvc.api.graphql_media import GRAPHQL_RESPONSE, prefers_graphql_response
from graphsvc.services import Services, running_services
from graphsvc.settings import Settings
from graphsvc.store.endpoint import BoltEndpoint
from graphsvc.store.graph_store import GraphStore
from tests.live_server import chromium, http_server
from tests.network import T0, Network

CONFORMANCE = Path(__file__).parent / "conformance"
COUNT = {"query": "{ networkStats { records } }"}


@dataclass
class Served:
    services: Services
    api: str  # base URL of the API
    allowed_page: str  # a page's origin the API allows (CORS)
    other_page: str  # a page's origin it does not


def _page_server() -> Starlette:
    """Serves one blank page: the origin a cross-origin script runs from."""

    async def page(request: object) -> HTMLResponse:
        return HTMLResponse("<!doctype html><title>another site</title>")

    return Starlette(routes=[Route("/", page)])


@pytest.fixture(scope="module")
def served(embedded_endpoint: BoltEndpoint, _embedded_driver: Any) -> Iterator[Served]:
    # The session's store: empty it first, so the counts below do not depend on which
    # test modules ran before.
    _embedded_driver.execute_query("MATCH (n) DETACH DELETE n")
    with (
        http_server(_page_server()) as allowed_page,
        http_server(_page_server()) as other_page,
    ):
        settings = Settings(cors_origins=[allowed_page], snapshot_refresh=0)
        with (
            GraphStore(embedded_endpoint) as store,
            running_services(settings, store=store, clock=lambda: T0 + 10**9) as services,
        ):
            services.ingestor.submit(Network().basics())
            with http_server(create_app(services)) as api:
                yield Served(services, api, allowed_page, other_page)


@pytest.mark.slow  # Node and the graphql-http package (npm ci in scripts/test)
def test_graphql_http_audit_passes_every_check(served: Served) -> None:
    node = shutil.which("node")
    assert node, "Node.js is needed for the graphql-http audit"
    if not (CONFORMANCE / "node_modules" / "graphql-http").is_dir():
        pytest.fail(
            "the graphql-http audit is not installed: run `npm ci --prefix tests/conformance` "
            "(scripts/test does)"
        )
    run = subprocess.run(
        [node, str(CONFORMANCE / "audit.mjs"), served.api + "/graphql"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    results = [json.loads(line) for line in run.stdout.splitlines()]
    assert len(results) > 50, run.stdout  # the audit ran its checks, MUSTs and SHOULDs
    assert [r for r in results if r["status"] != "ok"] == []


@pytest.mark.parametrize(
    ("accept", "prefers"),
    [
        ("application/graphql-response+json", True),
        ("application/graphql-response+json, application/json", True),
        ("application/json, application/graphql-response+json", False),
        ("application/json;q=0.9, application/graphql-response+json", True),
        ("application/graphql-response+json;q=0.5, application/json", False),
        ("application/graphql-response+json;q=0, */*", False),
        ("*/*", False),
        ("", False),
        ("text/html", False),
    ],
)
def test_the_preferred_media_type(accept: str, prefers: bool) -> None:
    assert prefers_graphql_response(accept) is prefers


def test_request_errors_are_400_without_data_in_graphql_response_json(served: Served) -> None:
    new = {"accept": GRAPHQL_RESPONSE}
    with httpx2.Client(base_url=served.api) as client:
        cases = {
            "does not parse": {"query": "{ network {"},
            "does not validate": {"query": "{ noSuchField }"},
            "variable does not coerce": {
                "query": "query($n: Int!) { leaderboard(kind: NODE, first: $n) { totalCount } }",
                "variables": {"n": "many"},
            },
        }
        for case, body in cases.items():
            modern = client.post("/graphql", json=body, headers=new)
            assert modern.status_code == 400, case
            assert modern.headers["content-type"] == GRAPHQL_RESPONSE, case
            assert "data" not in modern.json() and modern.json()["errors"], case
            legacy = client.post("/graphql", json=body)  # application/json: as before
            assert legacy.status_code == 200, case
            assert legacy.json()["data"] is None, case

        fine = client.post("/graphql", json=COUNT, headers=new)
        assert fine.status_code == 200
        assert fine.headers["content-type"] == GRAPHQL_RESPONSE
        assert fine.json()["data"]["networkStats"]["records"] == len(Network().basics())
        # A field error is not a request error: data stays, and so does 200.
        field_error = client.post(
            "/graphql",
            json={"query": "{ leaderboard(kind: NODE, first: 100000) { totalCount } }"},
            headers=new,
        )
        assert field_error.status_code == 200
        assert "data" in field_error.json() and field_error.json()["errors"]


def _fetch_from(browser: Browser, page_origin: str, api: str) -> str:
    """What a script on ``page_origin`` gets when it POSTs a GraphQL query to ``api`` (a
    JSON POST: the browser sends a CORS preflight first)."""
    page = browser.new_page()
    try:
        page.goto(page_origin + "/")
        outcome: str = page.evaluate(
            """async ([api, body]) => {
                try {
                    const response = await fetch(api + "/graphql", {
                        method: "POST",
                        headers: {"content-type": "application/json", "x-request-id": "page-1"},
                        body: JSON.stringify(body),
                    });
                    const json = await response.json();
                    return "records=" + json.data.networkStats.records
                        + " id=" + response.headers.get("x-request-id");
                } catch (error) {
                    return "refused: " + error.name;
                }
            }""",
            [api, COUNT],
        )
        return outcome
    finally:
        page.close()


@pytest.mark.slow  # a real browser (chromium)
def test_a_page_on_an_allowed_origin_may_call_the_api_and_others_may_not(
    served: Served,
) -> None:
    records = len(Network().basics())
    with chromium() as browser:
        allowed = _fetch_from(browser, served.allowed_page, served.api)
        refused = _fetch_from(browser, served.other_page, served.api)
    assert allowed == f"records={records} id=page-1"  # X-Request-Id is exposed to it
    assert refused == "refused: TypeError"


def test_preflight_answers_for_allowed_origins_only(served: Served) -> None:
    ask = {
        "access-control-request-method": "POST",
        "access-control-request-headers": "content-type",
    }
    with httpx2.Client(base_url=served.api) as client:
        allowed = client.options("/graphql", headers={"origin": served.allowed_page, **ask})
        refused = client.options("/graphql", headers={"origin": served.other_page, **ask})
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == served.allowed_page
    assert refused.status_code == 400
    assert "access-control-allow-origin" not in refused.headers


def test_cors_origins_setting_is_checked() -> None:
    assert Settings(cors_origins=["https://dash.example.org:8443", "*"]).cors_origins
    for wrong in ("dash.example.org", "https://dash.example.org/path", "ftp://x"):
        with pytest.raises(ValueError, match="is not an origin"):
            Settings(cors_origins=[wrong])


def test_large_answers_are_compressed(served: Served) -> None:
    query = {"query": "{ __schema { types { name description fields { name description } } } }"}
    with httpx2.Client(base_url=served.api) as client:
        raw = client.post("/graphql", json=query, headers={"accept-encoding": "identity"}).content
        compressed = client.stream(
            "POST", "/graphql", json=query, headers={"accept-encoding": "gzip"}
        )
        with compressed as response:
            assert response.headers["content-encoding"] == "gzip"
            body = b"".join(response.iter_raw())
        small = client.get("/healthz", headers={"accept-encoding": "gzip"})
    assert len(body) < len(raw) / 3
    assert json.loads(gzip.decompress(body)) == json.loads(raw)
    assert "content-encoding" not in small.headers  # not worth it under 1 KiB


def test_every_answer_carries_a_request_id(served: Served) -> None:
    with httpx2.Client(base_url=served.api) as client:
        made = {client.get("/healthz").headers["x-request-id"] for _ in range(3)}
        kept = client.get("/healthz", headers={"x-request-id": "trace-42.a"})
        replaced = client.get("/healthz", headers={"x-request-id": "bad id\twith tab"})
        refused = client.post("/graphql", content=b"x" * 10_000_000)  # over the body limit
    assert len(made) == 3 and all(len(i) == 32 for i in made)
    assert kept.headers["x-request-id"] == "trace-42.a"
    assert replaced.headers["x-request-id"] != "bad id\twith tab"
    assert refused.status_code == 413 and refused.headers["x-request-id"]


def test_an_internal_error_is_masked_and_names_its_request(
    served: Served, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken() -> None:
        raise RuntimeError("internal detail: /var/lib/graphsvc/secret.path")

    monkeypatch.setattr(served.services.attribution, "network_counts", broken)
    with httpx2.Client(base_url=served.api) as client:
        answer = client.post("/graphql", json=COUNT, headers={"x-request-id": "report-7"})
    error = answer.json()["errors"][0]
    assert error["message"] == "Unexpected error."
    assert error["extensions"] == {"code": "INTERNAL_SERVER_ERROR", "requestId": "report-7"}
    assert "internal detail" not in answer.text
    # The log keeps the details, with the traceback, for whoever holds the id.
    logged = [r for r in caplog.records if r.name == "graphsvc.graphql"]
    assert any(r.exc_info and "internal detail" in str(r.exc_info[1]) for r in logged)


def test_health_takes_the_short_way_unless_another_origin_asks(served: Served) -> None:
    with httpx2.Client(base_url=served.api) as client:
        plain = client.get("/healthz")
        cross = client.get("/healthz", headers={"origin": served.allowed_page})
    assert plain.json() == cross.json() == {"status": "ok"}
    assert plain.headers["content-type"] == "application/json"
    assert plain.headers["x-request-id"] and cross.headers["x-request-id"]
    assert "access-control-allow-origin" not in plain.headers
    assert cross.headers["access-control-allow-origin"] == served.allowed_page


def _answer_with(headers: list[tuple[bytes, bytes]]) -> Any:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": list(headers)})
        await send({"type": "http.response.body", "body": b"{}"})

    return app


async def _headers_through(
    layer: Any, request_headers: list[tuple[bytes, bytes]]
) -> list[tuple[bytes, bytes]]:
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/graphql", "headers": request_headers}
    await layer(scope, receive, send)
    assert [m["type"] for m in sent] == ["http.response.start", "http.response.body"]
    return list(sent[0]["headers"])


@pytest.mark.parametrize(
    "answer_headers",
    [
        [(b"content-type", b"application/json")],
        [(b"content-type", b"application/json"), (b"vary", b"Accept-Encoding")],
        [(b"vary", b"Accept"), (b"etag", b'"s1"'), (b"vary", b"Accept-Encoding")],
        [],
    ],
)
@pytest.mark.parametrize(
    "request_headers",
    [
        [],  # no Origin: the short way
        [(b"origin", b"https://dash.example.org")],  # allowed: Starlette's way
        [(b"origin", b"https://other.example.org")],  # not allowed: Starlette's way
    ],
)
def test_cors_answers_as_starlettes_with_or_without_origin(
    answer_headers: list[tuple[bytes, bytes]], request_headers: list[tuple[bytes, bytes]]
) -> None:
    """The short way for requests without ``Origin`` changes no answer's headers: the
    same as Starlette's CORSMiddleware gives, ``Vary: Origin`` included."""
    options: dict[str, Any] = {
        "allow_origins": ["https://dash.example.org"],
        "allow_methods": ["GET", "POST"],
        "expose_headers": ["X-Request-Id"],
    }
    app = _answer_with(answer_headers)
    ours = asyncio.run(_headers_through(CORS(app, **options), request_headers))
    starlettes = asyncio.run(_headers_through(CORSMiddleware(app, **options), request_headers))
    assert ours == starlettes
    assert dict(ours)[b"vary"].endswith(b"Origin")


def test_graphql_answers_vary_by_origin_and_cross_origin_ones_carry_cors(
    served: Served,
) -> None:
    with httpx2.Client(base_url=served.api) as client:
        plain = client.post("/graphql", json=COUNT)
        cross = client.post("/graphql", json=COUNT, headers={"origin": served.allowed_page})
        refused = client.post("/graphql", json=COUNT, headers={"origin": served.other_page})
    assert plain.json() == cross.json() == refused.json()
    for answer in (plain, cross, refused):
        assert "Origin" in answer.headers["vary"]
    assert "access-control-allow-origin" not in plain.headers
    assert cross.headers["access-control-allow-origin"] == served.allowed_page
    assert cross.headers["access-control-expose-headers"] == "X-Request-Id"
    assert "access-control-allow-origin" not in refused.headers
