"""`graphsvc serve`: the HTTP server over the running service, with background
recompute.

The socket is bound and its URL printed before anything slow: the demo network loads in
a thread while the server already answers (``/readyz`` says 503 "loading demo" until it
is in), and background recomputes start once it is.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import sys
import threading
from collections.abc import Iterator
from types import FrameType

import uvicorn
from starlette.applications import Starlette

from graphsvc.api.app import create_app
from graphsvc.api.connections import guarded_http
from graphsvc.demo.load import load_demo
from graphsvc.logs import configure_logging
from graphsvc.progress import Progress
from graphsvc.services import Services, running_services
from graphsvc.settings import Settings
from graphsvc.store.embedded import kill_all_now

log = logging.getLogger(__name__)


def serve(settings: Settings, *, demo: bool = False) -> None:
    configure_logging(settings.log_format)
    with running_services(settings, ingest_process=True) as services:
        app = create_app(services)
        listener = bind(settings.host, settings.port)
        server = _Server(server_config(app, settings), settings.shutdown_timeout)
        with services.publisher:
            try:
                if demo:
                    # Not ready from the first request on, until the loader is done.
                    services.loading = Progress("loading demo", 0, enabled=False)
                    threading.Thread(
                        target=_load_demo_then_recompute, args=(services,), name="demo", daemon=True
                    ).start()
                else:
                    services.background.start()
                host, port = listener.getsockname()[:2]
                url = f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"
                print(f"graphsvc: dashboard at {url}/, GraphQL at {url}/graphql", flush=True)
                server.run(sockets=[listener])
            finally:
                services.background.stop()


class _Server(uvicorn.Server):
    """uvicorn re-raises a stop signal once it has shut down, which would end the process
    before graphsvc closes its services (the kept evidence saved, the store closed). Here
    SIGINT and SIGTERM only stop the server, and ``serve`` returns.

    The first of them also arms a watchdog (docs/decisions/0052-bounded-shutdown.md): if the
    process has not ended ``shutdown_timeout`` s later, whatever the store is doing, the
    embedded JVM is killed and the process exits with status 1."""

    def __init__(self, config: uvicorn.Config, shutdown_timeout: float) -> None:
        super().__init__(config)
        self._shutdown_timeout = shutdown_timeout
        self._watchdog: threading.Timer | None = None

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if self._watchdog is None:
            self._watchdog = threading.Timer(self._shutdown_timeout, _exit_now, [sig])
            self._watchdog.daemon = True
            self._watchdog.start()
        super().handle_exit(sig, frame)

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield  # signals reach the main thread only
            return
        stops = (signal.SIGINT, signal.SIGTERM)
        previous = {stop: signal.signal(stop, self.handle_exit) for stop in stops}
        try:
            yield
        finally:
            for stop, handler in previous.items():
                signal.signal(stop, handler)


def bind(host: str, port: int) -> socket.socket:
    """A listening socket: connections made before the server runs wait in its backlog."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((host, port))
    listener.listen(2048)
    listener.set_inheritable(True)
    return listener


def _load_demo_then_recompute(services: Services) -> None:
    try:
        load_demo(services)
    except Exception:
        # The service still serves what is in the store; /readyz stops saying "loading".
        log.exception("loading the demo failed")
    else:
        log.info("demo loaded: ready")
    services.background.start()


# -- limits and shutdown -----------------------------------------------------------------
# docs/decisions/0052-bounded-shutdown.md, docs/decisions/0054-slow-client-limits.md


def server_config(app: Starlette, settings: Settings) -> uvicorn.Config:
    """uvicorn with graphsvc's connection limits and a bounded graceful shutdown."""
    return uvicorn.Config(
        app,
        log_config=None,
        log_level="info",
        http=guarded_http(
            settings.http_header_timeout,
            settings.http_max_connections,
            settings.http_max_header_bytes,
        ),
        timeout_keep_alive=settings.http_keep_alive,
        # Requests in flight get a third of the shutdown time; the store and JVM the rest.
        timeout_graceful_shutdown=max(1, int(settings.shutdown_timeout / 3)),
        # A WebSocket message (submitRecords over graphql-ws) has the HTTP body's limit.
        ws_max_size=settings.max_request_bytes,
    )


def _exit_now(sig: int) -> None:
    print(
        f"graphsvc: shutdown after signal {sig} did not finish in time; "
        "killing the embedded database and exiting",
        file=sys.stderr,
        flush=True,
    )
    kill_all_now()
    os._exit(1)
