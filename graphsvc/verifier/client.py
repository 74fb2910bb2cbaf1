"""Ask a graphsvc server for its log's answers: the checkpoint over HTTP, proofs and
records over GraphQL. Standard library only; every answer is checked by ``checks``."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

from graphsvc.tlog.tiles import TILE_WIDTH, TileRef, unbundle

_TIMEOUT = 30.0

INCLUSION = """
query($id: String!, $size: Int) {
  inclusionProof(recordId: $id, treeSize: $size) { recordId leafIndex treeSize hashes }
}
"""

CONSISTENCY = """
query($from: Int!, $to: Int!) { consistencyProof(fromSize: $from, toSize: $to) { hashes } }
"""


class ServerError(RuntimeError):
    """The server could not be asked, or refused the question."""


class Refused(ServerError):
    """The server answered and refused the question (e.g. a record not in its log): for a
    verifier, a check that failed rather than one that could not be made."""


# Sends a request (a GET without a body, a JSON POST with one) and returns the body.
Transport = Callable[[str, bytes | None], bytes]


def http_transport(url: str) -> Transport:
    base = url.rstrip("/")

    def send(path: str, body: bytes | None) -> bytes:
        headers = {"Content-Type": "application/json"} if body is not None else {}
        request = urllib.request.Request(base + path, body, headers)
        try:
            with urllib.request.urlopen(request, timeout=_TIMEOUT) as response:
                data: bytes = response.read()
                return data
        except (urllib.error.URLError, OSError) as error:
            raise ServerError(f"{base + path}: {error}") from None

    return send


class LogClient:
    def __init__(self, transport: Transport) -> None:
        self._send = transport

    @classmethod
    def of_url(cls, url: str) -> LogClient:
        return cls(http_transport(url))

    def _get(self, path: str) -> bytes:
        return self._send(path, None)

    def checkpoint(self) -> str:
        return self._get("/log/checkpoint").decode("utf-8")

    def graphql(self, query: str, **variables: Any) -> dict[str, Any]:
        body = json.dumps({"query": query, "variables": variables}).encode()
        try:
            answer: dict[str, Any] = json.loads(self._send("/graphql", body))
        except ValueError as error:
            raise ServerError(f"/graphql answered something other than JSON: {error}") from None
        if answer.get("errors"):
            raise Refused("; ".join(e.get("message", "?") for e in answer["errors"]))
        data: dict[str, Any] = answer["data"]
        return data

    def inclusion(self, record_id: str, tree_size: int) -> dict[str, Any]:
        answer: dict[str, Any] = self.graphql(INCLUSION, id=record_id, size=tree_size)[
            "inclusionProof"
        ]
        return answer

    def consistency(self, from_size: int, to_size: int) -> list[str]:
        answer = self.graphql(CONSISTENCY, **{"from": from_size, "to": to_size})
        return list(answer["consistencyProof"]["hashes"])

    def entry(self, leaf_index: int, tree_size: int) -> bytes:
        """A leaf's data, from the entry bundle that holds it (as a tile client reads)."""
        index, offset = divmod(leaf_index, TILE_WIDTH)
        width = min(TILE_WIDTH, tree_size - index * TILE_WIDTH)
        entries = unbundle(self._get("/log/" + TileRef(None, index, width).path()))
        if len(entries) != width:
            raise ServerError(f"entry bundle {index} holds {len(entries)} entries, not {width}")
        return entries[offset]
