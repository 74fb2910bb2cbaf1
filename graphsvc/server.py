"""`graphsvc serve`: the HTTP server over the running service, with background
recompute."""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import threading
from collections.abc import Iterator
from types import FrameType

import uvicorn
from starlette.applications import Starlette

from graphsvc.api.app import create_app
from graphsvc.api.connections import guarded_http
from graphsvc.demo.load import load_demo
from graphsvc.services import running_services
from graphsvc.settings import Settings
from graphsvc.store.embedded import kill_all_now


def serve(settings: Settings, *, demo: bool = False) -> None:
    # graphsvc's own lines (recomputes with their figures, failures with their cause).
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    with running_services(settings) as services:
        if demo:
            load_demo(services)
        app = create_app(services)
        server = BoundedServer(server_config(app, settings), settings.shutdown_timeout)
        with services.background, services.publisher:
            url = f"http://{settings.host}:{settings.port}"
            print(f"graphsvc: dashboard at {url}/, GraphQL at {url}/graphql", flush=True)
            server.run()


# -- limits and shutdown (docs/design.md D52, D54) ---------------------------------------


def server_config(app: Starlette, settings: Settings) -> uvicorn.Config:
    """uvicorn with graphsvc's connection limits and a bounded graceful shutdown."""
    return uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_level="info",
        http=guarded_http(settings.http_header_timeout, settings.http_max_connections),
        timeout_keep_alive=settings.http_keep_alive,
        # Requests in flight get a third of the shutdown time; the store and JVM the rest.
        timeout_graceful_shutdown=max(1, int(settings.shutdown_timeout / 3)),
        # A WebSocket message (submitRecords over graphql-ws) has the HTTP body's limit.
        ws_max_size=settings.max_request_bytes,
    )


class BoundedServer(uvicorn.Server):
    """uvicorn's server, whose first SIGTERM (or SIGINT) also arms a watchdog: if the
    process has not ended ``shutdown_timeout`` s later, whatever the store is doing, the
    embedded JVM is killed and the process exits with status 1."""

    def __init__(self, config: uvicorn.Config, shutdown_timeout: float) -> None:
        super().__init__(config)
        self._shutdown_timeout = shutdown_timeout
        self._watchdog: threading.Timer | None = None

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        with super().capture_signals():
            yield
            # uvicorn would now raise the signal again, and its default action would end
            # the process before the store and its JVM are stopped: `serve` returns
            # instead, and the process exits 0 after its cleanup.
            self._captured_signals.clear()

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if self._watchdog is None:
            self._watchdog = threading.Timer(self._shutdown_timeout, _exit_now, [sig])
            self._watchdog.daemon = True
            self._watchdog.start()
        super().handle_exit(sig, frame)


def _exit_now(sig: int) -> None:
    print(
        f"graphsvc: shutdown after signal {sig} did not finish in time; "
        "killing the embedded database and exiting",
        file=sys.stderr,
        flush=True,
    )
    kill_all_now()
    os._exit(1)
