"""Assemble the running service from settings: store, ingest, reputation, HTTP."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from graphsvc.api.context import Services
from graphsvc.domain import ProofType
from graphsvc.reputation import ReputationService
from graphsvc.settings import Settings
from graphsvc.store.connect import open_store
from graphsvc.store.ingest import Ingestor, now_ms
from graphsvc.store.resolution import EvidenceRules

DAY_MS = 86_400_000


def evidence_rules(settings: Settings) -> EvidenceRules:
    params = settings.scoring
    return EvidenceRules(
        half_life_ms=params.half_life_ms,
        proof_weights={proof: params.proof_weight(proof.value) for proof in ProofType},
    )


@contextmanager
def running_services(settings: Settings) -> Iterator[Services]:
    with open_store(settings) as store:
        ingestor = Ingestor(store, evidence_rules(settings))
        ingestor.ensure_rules()
        reputation = ReputationService(store, settings.scoring, seeds=settings.seeds, clock=now_ms)
        yield Services(settings=settings, store=store, ingestor=ingestor, reputation=reputation)


class PeriodicRecompute:
    """Recompute in a background thread while serving; reads never wait for it."""

    def __init__(self, services: Services, interval: float) -> None:
        self._services = services
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="recompute", daemon=True)

    def __enter__(self) -> PeriodicRecompute:
        if self._interval > 0:
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def _run(self) -> None:
        reputation = self._services.reputation
        while not self._stop.wait(self._interval):
            try:
                if reputation.needs_recompute(max_age_ms=DAY_MS):
                    reputation.recompute()
            except Exception as error:
                print(f"graphsvc: background recompute failed: {error!r}", file=sys.stderr)


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
        with PeriodicRecompute(services, settings.score_interval):
            print(
                f"graphsvc: GraphQL at http://{settings.host}:{settings.port}/graphql", flush=True
            )
            server.run()
