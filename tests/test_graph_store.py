"""GraphStore over Bolt: large UNWIND batches stay under the server's message limit."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from graphsvc.store.endpoint import BoltEndpoint
from graphsvc.store.graph_store import MAX_RUN_BYTES, GraphStore, Statement, _parts

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
