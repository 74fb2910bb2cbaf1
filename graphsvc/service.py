"""Assemble the running service from settings: store, ingest, scoring, HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from graphsvc.api.context import Services
from graphsvc.domain import ProofType
from graphsvc.settings import Settings
from graphsvc.store.connect import open_store
from graphsvc.store.ingest import Ingestor
from graphsvc.store.resolution import EvidenceRules

DAY_MS = 86_400_000


def evidence_rules(settings: Settings) -> EvidenceRules:
    return EvidenceRules(
        half_life_ms=30 * DAY_MS,
        proof_weights={ProofType.TEE: 1.0, ProofType.ZK: 1.0, ProofType.NONE: 0.5},
    )


@contextmanager
def running_services(settings: Settings) -> Iterator[Services]:
    with open_store(settings) as store:
        ingestor = Ingestor(store, evidence_rules(settings))
        ingestor.ensure_rules()
        yield Services(settings=settings, store=store, ingestor=ingestor)


def serve(settings: Settings, *, demo: bool = False) -> None:
    import uvicorn

    from graphsvc.api.app import create_app

    with running_services(settings) as services:
        if demo:
            from graphsvc.demo import load_demo

            load_demo(services)
        app = create_app(services)
        config = uvicorn.Config(app, host=settings.host, port=settings.port, log_level="info")
        server = uvicorn.Server(config)
        print(f"graphsvc: GraphQL at http://{settings.host}:{settings.port}/graphql", flush=True)
        server.run()
