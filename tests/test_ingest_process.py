"""``serve``'s ingest process (docs/decisions/0090-ingest-in-its-own-process.md): the same
ingest as in process, answered after the child's commit, counted in the serving process's
/metrics, and a child that dies is replaced without anything acknowledged being lost."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import signal
import threading
from collections.abc import Callable, Iterator

import pytest

from graphsvc.demo.enclave_pki import EnclavePki, nitriding_user_data
from graphsvc.domain.failures import StoreUnavailable
from graphsvc.ingest.ingest_process import IngestConfig, IngestProcess
from graphsvc.ingest.resolution import EvidenceRules
from graphsvc.metrics import Metrics
from graphsvc.proofs import TrustedRoot, TrustedRoots
from graphsvc.records import builder, record_id
from graphsvc.records.builder import Actor
from graphsvc.settings import Settings
from graphsvc.store import trail
from graphsvc.store.graph_store import GraphStore
from tests.independent_gateway import key_der, new_key
from tests.network import T0, TEST_SEEDS, Network


@pytest.fixture
def metrics() -> Metrics:
    return Metrics()


@pytest.fixture
def ingest(store: GraphStore, metrics: Metrics) -> Iterator[IngestProcess]:
    config = IngestConfig(
        endpoint=store.endpoint,
        rules=EvidenceRules.of(Settings().scoring),
        roots=TrustedRoots.default(),
        log_format="text",
        connect_timeout=5.0,
        call_timeout=10.0,
        transaction_timeout=60.0,
    )
    process = IngestProcess(config, metrics=metrics, answer_seconds=60.0)
    yield process
    process.close()


def _sample(metrics: Metrics, name: str, **labels: str) -> float:
    return metrics.registry.get_sample_value(name, labels) or 0.0


def _until(condition: Callable[[], bool], seconds: float = 20.0) -> bool:
    """Whether ``condition`` came true within ``seconds`` (checked every 50 ms)."""
    waiting = threading.Event()
    for _ in range(int(seconds / 0.05)):
        if condition():
            return True
        waiting.wait(0.05)
    return condition()


def test_a_batch_is_stored_by_the_child_and_counted_here(
    ingest: IngestProcess, store: GraphStore, metrics: Metrics
) -> None:
    net = Network()
    receipt = net.receipt()
    basics = net.basics()
    results = ingest.submit([*basics, receipt, receipt])

    assert [str(r.status) for r in results] == ["accepted"] * (len(basics) + 1) + ["duplicate"]
    assert [r.index for r in results] == list(range(len(basics) + 2))
    assert ingest.child_pid() not in (None, os.getpid())
    # Answered after the commit: the serving process's own connection reads it back.
    rid = record_id(receipt)
    assert trail.receipt_trails(store, [rid], frozenset(TEST_SEEDS))[rid].node == net.node.id
    # Counted in this process's registry, store calls included.
    assert _sample(metrics, "graphsvc_records_total", status="accepted") == len(basics) + 1
    assert _sample(metrics, "graphsvc_records_total", status="duplicate") == 1
    assert _sample(metrics, "graphsvc_ingest_batch_records_count") == 1
    assert _sample(metrics, "graphsvc_store_transaction_seconds_count", kind="write") >= 1


def test_submit_many_answers_each_batch_in_order(ingest: IngestProcess) -> None:
    net = Network()
    receipt = net.receipt()
    rid = record_id(receipt)
    # Each batch refers to the one before: stored in order, each after the previous commit.
    batches = [net.basics(), [receipt], [net.attest(rid)], [net.dispute(rid)], [receipt]]
    answers = list(ingest.submit_many(batches))

    assert [[str(r.status) for r in a] for a in answers] == [
        ["accepted"] * len(batches[0]),
        ["accepted"],
        ["accepted"],
        ["accepted"],
        ["duplicate"],
    ]


def test_bad_records_are_rejected_with_their_reason(ingest: IngestProcess) -> None:
    net = Network()
    forged = {**net.receipt(), "output_hash": "0" * 64}
    results = ingest.submit([*net.basics(), forged, "not a record"])

    assert [str(r.status) for r in results[-2:]] == ["rejected", "rejected"]
    assert "signature" in (results[-2].reason or "")


def test_a_dead_child_is_replaced_and_counted(ingest: IngestProcess, metrics: Metrics) -> None:
    net = Network()
    assert {str(r.status) for r in ingest.submit(net.basics())} == {"accepted"}
    first = ingest.child_pid()
    assert first is not None

    os.kill(first, signal.SIGKILL)
    assert _until(lambda: _sample(metrics, "graphsvc_ingest_process_exits_total") == 1)
    assert ingest.child_pid() is None

    receipt = net.receipt()
    assert [str(r.status) for r in ingest.submit([receipt])] == ["accepted"]
    assert ingest.child_pid() not in (None, first)


def test_a_closed_process_refuses_batches(ingest: IngestProcess, metrics: Metrics) -> None:
    ingest.start()
    ingest.close()

    with pytest.raises(StoreUnavailable, match="closing"):
        ingest.submit(Network().basics())
    # Stopping it on purpose is not a death.
    assert _sample(metrics, "graphsvc_ingest_process_exits_total") == 0


def test_trusted_roots_reach_the_child_and_the_next_one(ingest: IngestProcess) -> None:
    start = dt.datetime.fromtimestamp(T0 / 1000, tz=dt.UTC)
    pki = EnclavePki(start=start)

    def enclave_of(node: Actor) -> dict[str, object]:
        der = key_der(new_key())
        document = pki.document(
            at=start + dt.timedelta(hours=1), user_data=nitriding_user_data(der)
        )
        return builder.enclave(node, document, der, T0 + 2 * 3_600_000)

    net = Network()
    ingest.submit(net.basics())
    refused = ingest.submit([enclave_of(net.node)])[0]
    assert str(refused.status) == "rejected"
    assert "root" in (refused.reason or "")

    ingest.trust(TrustedRoots((TrustedRoot.of("test-root", pki.root),)))
    assert [str(r.status) for r in ingest.submit([enclave_of(net.node)])] == ["accepted"]

    pid = ingest.child_pid()
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    assert _until(lambda: ingest.child_pid() is None)
    assert [str(r.status) for r in ingest.submit([enclave_of(net.node2)])] == ["accepted"]


def test_submit_async_holds_no_thread_and_a_cancelled_wait_breaks_nothing(
    ingest: IngestProcess,
) -> None:
    net = Network()

    async def scenario() -> tuple[list[str], list[str]]:
        basics = await ingest.submit_async(net.basics())
        # A request given up while its batch is in the child (a client that hung up):
        # the batch may be stored, unacknowledged; the next batches are answered.
        abandoned = asyncio.ensure_future(ingest.submit_async([net.receipt(1)]))
        await asyncio.sleep(0)  # let it send its batch; cancelling is the point here
        abandoned.cancel()
        later = await ingest.submit_async([net.receipt(2), net.receipt(1)])
        return [str(r.status) for r in basics], [str(r.status) for r in later]

    basics, later = asyncio.run(scenario())
    assert set(basics) == {"accepted"}
    assert later[0] == "accepted"
    assert later[1] in ("accepted", "duplicate")  # stored unacknowledged, or not at all
    assert ingest.child_pid() is not None
