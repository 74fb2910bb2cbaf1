"""The floor of a leaderboard page (issue 23): a bare Starlette endpoint answering the
page ``bench/api.py``'s LEADERBOARD asks for (NODE, first 100: rank, score, entity id
and name, the end cursor) as JSON, from the same snapshot table through the same
services, with no GraphQL, no middleware and no cache. Run by the bench as its own
uvicorn process over the bench's store::

    python bench/harness/floor_app.py --port P   (GRAPHSVC_* name the store)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import uvicorn
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from graphsvc.api.reputation_reads import end_cursor
from graphsvc.domain import EntityKind
from graphsvc.services import Services, running_services
from graphsvc.settings import Settings

PAGE = 100


def floor_app(services: Services) -> Starlette:
    reputation, attribution = services.reputation, services.attribution

    async def leaderboard(request: Request) -> Response:
        known, view = reputation.known_current_view()
        if not known:
            view = await run_in_threadpool(reputation.view)
        if view is None:
            return JSONResponse({"data": None}, 503)
        page = view.leaderboard(EntityKind.NODE, size=PAGE)
        ids = [row.entity for row in page.rows]
        if any(attribution.cached_entity(i) is None for i in ids):
            await run_in_threadpool(attribution.entities, ids)
        items = []
        for row in page.rows:
            entity = attribution.cached_entity(row.entity)
            name = entity.name if entity is not None else None
            items.append(
                {"rank": row.rank, "score": row.score, "entity": {"id": row.entity, "name": name}}
            )
        end = end_cursor(page)
        body = {"leaderboard": {"items": items, "pageInfo": {"endCursor": end}}}
        return JSONResponse({"data": body})

    async def readyz(request: Request) -> Response:
        ready = await run_in_threadpool(reputation.view) is not None
        return JSONResponse({"ready": ready}, 200 if ready else 503)

    return Starlette(routes=[Route("/leaderboard", leaderboard), Route("/readyz", readyz)])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    settings = Settings()
    with running_services(settings) as services:
        uvicorn.run(floor_app(services), host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
