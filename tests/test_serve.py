"""`graphsvc serve` as a process, as an operator runs it: the URL at once, `/readyz`
503 while the demo loads, JSON log lines each naming its request, no secret in them,
and a clean stop on SIGTERM."""

from __future__ import annotations

import io
import json
import logging
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import httpx2
import pytest

from graphsvc.logs import configure_logging, uses_json
from graphsvc.progress import Progress
from graphsvc.store.endpoint import BoltEndpoint
from tests.test_demo_network import SMALL

TOKEN = "admin-token-that-must-never-be-logged"


def json_lines(stream: IO[str], seen: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Each line of ``stream`` as JSON (every line must be), kept in ``seen``."""
    for line in stream:
        entry: dict[str, Any] = json.loads(line)
        seen.append(entry)
        yield entry


def test_serve_answers_at_once_and_logs_json_without_secrets(
    embedded_endpoint: BoltEndpoint, clean_graph: None, tmp_path: Path
) -> None:
    params = tmp_path / "demo.json"
    params.write_text(json.dumps(SMALL.to_dict()))
    env = {
        **os.environ,
        "GRAPHSVC_DATA": str(tmp_path / "data"),
        "GRAPHSVC_NEO4J_URI": embedded_endpoint.uri,
        "GRAPHSVC_NEO4J_USER": embedded_endpoint.user,
        "GRAPHSVC_NEO4J_PASSWORD": embedded_endpoint.password,
        "GRAPHSVC_PORT": "0",
        "GRAPHSVC_DEMO_PARAMS": str(params),
        "GRAPHSVC_ADMIN_TOKEN": TOKEN,
        "GRAPHSVC_SCORE_INTERVAL": "0",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "graphsvc.cli", "serve", "--demo"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    logged: list[dict[str, Any]] = []
    try:
        assert server.stdout is not None and server.stderr is not None
        first = server.stdout.readline()
        assert first.startswith("graphsvc: dashboard at http://127.0.0.1:"), first
        url = first.split("dashboard at ")[1].split("/,")[0]
        with httpx2.Client(base_url=url, timeout=30) as client:
            loading = client.get("/readyz")
            assert loading.status_code == 503
            assert loading.json()["cause"] == "loading demo"

            for entry in json_lines(server.stderr, logged):
                if entry["message"] == "demo loaded: ready":
                    break
            assert client.get("/readyz").json()["status"] == "ready"

            recompute = {"query": "mutation { recompute { id } }"}
            refused = client.post(
                "/graphql", json=recompute, headers={"authorization": "Bearer wrong-token"}
            )
            assert "not authorised" in refused.json()["errors"][0]["message"]
            done = client.post(
                "/graphql",
                json=recompute,
                headers={"authorization": f"Bearer {TOKEN}", "x-request-id": "op-recompute-1"},
            )
            assert done.json()["data"]["recompute"]["id"]
            assert done.headers["x-request-id"] == "op-recompute-1"

        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=60) == 0
        logged.extend(json_lines(server.stderr, []))
    finally:
        server.kill()
        server.wait()

    assert {"time", "level", "logger", "message", "request_id"} <= logged[0].keys()
    # The recompute's own line and the access line both name the request.
    mine = [e for e in logged if e["request_id"] == "op-recompute-1"]
    assert any(e["message"].startswith("recompute stored snapshot") for e in mine), mine
    assert any(e["logger"] == "uvicorn.access" for e in mine), mine
    assert any(e["message"].startswith("demo data accepted=") for e in logged)
    text = json.dumps(logged)
    assert TOKEN not in text and "wrong-token" not in text
    assert embedded_endpoint.password not in text


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_is_a_log_line_every_few_seconds_when_not_on_a_terminal(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.INFO, "graphsvc.progress"):
        with Progress("loading demo", 10, stream=io.StringIO(), every=0) as bar:
            bar.update(4)
            bar.update(6)
        with Progress("quiet", 10, stream=io.StringIO(), every=0, enabled=False) as quiet:
            quiet.update(10)
        with Progress("rare", 10, stream=io.StringIO(), every=3600) as rare:
            rare.update(10)
    assert caplog.messages == ["loading demo: 4 of 10 rec", "loading demo: 10 of 10 rec"]
    assert (bar.done, quiet.done, rare.done) == (10, 10, 10)

    screen = Terminal()
    with Progress("on a terminal", 10, stream=screen) as shown:
        shown.update(10)
    assert "on a terminal: 100%" in screen.getvalue()  # a bar, not log lines


def test_log_lines_are_json_off_a_terminal_and_text_on_one() -> None:
    assert uses_json("auto", io.StringIO()) and not uses_json("auto", Terminal())
    assert uses_json("json", Terminal()) and not uses_json("text", io.StringIO())
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    try:
        for log_format, stream in (("json", io.StringIO()), ("text", io.StringIO())):
            configure_logging(log_format, stream=stream)  # type: ignore[arg-type]
            logging.getLogger("graphsvc.test").info("hello %s", "there")
            line = stream.getvalue().strip()
            if log_format == "json":
                entry = json.loads(line)
                assert (entry["message"], entry["request_id"]) == ("hello there", "-")
            else:
                assert line.endswith("INFO [-] graphsvc.test: hello there")
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
