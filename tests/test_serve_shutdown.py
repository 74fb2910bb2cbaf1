"""`graphsvc serve` as an operator runs it: SIGTERM ends it and its JVM within a bounded
time whatever the store does, and a database that cannot be restarted ends it non-zero
(docs/decisions/0051-supervised-jvm.md, docs/decisions/0052-bounded-shutdown.md)."""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from pathlib import Path

import httpx2
import pytest

from tests.network import Network
from tests.outage import SUBMIT, holder_pid, process_gone, serve_process

# Slow: SIGTERMs `graphsvc serve` and waits out its shutdown. scripts/test --fast leaves it out.
pytestmark = pytest.mark.slow

SHUTDOWN_SECONDS = 15


def _writer(url: str, net: Network, n: int) -> None:
    # The server may go away under the request: what this test provokes.
    with contextlib.suppress(httpx2.HTTPError):
        httpx2.post(
            f"{url}/graphql",
            json={"query": SUBMIT, "variables": {"r": [net.receipt(n)]}},
            timeout=60,
        )


def test_sigterm_ends_serve_and_its_stopped_jvm_in_bounded_time(tmp_path: Path) -> None:
    data = tmp_path / "data"
    env = {"GRAPHSVC_SHUTDOWN_TIMEOUT": str(SHUTDOWN_SECONDS)}
    with serve_process(data, tmp_path / "serve.log", **env) as (proc, url):
        jvm = holder_pid(data)
        assert jvm is not None
        os.kill(jvm, signal.SIGSTOP)
        net = Network()
        writers = [threading.Thread(target=_writer, args=(url, net, n)) for n in range(4)]
        for writer in writers:
            writer.start()
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        status = proc.wait(timeout=SHUTDOWN_SECONDS + 30)
        took = time.monotonic() - started
        for writer in writers:
            writer.join(timeout=60)
        assert took < SHUTDOWN_SECONDS + 5, took
        assert status == 0, status
        assert process_gone(jvm), "the JVM outlived graphsvc"


def test_a_database_that_cannot_be_restarted_ends_serve_non_zero(tmp_path: Path) -> None:
    data = tmp_path / "data"
    log = tmp_path / "serve.log"
    env = {"GRAPHSVC_STORE_RESTART_ATTEMPTS": "0", "GRAPHSVC_SHUTDOWN_TIMEOUT": "20"}
    with serve_process(data, log, **env) as (proc, _url):
        jvm = holder_pid(data)
        assert jvm is not None
        os.kill(jvm, signal.SIGKILL)
        status = proc.wait(timeout=60)
        assert status == 1, log.read_text()
        assert "the embedded database is down" in log.read_text()
