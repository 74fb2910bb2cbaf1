"""Slow and idle clients cannot hold the server
(docs/decisions/0054-slow-client-limits.md): a body or headers trickled in get cut off at
their deadline, idle connections are closed, connections past the cap are refused at once,
a WebSocket message obeys the body limit, and others are answered."""

from __future__ import annotations

import json
import os
import socket
import time
from pathlib import Path
from urllib.parse import urlparse

import httpx2
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from tests.outage import eventually, serve_process

# Slow: waits out the HTTP deadlines of slow clients. scripts/test --fast leaves it out.
pytestmark = pytest.mark.slow

HEADER_SECONDS = 2.0
BODY_SECONDS = 3.0
MAX_CONNECTIONS = 50
IDLE = 120


def _socket(url: str) -> socket.socket:
    parts = urlparse(url)
    return socket.create_connection((parts.hostname, parts.port), timeout=10)


def _closed(sock: socket.socket) -> bool:
    try:
        return sock.recv(1024) == b""
    except ConnectionResetError:
        return True


def _trickle(sock: socket.socket, piece: bytes, limit: float) -> tuple[bytes, float]:
    """Send ``piece`` every 0.5 s until the server answers or closes; what it said."""
    started = time.monotonic()
    sock.settimeout(0.5)
    while time.monotonic() - started < limit:
        try:
            sock.sendall(piece)
            answer = sock.recv(4096)
            return answer, time.monotonic() - started
        except TimeoutError:
            continue
        except (BrokenPipeError, ConnectionResetError):
            return b"", time.monotonic() - started
    raise AssertionError(f"the server held a trickling client for {limit} s")


def _open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def test_slow_and_idle_clients_are_cut_off(tmp_path: Path) -> None:
    env = {
        "GRAPHSVC_HTTP_HEADER_TIMEOUT": str(HEADER_SECONDS),
        "GRAPHSVC_HTTP_BODY_TIMEOUT": str(BODY_SECONDS),
        "GRAPHSVC_HTTP_MAX_CONNECTIONS": str(MAX_CONNECTIONS),
        "GRAPHSVC_MAX_REQUEST_BYTES": "100000",
    }
    with serve_process(tmp_path / "data", tmp_path / "serve.log", **env) as (proc, url):
        # A body trickled at a byte every 0.5 s: 408 at the body deadline.
        with _socket(url) as sock:
            sock.sendall(
                b"POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                b"Content-Length: 1000\r\n\r\n"
            )
            answer, took = _trickle(sock, b" ", 20)
        assert answer.startswith(b"HTTP/1.1 408"), answer
        assert took < BODY_SECONDS + 3, took

        # Headers trickled in: the connection is closed at the header deadline.
        with _socket(url) as sock:
            sock.sendall(b"GET /healthz HTTP/1.1\r\n")
            answer, took = _trickle(sock, b"X-Slow: 1\r\n", 20)
        assert answer == b"" and took < HEADER_SECONDS + 3, (answer, took)

        # Idle connections past the cap are refused at once, the rest closed at the
        # header deadline; the descriptors come back and health answers again.
        fds_before = _open_fds(proc.pid)
        idle = [_socket(url) for _ in range(IDLE)]
        try:
            assert _open_fds(proc.pid) < fds_before + MAX_CONNECTIONS + 10
            started = time.monotonic()
            for sock in idle:
                sock.settimeout(HEADER_SECONDS + 5)
                assert _closed(sock)
            assert time.monotonic() - started < HEADER_SECONDS + 5
        finally:
            for sock in idle:
                sock.close()
        eventually(
            lambda: httpx2.get(f"{url}/healthz", timeout=5).status_code == 200 or None,
            10,
            "health answers after the idle connections",
        )
        assert _open_fds(proc.pid) <= fds_before + 2

        # A WebSocket message over the request body limit closes that connection (1009).
        ws_url = url.replace("http://", "ws://") + "/graphql"
        with connect(ws_url, subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
            ws.send(json.dumps({"type": "connection_init"}))
            assert json.loads(ws.recv(timeout=10))["type"] == "connection_ack"
            records = [{"pad": "x" * 1000}] * 200
            payload = {"query": "mutation($r: [JSON!]!) { submitRecords(records: $r) { id } }"}
            ws.send(
                json.dumps(
                    {
                        "id": "1",
                        "type": "subscribe",
                        "payload": {**payload, "variables": {"r": records}},
                    }
                )
            )
            try:
                ws.recv(timeout=10)
                raise AssertionError("an oversized WebSocket message was taken")
            except ConnectionClosed as closed:
                assert closed.rcvd is not None and closed.rcvd.code == 1009
        assert httpx2.get(f"{url}/healthz", timeout=5).status_code == 200
