"""The answer cache on the HTTP path of ``/graphql`` (``api/answer_cache.py``).

A request is looked up before strawberry sees it, once its body is in: the body limits,
the client's concurrency and the token limit (parsing) have applied by then. What a
cached answer skips (validation, the cost estimate, execution) gave the same verdict for
the same key when the answer was made, since only answers without errors are kept: a
document refused for its cost or its shape is refused every time.
"""

from __future__ import annotations

import contextvars
from collections.abc import Awaitable, Callable

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from graphsvc.api.answer_cache import Answer, AnswerCache, AnswerKey, CacheableDocuments
from graphsvc.domain.failures import StoreUnavailable
from graphsvc.records.json_input import JSONInputError, parse_json
from graphsvc.services import Services

# Clients asking for a stream (incremental delivery, SSE) get strawberry's own answer.
STREAMING = ("text/event-stream", "multipart/mixed")
FAILED = "graphql_failed"  # request.state: the answer carries errors (never kept)
# Answers from this size on are sent compressed to clients that accept gzip (the GZip
# middleware's own threshold, app.py).
COMPRESS_FROM = 1024
# Larger bodies are not looked up (their JSON would be parsed twice on the event loop).
MAX_BODY_BYTES = 64 * 1024


class HTTPAnswers:
    """Serve ``/graphql`` requests from an ``AnswerCache`` when they may be."""

    def __init__(self, services: Services, documents: CacheableDocuments) -> None:
        self.cache = AnswerCache(services.settings.answer_cache_bytes)
        self.documents = documents
        self._reputation = services.reputation
        outcomes = services.metrics.answer_cache
        self._hit, self._miss, self._uncacheable = (
            outcomes.labels(outcome) for outcome in ("hit", "miss", "uncacheable")
        )

    async def serve(self, request: Request, execute: Callable[[], Awaitable[Response]]) -> Response:
        key = await self._key(request) if self.cache.max_bytes else None
        if key is None:
            self._uncacheable.inc()
            return await execute()
        found = self.cache.get(key)
        if found is not None:
            self._hit.inc()
            return self._answer(request, key, found)
        self._miss.inc()
        response = await execute()
        if (
            response.status_code == 200
            and not getattr(request.state, FAILED, False)
            and type(response) is Response
            and self._served() == key.snapshot  # no newer snapshot came in meanwhile
        ):
            return self._answer(request, key, self.cache.put(key, bytes(response.body)))
        return response

    def _answer(self, request: Request, key: AnswerKey, answer: Answer) -> Response:
        headers = {
            "ETag": answer.etag,
            "Cache-Control": "no-cache",
            "Vary": "Accept, Accept-Encoding",
        }
        if _matches(request.headers.get("if-none-match"), answer.etag):
            return Response(status_code=304, headers=headers)
        body = answer.body
        # Compressed once, not at every hit (the GZip middleware passes an encoded body).
        if len(body) >= COMPRESS_FROM and "gzip" in request.headers.get("accept-encoding", ""):
            body = self.cache.gzipped(key, answer)
            headers["Content-Encoding"] = "gzip"
        return Response(body, media_type="application/json", headers=headers)

    async def _key(self, request: Request) -> AnswerKey | None:
        accept = request.headers.get("accept", "")
        if any(kind in accept for kind in STREAMING):
            return None
        known, view = self._reputation.known_current_view()
        if known and view is None:
            # No snapshot: nothing is kept, and the body is left to strawberry alone (the
            # floor of a computed request, issue 23).
            return None
        found = await _request_data(request)
        if found is None:
            return None
        text, variables, operation = found
        document = self.documents.normalised(text)
        if document is None:
            return None
        if not known:
            try:
                view = await run_in_threadpool(self._reputation.view)
            except StoreUnavailable:
                return None  # the execution answers with the cause
        if view is None:
            return None
        return AnswerKey.of(view.info.id, document, variables, operation)

    def _served(self) -> str | None:
        view = self._reputation.served_view()
        return view.info.id if view is not None else None


RequestData = tuple[str, dict[str, object] | None, str | None]

# The request body this request's lookup parsed, and what it holds. A context variable:
# each request runs in its own task, so no request sees another's.
_parsed_body: contextvars.ContextVar[tuple[bytes, object]] = contextvars.ContextVar(
    "graphsvc_parsed_body"
)


def parsed_body(body: str | bytes) -> object:
    """What ``body`` holds, parsed strictly: the parse this request's lookup made of this
    very body if it made one, else a new one (``JSONInputError`` when not acceptable)."""
    found = _parsed_body.get(None)
    if found is not None and found[0] is body:
        return found[1]
    return parse_json(body)


async def _request_data(request: Request) -> RequestData | None:
    """The query text, variables and operation name of a single GraphQL request, or None
    for anything else (strawberry answers that, with its errors)."""
    try:
        if request.method == "GET":
            params = request.query_params
            raw = params.get("variables")
            data: object = {
                "query": params.get("query"),
                "variables": None if raw is None else parse_json(raw),
                "operationName": params.get("operationName"),
            }
        elif request.headers.get("content-type", "").startswith("application/json"):
            body = await request.body()
            if len(body) > MAX_BODY_BYTES:
                return None  # a batch of records, not a dashboard's question: parsed once
            data = parse_json(body)
            # Strawberry reads the same body next (a miss): it takes this parse.
            _parsed_body.set((body, data))
        else:
            return None
    except JSONInputError:
        return None
    if not isinstance(data, dict):
        return None
    text, variables, operation = (data.get(k) for k in ("query", "variables", "operationName"))
    if (
        not isinstance(text, str)
        or not (variables is None or isinstance(variables, dict))
        or not (operation is None or isinstance(operation, str))
    ):
        return None
    return text, variables, operation


def _matches(if_none_match: str | None, etag: str) -> bool:
    """RFC 9110 §13.1.2: a weak comparison against each listed tag, or ``*``."""
    if not if_none_match:
        return False
    wanted = etag.removeprefix("W/")
    return any(
        tag.strip() == "*" or tag.strip().removeprefix("W/") == wanted
        for tag in if_none_match.split(",")
    )
