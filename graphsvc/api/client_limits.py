"""Requests of one client run a few at a time (docs/decisions/0068-query-cost.md): one client
sending many costly requests at once must not take every store connection from the
others. A client is its address; requests beyond ``limit`` wait their turn, and beyond
``queue`` waiting ones they are refused with 429 and ``Retry-After``."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send


@dataclass
class _Client:
    running: asyncio.Semaphore
    waiting: int = 0
    present: int = 0  # requests running or waiting: the entry goes with the last


@dataclass
class ClientConcurrency:
    app: ASGIApp
    limit: int
    queue: int
    paths: tuple[str, ...] = ("/graphql", "/records")
    _clients: dict[str, _Client] = field(default_factory=dict)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] not in self.paths:
            await self.app(scope, receive, send)
            return
        address = scope["client"][0] if scope.get("client") else "unknown"
        client = self._clients.get(address)
        if client is None:
            client = self._clients[address] = _Client(asyncio.Semaphore(self.limit))
        if client.running.locked() and client.waiting >= self.queue:
            refusal = JSONResponse(
                {
                    "error": f"more than {self.limit + self.queue} requests of this client "
                    f"at once ({self.limit} run, {self.queue} wait): retry later"
                },
                status_code=429,
                headers={"Retry-After": "1"},
            )
            await refusal(scope, receive, send)
            return
        client.present += 1
        try:
            client.waiting += 1
            try:
                await client.running.acquire()
            finally:
                client.waiting -= 1
            try:
                await self.app(scope, receive, send)
            finally:
                client.running.release()
        finally:
            client.present -= 1
            if client.present == 0:
                del self._clients[address]
