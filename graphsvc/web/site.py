"""Serve the packaged front end: the dashboard's page, its static files, GraphiQL's page."""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

STATIC = Path(__file__).resolve().parent / "static"

# The host's mime table decides what StaticFiles answers; an ES module must come with a
# JavaScript type whatever the host says, so the types the pages rely on are fixed here.
CONTENT_TYPES = {
    ".js": "text/javascript",
    ".css": "text/css",
    ".html": "text/html",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".md": "text/markdown",
}


class PackagedFiles(StaticFiles):
    """``StaticFiles`` over ``static/`` with the content types above."""

    def file_response(
        self,
        full_path: str | os.PathLike[str],
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        content_type = CONTENT_TYPES.get(Path(full_path).suffix)
        if content_type is not None and isinstance(response, FileResponse):
            charset = "; charset=utf-8" if content_type.startswith("text/") else ""
            response.headers["content-type"] = content_type + charset
        return response


# The browser itself refuses anything but this server: no CDN, font or beacon can slip in.
# Inline styles are uPlot's and GraphiQL's, data: fonts GraphiQL's (inside its CSS);
# GraphiQL's page has one inline script.
POLICY = (
    "default-src 'self'; connect-src 'self'; img-src 'self' data:; font-src 'self' data:; "
    "style-src 'self' 'unsafe-inline'; script-src 'self'{inline}; "
    "object-src 'none'; base-uri 'self'; frame-ancestors 'self'"
)
DASHBOARD_POLICY = {"content-security-policy": POLICY.format(inline="")}
GRAPHIQL_POLICY = {"content-security-policy": POLICY.format(inline=" 'unsafe-inline'")}


@cache
def graphiql_page() -> str:
    """GraphiQL's page, loading React and GraphiQL from the packaged vendor folder."""
    return (STATIC / "graphiql.html").read_text(encoding="utf-8")


async def dashboard(request: Request) -> Response:
    return FileResponse(
        STATIC / "index.html", media_type="text/html; charset=utf-8", headers=DASHBOARD_POLICY
    )


def routes() -> list[BaseRoute]:
    """``/`` (the dashboard) and ``/static`` (its files, GraphiQL's, the vendored ones)."""
    return [
        Route("/", dashboard, methods=["GET", "HEAD"]),
        Mount("/static", PackagedFiles(directory=STATIC), name="static"),
    ]


def render_graphiql() -> HTMLResponse:
    return HTMLResponse(graphiql_page(), headers=GRAPHIQL_POLICY)
