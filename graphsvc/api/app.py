"""The ASGI application: GraphQL at /graphql, bulk NDJSON ingest, health and metrics, and
the packaged web front end (the dashboard at /, GraphiQL at /graphql in a browser)."""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

from asgi_correlation_id import CorrelationIdMiddleware
from prometheus_client import CONTENT_TYPE_LATEST, Histogram, generate_latest
from starlette.applications import Starlette
from starlette.concurrency import iterate_in_threadpool, run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import (
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    Response,
    StreamingResponse,
)
from starlette.routing import Route, WebSocketRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.asgi import GraphQL

from graphsvc.api.context import Context
from graphsvc.api.graphql_media import GraphQLResponseMedia
from graphsvc.api.log_routes import log_routes
from graphsvc.api.schema import build_schema
from graphsvc.domain.outcomes import RecordResult
from graphsvc.metrics import Metrics
from graphsvc.services import Services
from graphsvc.web import site

BULK_CHUNK = 1_000
REQUEST_ID_HEADER = "X-Request-Id"
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
ROUTES = frozenset(
    {"/", "/graphql", "/records", "/healthz", "/readyz", "/metrics", "/log/checkpoint", "/log/key"}
)


class _GraphQL(GraphQL[Context, None]):
    def __init__(self, services: Services) -> None:
        super().__init__(
            build_schema(services.settings),
            graphql_ide="graphiql",
            # Browsers do not apply CORS to WebSockets: the same origins are checked here.
            allowed_origins=services.settings.cors_origins,
        )
        self.services = services

    async def get_context(self, request: Any, response: Any) -> Context:
        return Context(self.services, request)

    async def render_graphql_ide(self, request: Any) -> HTMLResponse:
        # Strawberry's own page loads React and GraphiQL from a CDN; ours is packaged.
        return site.render_graphiql()


class RequestTimer:
    """Observe each HTTP request's latency under its path (a fixed set of routes)."""

    def __init__(self, app: ASGIApp, *, histogram: Histogram) -> None:
        self.app = app
        self.histogram = histogram

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        route = scope["path"] if scope["path"] in ROUTES else "other"
        started = time.perf_counter()
        try:
            await self.app(scope, receive, send)
        finally:
            self.histogram.labels(route).observe(time.perf_counter() - started)


class BodyLimit:
    """Refuse request bodies over a size, whether announced or streamed."""

    def __init__(self, app: ASGIApp, *, max_bytes: int, exempt: tuple[str, ...] = ()) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.exempt = exempt

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self.exempt:
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await _too_large(self.max_bytes)(scope, receive, send)
            return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.max_bytes:
                raise _BodyTooLarge
            return message

        try:
            await self.app(scope, limited, send)
        except _BodyTooLarge:
            await _too_large(self.max_bytes)(scope, receive, send)


class _BodyTooLarge(Exception):
    pass


def _too_large(limit: int) -> Response:
    return JSONResponse({"error": f"request body over {limit} bytes"}, status_code=413)


def create_app(services: Services) -> Starlette:
    metrics = services.metrics
    graphql = _GraphQL(services)

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(request: Request) -> Response:
        return await run_in_threadpool(_readiness, services)

    async def metrics_endpoint(request: Request) -> Response:
        return PlainTextResponse(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    async def bulk_records(request: Request) -> Response:
        # The body is read before answering: once a streaming response starts, Starlette
        # listens for the client's disconnect on the same channel the body arrives on.
        body = bytearray()
        async for piece in request.stream():
            body += piece
            if len(body) > services.settings.max_bulk_bytes:
                return _too_large(services.settings.max_bulk_bytes)
        return StreamingResponse(
            _bulk_results(bytes(body), services, metrics), media_type="application/x-ndjson"
        )

    app = Starlette(
        routes=[
            Route("/graphql", GraphQLResponseMedia(graphql), methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
            Route("/records", bulk_records, methods=["POST"]),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/metrics", metrics_endpoint),
            *site.routes(),
            *log_routes(services),
        ],
        middleware=[
            # Outermost: every answer, refusals by the layers below included, carries the
            # request's id (X-Request-Id), and every log line of the request names it.
            Middleware(
                CorrelationIdMiddleware,
                header_name=REQUEST_ID_HEADER,
                generator=lambda: uuid.uuid4().hex,
                validator=_is_request_id,
            ),
            Middleware(RequestTimer, histogram=metrics.requests),
            Middleware(
                CORSMiddleware,
                allow_origins=services.settings.cors_origins,
                allow_methods=["GET", "POST"],
                allow_headers=["Authorization", "Content-Type", REQUEST_ID_HEADER],
                expose_headers=[REQUEST_ID_HEADER],
                max_age=600,
            ),
            # Streams (NDJSON results, SSE) are compressed chunk by chunk as they go.
            Middleware(GZipMiddleware, minimum_size=1024),
            Middleware(
                BodyLimit, max_bytes=services.settings.max_request_bytes, exempt=("/records",)
            ),
        ],
    )
    app.state.services = services
    app.state.metrics = metrics
    return app


def _is_request_id(value: str) -> bool:
    """A caller's own request id is kept when it is a plain token (it reaches logs)."""
    return _REQUEST_ID.fullmatch(value) is not None


def _readiness(services: Services) -> Response:
    """503 while the demo loads or the store does not answer. Otherwise 200: ``ready``,
    or ``degraded`` with the cause while background recomputes fail (reads still work,
    from the newest snapshot, whose age is reported)."""
    loading = services.loading
    if loading is not None:
        return JSONResponse(
            {
                "status": "loading",
                "cause": "loading demo",
                "progress": {"done": loading.done, "total": loading.total, "unit": loading.unit},
            },
            503,
        )
    if not services.attribution.ready():
        return JSONResponse({"status": "unavailable", "cause": "store unreachable"}, 503)
    body: dict[str, Any] = {"status": "ready"}
    view = services.reputation.view()
    if view is not None:
        age = (services.reputation.now_ms() - view.info.created_ms) / 1000
        body["snapshot"] = {"id": view.info.id, "age_seconds": round(age, 3)}
    status = services.background.status()
    if status.running:
        body["recompute"] = {
            "consecutive_failures": status.consecutive_failures,
            "last_error": status.last_error,
            "next_attempt_in_seconds": status.next_attempt_in,
        }
        if status.consecutive_failures:
            body["status"] = "degraded"
            body["cause"] = f"background recompute failing: {status.last_error}"
    return JSONResponse(body)


async def _bulk_results(body: bytes, services: Services, metrics: Metrics) -> AsyncIterator[bytes]:
    """Ingest an NDJSON body chunk by chunk, answering one result line per input line.

    Each chunk is its own transaction (the next one is checked while one is stored): a
    record may refer to records of an earlier line or of its own chunk. The last line is
    a summary.
    """
    records: list[object] = []
    parse_errors: dict[int, str] = {}
    for raw_line in body.split(b"\n"):
        if not raw_line.strip():
            continue
        try:
            records.append(json.loads(raw_line))
        except json.JSONDecodeError as error:
            parse_errors[len(records)] = f"line is not JSON: {error.msg} at column {error.colno}"
            records.append(None)
    chunks = [records[i : i + BULK_CHUNK] for i in range(0, len(records), BULK_CHUNK)]
    counts = {"accepted": 0, "duplicate": 0, "rejected": 0}
    base = 0
    async for results in iterate_in_threadpool(services.ingestor.submit_many(chunks)):
        for result in results:
            answer = _result_line(result, base, parse_errors.get(base + result.index))
            counts[answer["status"]] += 1
            yield (json.dumps(answer) + "\n").encode()
        base += len(results)
    yield (json.dumps({"summary": counts}) + "\n").encode()


def _result_line(result: RecordResult, base: int, parse_error: str | None) -> dict[str, Any]:
    line: dict[str, Any] = {
        "index": base + result.index,
        "id": result.id,
        "status": str(result.status),
    }
    reason = parse_error or result.reason
    if reason:
        line["reason"] = reason
    if parse_error:
        line["status"] = "rejected"
    return line
