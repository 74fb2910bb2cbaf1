"""`graphsvc serve`: the HTTP server over the running service, with background
recompute."""

from __future__ import annotations

import uvicorn

from graphsvc.api.app import create_app
from graphsvc.demo.load import load_demo
from graphsvc.reputation.periodic import PeriodicRecompute
from graphsvc.services import running_services
from graphsvc.settings import Settings


def serve(settings: Settings, *, demo: bool = False) -> None:
    with running_services(settings) as services:
        if demo:
            load_demo(services)
        app = create_app(services)
        config = uvicorn.Config(app, host=settings.host, port=settings.port, log_level="info")
        server = uvicorn.Server(config)
        with PeriodicRecompute(services.reputation, settings.score_interval):
            print(
                f"graphsvc: GraphQL at http://{settings.host}:{settings.port}/graphql", flush=True
            )
            server.run()
