"""`graphsvc serve`: the HTTP server over the running service, with background
recompute.

The socket is bound and its URL printed before anything slow: the demo network loads in
a thread while the server already answers (``/readyz`` says 503 "loading demo" until it
is in), and background recomputes start once it is.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import socket
import threading
from collections.abc import Iterator

import uvicorn

from graphsvc.api.app import create_app
from graphsvc.demo.load import load_demo
from graphsvc.logs import configure_logging
from graphsvc.progress import Progress
from graphsvc.services import Services, running_services
from graphsvc.settings import Settings

log = logging.getLogger(__name__)


def serve(settings: Settings, *, demo: bool = False) -> None:
    configure_logging(settings.log_format)
    with running_services(settings) as services:
        app = create_app(services)
        listener = bind(settings.host, settings.port)
        config = uvicorn.Config(app, log_config=None, log_level="info")
        server = _Server(config)
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
    SIGINT and SIGTERM only stop the server, and ``serve`` returns."""

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
