"""Open the configured store: an external Bolt endpoint, or the embedded ArcadeDB."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

from graphsvc.settings import Settings
from graphsvc.store.embedded import EmbeddedArcadeDB
from graphsvc.store.endpoint import BoltEndpoint
from graphsvc.store.graph_store import GraphStore


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


@contextmanager
def open_store(settings: Settings) -> Iterator[GraphStore]:
    """Yield a store with its schema applied; stops the embedded server on exit."""
    with ExitStack() as stack:
        endpoint = configured_endpoint(settings)
        if endpoint is None:
            server = stack.enter_context(
                EmbeddedArcadeDB(settings.data, heap=settings.embedded_heap)
            )
            endpoint = server.endpoint
        store = stack.enter_context(
            GraphStore(
                endpoint,
                connect_timeout=settings.store_connect_timeout,
                transaction_timeout=settings.store_transaction_timeout,
            )
        )
        store.apply_schema()
        yield store
