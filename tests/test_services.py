"""The running service is assembled in one place (graphsvc/services.py): over a store
the caller owns, with one clock for every part."""

from __future__ import annotations

import pytest

from graphsvc.domain.outcomes import RecordStatus
from graphsvc.services import running_services
from graphsvc.settings import Settings
from graphsvc.store.endpoint import BoltEndpoint
from graphsvc.store.graph_store import GraphStore
from graphsvc.store.meta import get_meta, set_meta
from graphsvc.store.store_format import STORE_FORMAT, STORE_FORMAT_META, StoreFormatMismatch
from tests.network import T0, Network

NOW = T0 + 86_400_000


def test_services_share_the_callers_store_and_clock(clean_graph: BoltEndpoint) -> None:
    net = Network()
    too_late = net.receipt(1, ts=NOW + 10 * 60_000)  # ten minutes after the clock
    with GraphStore(clean_graph) as store:
        with running_services(Settings(), store=store, clock=lambda: NOW) as services:
            results = services.ingestor.submit([*net.basics(), net.receipt(0), too_late])
            assert [r.status for r in results][-2:] == [
                RecordStatus.ACCEPTED,
                RecordStatus.REJECTED,
            ]
            assert "future" in (results[-1].reason or "")
            snapshot = services.scorer.recompute()
            assert snapshot.as_of_ms == NOW and snapshot.created_ms == NOW
            counter = services.attribution.ingest_counter()
            assert counter.records == len(results) - 1 and counter.batches == 1
            assert services.attribution.entities([net.node.id])[net.node.id].name == "node-1"
        # The caller's store outlives the services built over it.
        assert store.ping()
        assert store.read("MATCH (r:Receipt) RETURN count(r) AS c") == [{"c": 1}]


def test_a_store_of_another_format_is_refused_in_one_line(clean_graph: BoltEndpoint) -> None:
    net = Network()
    with GraphStore(clean_graph) as store:
        with running_services(Settings(), store=store, clock=lambda: NOW) as services:
            services.ingestor.submit(net.basics())
        # An empty store was stamped; reopening it needs nothing more.
        assert get_meta(store, STORE_FORMAT_META) == str(STORE_FORMAT)
        with running_services(Settings(), store=store, clock=lambda: NOW):
            pass
        for stored, named in (("0", "format 0"), (None, "an unversioned format")):
            if stored is None:
                store.write_one("MATCH (m:Meta {id: $id}) DELETE m", id=STORE_FORMAT_META)
            else:
                set_meta(store, STORE_FORMAT_META, stored)
            before = store.read("MATCH (n) RETURN count(n) AS c")
            with (
                pytest.raises(StoreFormatMismatch) as refused,
                running_services(Settings(), store=store, clock=lambda: NOW),
            ):
                pass
            message = str(refused.value)
            assert "\n" not in message
            assert named in message and f"format {STORE_FORMAT} only" in message
            # Refused before anything is written.
            assert store.read("MATCH (n) RETURN count(n) AS c") == before
