"""The ASGI application: GraphQL at /graphql, bulk NDJSON ingest, health and metrics, and
the packaged web front end (the dashboard at /, GraphiQL at /graphql in a browser)."""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from typing import Any, ClassVar

from asgi_correlation_id import CorrelationIdMiddleware
from cross_web import HTTPException
from prometheus_client import CONTENT_TYPE_LATEST, Histogram, generate_latest
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types import ExecutionResult
from strawberry.types.unset import UNSET

from graphsvc.api.answer_cache import CacheableDocuments
from graphsvc.api.bulk_ingest import BulkRecords
from graphsvc.api.client_limits import ClientConcurrency
from graphsvc.api.context import Context, shared_incident_reads
from graphsvc.api.cors import CORS
from graphsvc.api.graphql_media import GraphQLResponseMedia
from graphsvc.api.http_answers import FAILED, HTTPAnswers, parsed_body
from graphsvc.api.log_routes import log_routes
from graphsvc.api.schema import build_schema
from graphsvc.api.transport import StrictWebSocket, transport_handler
from graphsvc.records.json_input import JSONInputError
from graphsvc.services import Services
from graphsvc.web import site

REQUEST_ID_HEADER = "X-Request-Id"
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
# /readyz asks the store with this timeout: it answers fast while the store does not.
READY_PING_SECONDS = 2.0
ROUTES = frozenset(
    {"/", "/graphql", "/records", "/healthz", "/readyz", "/metrics", "/log/checkpoint", "/log/key"}
)


class _GraphQL(GraphQL[Context, None]):
    websocket_adapter_class = StrictWebSocket

    def __init__(self, services: Services) -> None:
        schema = build_schema(services.settings)
        super().__init__(
            schema,
            graphql_ide="graphiql",
            # Browsers do not apply CORS to WebSockets: the same origins are checked here.
            allowed_origins=services.settings.cors_origins,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
        )
        self.graphql_transport_ws_handler_class = transport_handler(
            services.settings.max_subscriptions
        )
        self.services = services
        self.incident_reads = shared_incident_reads(services)
        self.answers = HTTPAnswers(
            services,
            CacheableDocuments(schema._schema, max_tokens=services.settings.max_query_tokens),
        )

    async def run(self, request: Any, context: Any = UNSET, root_value: Any = UNSET) -> Any:
        if isinstance(request, Request) and request.method in ("GET", "POST"):
            return await self.answers.serve(
                request, lambda: super(_GraphQL, self).run(request, context, root_value)
            )
        return await super().run(request, context, root_value)

    async def process_result(self, request: Any, result: ExecutionResult) -> GraphQLHTTPResponse:
        if result.errors:  # never kept by the answer cache
            setattr(request.state, FAILED, True)
        return await super().process_result(request, result)

    async def get_context(self, request: Any, response: Any) -> Context:
        return Context(self.services, request, self.incident_reads)

    async def render_graphql_ide(self, request: Any) -> HTMLResponse:
        # Strawberry's own page loads React and GraphiQL from a CDN; ours is packaged.
        return site.render_graphiql()

    def decode_json(self, data: str | bytes) -> object:
        # Strict (UTF-8, bounded nesting and integers, no duplicate keys): a 400 that
        # names what is wrong, never a 500 (docs/decisions/0053-strict-json-input.md).
        try:
            return parsed_body(data)
        except JSONInputError as error:
            raise HTTPException(400, f"request body {error}") from None


class RequestTimer:
    """Observe each HTTP request's latency under its path (a fixed set of routes)."""

    def __init__(self, app: ASGIApp, *, histogram: Histogram) -> None:
        self.app = app
        # Each route's series found once, not by its label at every request.
        self._series = {route: histogram.labels(route) for route in (*ROUTES, "other")}
        self._other = self._series["other"]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        series = self._series.get(scope["path"], self._other)
        started = time.perf_counter()
        try:
            await self.app(scope, receive, send)
        finally:
            series.observe(time.perf_counter() - started)


class Health:
    """``GET /healthz`` answered here, before the layers it needs none of (client limits,
    CORS, compression, body limits, routing): the probe every load balancer sends, and
    the floor of every request (issue 23). It still carries its request id and is timed
    (the layers outside this one). A request from a page of another origin (``Origin``)
    takes the whole way, for its CORS headers."""

    BODY = b'{"status":"ok"}'
    HEADERS: ClassVar = (
        (b"content-type", b"application/json"),
        (b"content-length", str(len(BODY)).encode()),
    )

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["path"] == "/healthz"
            and scope["method"] == "GET"
            and all(name != b"origin" for name, _ in scope["headers"])
        ):
            headers = list(self.HEADERS)  # the layers outside add theirs (the request id)
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await send({"type": "http.response.body", "body": self.BODY})
            return
        await self.app(scope, receive, send)


class BodyLimit:
    """Refuse request bodies over a size, whether announced or streamed, and bodies not
    received within ``timeout`` seconds (a client trickling its body,
    docs/decisions/0054-slow-client-limits.md)."""

    def __init__(
        self, app: ASGIApp, *, max_bytes: int, timeout: float, exempt: tuple[str, ...] = ()
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.timeout = timeout
        self.exempt = exempt  # paths with a size limit of their own (the time limit holds)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = None if scope["path"] in self.exempt else self.max_bytes
        declared = dict(scope["headers"]).get(b"content-length")
        if (
            limit is not None
            and declared is not None
            and declared.isdigit()
            and int(declared) > limit
        ):
            await _too_large(limit)(scope, receive, send)
            return
        seen = 0
        deadline = asyncio.get_running_loop().time() + self.timeout
        body_done = False
        started = False

        async def limited() -> Message:
            nonlocal seen, body_done
            if body_done:  # what follows the body (a disconnect) may take its time
                return await receive()
            try:
                # A timeout scope, not wait_for: no task per message received.
                async with asyncio.timeout_at(deadline):
                    message = await receive()
            except TimeoutError:
                raise _BodyTimeout from None
            seen += len(message.get("body", b""))
            if limit is not None and seen > limit:
                raise _BodyTooLarge
            body_done = message["type"] != "http.request" or not message.get("more_body")
            return message

        async def sending(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited, sending)
        except _BodyTooLarge:
            if not started:
                await _too_large(self.max_bytes)(scope, receive, send)
        except _BodyTimeout:
            if not started:
                await JSONResponse(
                    {"error": f"request body not received within {self.timeout:g} s"}, 408
                )(scope, receive, send)


class _BodyTooLarge(Exception):
    pass


class _BodyTimeout(Exception):
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

    app = Starlette(
        routes=[
            Route("/graphql", GraphQLResponseMedia(graphql), methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
            Route("/records", BulkRecords(services), methods=["POST"]),
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
                # Nothing inside reads the request's header: the id is in correlation_id.
                update_request_header=False,
                generator=lambda: uuid.uuid4().hex,
                validator=_is_request_id,
            ),
            Middleware(RequestTimer, histogram=metrics.requests),
            Middleware(Health),
            Middleware(
                ClientConcurrency,
                limit=services.settings.client_concurrency,
                queue=services.settings.client_queue,
            ),
            Middleware(
                CORS,
                allow_origins=services.settings.cors_origins,
                allow_methods=["GET", "POST"],
                allow_headers=["Authorization", "Content-Type", REQUEST_ID_HEADER],
                expose_headers=[REQUEST_ID_HEADER],
                max_age=600,
            ),
            # Streams (NDJSON results, SSE) are compressed chunk by chunk as they go. Level
            # 6 (zlib's default), not Starlette's 9: nearly the same size for JSON, at a
            # fraction of the CPU a leaderboard page costs at 9.
            Middleware(GZipMiddleware, minimum_size=1024, compresslevel=6),
            Middleware(
                BodyLimit,
                max_bytes=services.settings.max_request_bytes,
                timeout=services.settings.http_body_timeout,
                exempt=("/records",),
            ),
        ],
    )
    app.state.services = services
    app.state.answers = graphql.answers
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
    cause = services.store_unavailable(READY_PING_SECONDS)
    if cause is not None:
        return JSONResponse(
            {"status": "unavailable", "cause": cause}, 503, headers={"Retry-After": "5"}
        )
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
    publisher = services.publisher
    if publisher.consecutive_failures:
        body["status"] = "degraded"
        body["log"] = {
            "consecutive_failures": publisher.consecutive_failures,
            "last_error": publisher.last_error,
        }
        body["cause"] = f"evidence log checkpoints cannot be published: {publisher.last_error}"
    return JSONResponse(body)
