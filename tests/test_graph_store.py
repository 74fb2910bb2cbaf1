"""GraphStore over Bolt: large UNWIND batches stay under the server's message limit."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest

from graphsvc.store.endpoint import BoltEndpoint
from graphsvc.store.graph_store import (
    MAX_RUN_BYTES,
    GraphStore,
    Statement,
    StoreUnavailable,
    WriteConflict,
    _parts,
)

CREATE = "UNWIND $rows AS row CREATE (:Blob {n: row.n, text: row.text}) RETURN row.n AS n"


@pytest.fixture
def store(embedded_endpoint: BoltEndpoint, clean_graph: None) -> Iterator[GraphStore]:
    with GraphStore(embedded_endpoint) as graph:
        yield graph


def test_rows_are_split_only_past_the_bound() -> None:
    small = Statement(CREATE, {"rows": [{"n": 1, "text": "x"}], "other": 2})
    assert _parts(small) == [small]
    assert _parts(Statement(CREATE, {"rows": []})) == []
    # 4 bytes a character is the bound, so this many characters fill about a third.
    rows = [{"n": n, "text": "x" * (MAX_RUN_BYTES // 12)} for n in range(7)]
    parts = _parts(Statement(CREATE, {"rows": rows, "other": 2}))
    assert [p.params["rows"] for p in parts] == [rows[0:2], rows[2:4], rows[4:6], rows[6:7]]
    assert all(p.params["other"] == 2 for p in parts)


def test_a_batch_over_16_mib_is_written_in_one_transaction(store: GraphStore) -> None:
    # 2,200 rows of 2,000 four-byte characters: 17.6 MB of parameters, more than one Bolt
    # message may carry to ArcadeDB (which then never answers).
    rows = [{"n": n, "text": "\U0001f600" * 2000} for n in range(2200)]
    [answer] = store.write([Statement(CREATE, {"rows": rows})])
    assert [row["n"] for row in answer] == list(range(2200))
    assert store.read("MATCH (b:Blob) RETURN count(b) AS c") == [{"c": 2200}]


class Recorder:
    """A StoreObserver that keeps what it is told."""

    def __init__(self) -> None:
        self.statements: list[tuple[str, int]] = []
        self.transactions: list[bool] = []

    def statement(self, query: str, rows: int, seconds: float) -> None:
        assert seconds >= 0
        self.statements.append((query, rows))

    def transaction(self, *, write: bool, seconds: float) -> None:
        assert seconds >= 0
        self.transactions.append(write)


def test_an_observer_sees_every_part_and_transaction_of_the_production_path(
    embedded_endpoint: BoltEndpoint, clean_graph: None
) -> None:
    recorder = Recorder()
    with GraphStore(embedded_endpoint, observer=recorder) as store:
        rows = [{"n": n, "text": "x" * (MAX_RUN_BYTES // 12)} for n in range(3)]
        [answer] = store.write([Statement(CREATE, {"rows": rows})])
        assert [row["n"] for row in answer] == [0, 1, 2]
        assert store.read("MATCH (b:Blob) RETURN count(b) AS c") == [{"c": 3}]
    # Three rows of a third of the bound each go in two parts, then the count's one run.
    assert recorder.statements == [
        (CREATE, 2),
        (CREATE, 1),
        ("MATCH (b:Blob) RETURN count(b) AS c", 1),
    ]
    assert recorder.transactions == [True, False]


def test_a_broken_uniqueness_constraint_is_a_write_conflict(store: GraphStore) -> None:
    store.apply_schema()
    create = "CREATE (:Witness {id: $id, name: 'w'})"
    store.write_one(create, id="ed25519:w")
    with pytest.raises(WriteConflict):
        store.write(
            [
                Statement("CREATE (:Witness {id: 'ed25519:x', name: 'x'})", {}),
                Statement(create, {"id": "ed25519:w"}),
            ]
        )
    # Nothing of the failed transaction was committed.
    assert store.read("MATCH (w:Witness) RETURN w.id AS id") == [{"id": "ed25519:w"}]


def test_a_store_nobody_answers_at_fails_fast_and_pings_false() -> None:
    with socket.socket() as probe:  # a port that was free a moment ago: nothing listens
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    endpoint = BoltEndpoint(uri=f"bolt://127.0.0.1:{port}", user="neo4j", password="x")
    with GraphStore(endpoint, connect_timeout=1.0, transaction_timeout=2.0) as store:
        assert store.ping() is False
        with pytest.raises(StoreUnavailable):
            store.read("RETURN 1 AS one")


def test_close_waits_for_a_call_in_flight_then_refuses_new_ones(
    embedded_endpoint: BoltEndpoint, clean_graph: None
) -> None:
    """Closing the driver under another thread's call would break its connection in the
    middle of a message; close drains the calls in flight first."""
    store = GraphStore(embedded_endpoint)
    answers: list[object] = []
    slow = "UNWIND range(1, $n) AS x WITH x WHERE x % 7 = 0 RETURN count(x) AS c"
    reader = threading.Thread(target=lambda: answers.append(store.read(slow, n=3_000_000)))
    reader.start()
    calls = store._in_flight
    with calls.changed:
        assert calls.changed.wait_for(lambda: calls.active > 0, timeout=30)
    store.close(drain_seconds=60)
    assert answers == [[{"c": 3_000_000 // 7}]]  # finished before the driver closed
    reader.join()
    with pytest.raises(StoreUnavailable, match="closed"):
        store.read("RETURN 1 AS one")


def test_a_patient_view_waits_up_to_the_transaction_timeout_and_shares_the_rest(
    embedded_endpoint: BoltEndpoint, clean_graph: None
) -> None:
    """A recompute reads through ``patient()``: the same driver, calls and hooks (even
    those set after the view was made), only a longer wait."""
    store = GraphStore(embedded_endpoint, call_timeout=1e-9, transaction_timeout=60.0)
    patient = store.patient()
    failures: list[int] = []
    store.hooks.on_failure = lambda: failures.append(1)
    store.hooks.diagnose = lambda: "the test's cause"
    # No store answers within a nanosecond: the caller stops waiting, with the cause.
    with pytest.raises(StoreUnavailable, match="the test's cause"):
        store.read("RETURN 1 AS one")
    assert failures == [1]
    assert patient.read("RETURN 1 AS one") == [{"one": 1}]
    assert patient.hooks is store.hooks
    store.close()
    with pytest.raises(StoreUnavailable, match="closed"):
        patient.read("RETURN 1 AS one")
