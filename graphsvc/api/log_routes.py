"""The evidence log over HTTP, in the C2SP formats (docs/auditors.md): the latest
signed checkpoint (with witnesses' cosignatures), the log's verifier key, the
``tlog-tiles`` read paths, and where configured witnesses send their cosignatures."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from graphsvc.evidence_log.log import LogError
from graphsvc.services import Services
from graphsvc.tlog.tiles import TILE_WIDTH, TilePathError, parse_tile_path

# A full tile never changes; a partial one is replaced by a wider one as the log grows,
# but what it holds never changes either (its path names its width).
_IMMUTABLE = {"Cache-Control": "public, max-age=31536000, immutable"}


def log_routes(services: Services) -> list[Route]:
    evidence_log = services.log

    async def checkpoint(request: Request) -> Response:
        try:
            signed = await run_in_threadpool(evidence_log.latest)
        except LogError as error:  # nothing is signed over a tree the store contradicts
            return PlainTextResponse(
                f"no checkpoint can be published: {error}\n",
                status_code=503,
                headers={"Retry-After": "5"},
            )
        return PlainTextResponse(signed.note, headers={"Cache-Control": "no-cache"})

    async def key_rotations(request: Request) -> Response:
        return JSONResponse({"rotations": evidence_log.rotations()})

    async def key(request: Request) -> Response:
        return PlainTextResponse(evidence_log.verifier_key() + "\n")

    async def tile(request: Request) -> Response:
        path = "tile/" + request.path_params["path"]
        try:
            ref = parse_tile_path(path)
        except TilePathError as error:
            return PlainTextResponse(str(error) + "\n", status_code=400)
        try:
            data = await run_in_threadpool(evidence_log.tile, ref)
        except LogError as error:
            return PlainTextResponse(str(error) + "\n", status_code=500)
        if data is None:
            return PlainTextResponse(f"{path} is not in the log (yet)\n", status_code=404)
        headers = _IMMUTABLE if ref.width == TILE_WIDTH else {}
        return Response(data, media_type="application/octet-stream", headers=headers)

    async def cosignature(request: Request) -> Response:
        note = (await request.body()).decode("utf-8", errors="replace")
        try:
            names = await run_in_threadpool(evidence_log.add_cosignatures, note)
        except LogError as error:
            return PlainTextResponse(str(error) + "\n", status_code=400)
        return PlainTextResponse("".join(f"accepted {name}\n" for name in names))

    return [
        Route("/log/checkpoint", checkpoint),
        Route("/log/cosignature", cosignature, methods=["POST"]),
        Route("/log/key", key),
        Route("/log/key-rotations", key_rotations),
        Route("/log/tile/{path:path}", tile),
    ]
