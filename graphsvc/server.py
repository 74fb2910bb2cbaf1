"""`graphsvc serve`: the HTTP server over the running service, with background
recompute."""

from __future__ import annotations

import logging

import uvicorn

from graphsvc.api.app import create_app
from graphsvc.demo.load import load_demo
from graphsvc.services import running_services
from graphsvc.settings import Settings


def serve(settings: Settings, *, demo: bool = False) -> None:
    # graphsvc's own lines (recomputes with their figures, failures with their cause).
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    with running_services(settings) as services:
        if demo:
            load_demo(services)
        app = create_app(services)
        config = uvicorn.Config(app, host=settings.host, port=settings.port, log_level="info")
        server = uvicorn.Server(config)
        with services.background, services.publisher:
            url = f"http://{settings.host}:{settings.port}"
            print(f"graphsvc: dashboard at {url}/, GraphQL at {url}/graphql", flush=True)
            server.run()
