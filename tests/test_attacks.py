"""The attacks of issue 24, against a served process (`graphsvc serve` over its own
embedded store): documents whose validation used to take seconds on the event loop,
the transport's faults (a subscription POSTed, WebSocket messages that are not JSON
objects, headers without end, more subscriptions than the server allows), and a record
stamped ahead of the clock. Each is refused or answered at once, by name, with the
process's health answering all along."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlparse

import httpx2
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from graphsvc.api.shared_reads import SharedIncidentReads
from graphsvc.records.validation import MAX_FUTURE_MS
from graphsvc.scoring.evidence import AHEAD_TOLERANCE_MS
from tests.conftest import Clocked
from tests.network import Network
from tests.outage import eventually, serve_process
from tests.test_fuzz_documents import doubling_chain

# Far above what any of these takes now (milliseconds), far below what they took
# before issue 24 (seconds to never): a liveness bound, not a performance figure.
PROMPT = 2.0


def _health_while(url: str, stop: threading.Event, waits: list[float]) -> None:
    while not stop.is_set():
        started = time.monotonic()
        assert httpx2.get(f"{url}/healthz", timeout=30).status_code == 200
        waits.append(time.monotonic() - started)


@pytest.mark.slow  # starts `graphsvc serve` with its own store
def test_exploding_documents_leave_the_server_answering(tmp_path: Path) -> None:
    documents: dict[str, tuple[str, str]] = {
        "doubling chain, 40 levels": (doubling_chain(40, alias=False), "query cost"),
        "doubling chain with an alias": (doubling_chain(40, alias=True), "aliases found"),
        "500 copies of one field": ("{" + "seeds { ids } " * 495 + "}", "Validation aborted"),
    }
    with serve_process(tmp_path / "data", tmp_path / "serve.log") as (_proc, url):
        stop = threading.Event()
        waits: list[float] = []
        health = threading.Thread(target=_health_while, args=(url, stop, waits))
        health.start()
        try:
            for name, (document, refusal) in documents.items():
                started = time.monotonic()
                body = httpx2.post(f"{url}/graphql", json={"query": document}, timeout=60).json()
                took = time.monotonic() - started
                assert took < PROMPT, (name, took)
                assert refusal in body["errors"][0]["message"], (name, body)
        finally:
            stop.set()
            health.join()
        assert waits and max(waits) < PROMPT, max(waits)


SUBSCRIBE = {"query": "subscription { incidents { id } }"}


def _socket(url: str) -> socket.socket:
    parts = urlparse(url)
    return socket.create_connection((parts.hostname, parts.port), timeout=20)


@contextmanager
def _ws(url: str) -> Iterator[ClientConnection]:
    """A graphql-transport-ws connection, acknowledged."""
    address = url.replace("http://", "ws://") + "/graphql"
    with connect(address, subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
        ws.send(json.dumps({"type": "connection_init"}))
        assert json.loads(ws.recv(timeout=10))["type"] == "connection_ack"
        yield ws


def _closed_with(ws: ClientConnection) -> tuple[int, str]:
    try:
        ws.recv(timeout=10)
    except ConnectionClosed as closed:
        assert closed.rcvd is not None
        return closed.rcvd.code, closed.rcvd.reason
    raise AssertionError("the connection stayed open")


@pytest.mark.slow  # starts `graphsvc serve` with its own store
def test_transport_faults_are_refused_by_name(tmp_path: Path) -> None:
    log = tmp_path / "serve.log"
    env = {"GRAPHSVC_MAX_SUBSCRIPTIONS": "3", "GRAPHSVC_HTTP_MAX_HEADER_BYTES": "16384"}
    with serve_process(tmp_path / "data", log, **env) as (_proc, url):
        # A subscription sent as a plain request: 400, not an internal error.
        posted = httpx2.post(f"{url}/graphql", json=SUBSCRIBE, timeout=10)
        assert posted.status_code == 400, posted.text
        assert "subscriptions are not allowed" in posted.text

        # WebSocket messages that are not JSON objects: closed with 4400.
        for message, reason in [
            ("{not json", "must be valid JSON"),
            ("[1, 2]", "must be a JSON object"),
            ('{"type": "subscribe", "type": "ping"}', "must be valid JSON"),
        ]:
            with _ws(url) as ws:
                ws.send(message)
                code, said = _closed_with(ws)
            assert code == 4400 and reason in said, (message, code, said)

        # Headers without end: 431 once over the cap, and the connection closed.
        with _socket(url) as sock:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
            try:
                for _ in range(100):  # up to 6.4 MB, far past the cap
                    sock.sendall(b"X-Pad: " + b"a" * 64_000 + b"\r\n")
            except OSError:
                pass  # closed by the server while sending
            answer = sock.recv(4096)
        assert answer.startswith(b"HTTP/1.1 431"), answer[:80]
        assert httpx2.get(f"{url}/healthz", timeout=5).status_code == 200

        # More subscriptions than the server allows: the connection asking is closed.
        with _ws(url) as first, _ws(url) as second:
            for ws, ids in ((first, ["a", "b"]), (second, ["c"])):
                for sub in ids:
                    ws.send(json.dumps({"id": sub, "type": "subscribe", "payload": SUBSCRIBE}))
            with _ws(url) as third:
                third.send(json.dumps({"id": "d", "type": "subscribe", "payload": SUBSCRIBE}))
                code, said = _closed_with(third)
            assert code == 4503 and "maximum of 3" in said, (code, said)

        # Once they are gone, a subscription is taken again.
        def taken() -> bool | None:
            with _ws(url) as ws:
                ws.send(json.dumps({"id": "e", "type": "subscribe", "payload": SUBSCRIBE}))
                try:
                    ws.recv(timeout=1)
                except TimeoutError:
                    return True  # open, waiting for incidents
                except ConnectionClosed:
                    return None
            return True

        eventually(taken, 20, "a subscription taken once the others closed")
    text = log.read_text()
    assert "Traceback" not in text
    assert text.count("GraphQL WebSocket closed (4400)") == 3


def test_shared_subscription_reads_reach_the_store_once(clocked: Clocked) -> None:
    services = clocked.services
    net = Network()
    services.ingestor.submit([*net.basics(), net.receipt(0)])
    calls: list[tuple[int, str]] = []

    def read(position: tuple[int, str], limit: int) -> list[object]:
        calls.append(position)
        return services.attribution.incidents_after(position, limit)  # type: ignore[return-value]

    async def main() -> None:
        shared = SharedIncidentReads(read, max_age=60)  # type: ignore[arg-type]
        answers = await asyncio.gather(*[shared.after((0, ""), 500) for _ in range(200)])
        assert all(a == answers[0] for a in answers)
        assert calls == [(0, "")] and shared.store_reads == 1
        await shared.after((1, ""), 500)  # another position: its own read
        assert shared.store_reads == 2

    asyncio.run(main())


def test_a_record_stamped_ahead_never_moves_the_snapshot_time_ahead(clocked: Clocked) -> None:
    assert AHEAD_TOLERANCE_MS == MAX_FUTURE_MS
    services, now = clocked.services, clocked.now[0]
    net = Network()
    ahead = net.receipt(0, ts=now + 295_000)
    results = services.ingestor.submit([*net.basics(), ahead])
    assert {str(r.status) for r in results} == {"accepted"}
    snapshot = services.scorer.recompute()
    assert snapshot.as_of_ms == now
    assert services.scorer.recompute(now).as_of_ms == now  # the administrator's now
    reproduced = services.scorer.reproduce(now)
    assert reproduced.identical and reproduced.store_evidence_unchanged
