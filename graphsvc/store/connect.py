"""Open the configured store: an external Bolt endpoint, or the embedded ArcadeDB under
its supervisor."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

from graphsvc.settings import Settings
from graphsvc.store.embedded import EmbeddedArcadeDB
from graphsvc.store.endpoint import BoltEndpoint
from graphsvc.store.graph_store import GraphStore
from graphsvc.store.supervisor import Supervisor


def configured_endpoint(settings: Settings) -> BoltEndpoint | None:
    """The external endpoint the settings name, or None for the embedded store."""
    if not settings.neo4j_uri:
        return None
    password = settings.neo4j_password.get_secret_value() if settings.neo4j_password else ""
    return BoltEndpoint(
        uri=settings.neo4j_uri,
        user=settings.neo4j_user,
        password=password,
        database=settings.neo4j_database,
    )


def _stop_this_process(cause: str) -> None:
    # The same path as an operator's SIGTERM: requests end, then `open_store` exits 1.
    os.kill(os.getpid(), signal.SIGTERM)


@contextmanager
def open_store(settings: Settings) -> Iterator[GraphStore]:
    """Yield a store with its schema applied; stops the embedded server on exit.

    The embedded server is supervised: restarted with backoff when it dies. If it cannot
    be, this process is sent SIGTERM and leaving the block raises ``SystemExit`` with
    the cause (exit status 1)."""
    with ExitStack() as stack:
        endpoint = configured_endpoint(settings)
        supervisor: Supervisor | None = None
        if endpoint is None:
            server = EmbeddedArcadeDB(settings.data, heap=settings.embedded_heap)
            endpoint = server.start()
            supervisor = Supervisor(
                server,
                max_restarts=settings.store_restart_attempts,
                first_backoff=settings.store_restart_backoff,
                on_give_up=_stop_this_process,
            )
            stack.enter_context(supervisor)
        store = stack.enter_context(
            GraphStore(
                endpoint,
                connect_timeout=settings.store_connect_timeout,
                call_timeout=settings.store_call_timeout,
                transaction_timeout=settings.store_transaction_timeout,
            )
        )
        if supervisor is not None:
            store.hooks.diagnose = supervisor.describe
            store.hooks.disk_full = supervisor.disk_full
        store.apply_schema()  # bounded by the transaction timeout, statement by statement
        yield store
        if supervisor is not None and supervisor.gave_up:
            raise SystemExit(f"graphsvc: the embedded database is down: {supervisor.gave_up}")
