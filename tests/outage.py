"""Helpers for tests that stop, kill and restart the real embedded database."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, TypeVar

from starlette.testclient import TestClient

from graphsvc.api.app import create_app
from graphsvc.services import Services, running_services
from graphsvc.settings import Settings
from graphsvc.store.embedded import running_servers

T = TypeVar("T")

SUBMIT = "mutation($r: [JSON!]!) { submitRecords(records: $r) { status reason } }"
STATS = "{ networkStats { receipts records } }"


def outage_settings(data: Path, **overrides: Any) -> Settings:
    """A service over its own embedded store with short store timeouts (3 s)."""
    values: dict[str, Any] = {
        "data": data,
        "embedded_heap": "256m",
        "store_call_timeout": 3.0,
        "store_connect_timeout": 3.0,
        "store_restart_backoff": 0.5,
        "score_interval": 0.0,
        "log_interval": 0.0,
        "snapshot_refresh": 0.0,
    }
    return Settings(**{**values, **overrides})


@contextmanager
def own_service(settings: Settings) -> Iterator[tuple[Services, TestClient]]:
    with (
        running_services(settings) as services,
        TestClient(create_app(services)) as client,
    ):
        yield services, client


def jvm_pid(data: Path) -> int:
    """The pid of the embedded JVM serving ``data``, as graphsvc.store.embedded knows it."""
    for server in running_servers():
        if server.pid is not None and str(data.resolve()) in repr(server):
            return server.pid
    raise AssertionError(f"no embedded server runs on {data}")


def timed(call: Callable[[], T]) -> tuple[T, float]:
    started = time.monotonic()
    value = call()
    return value, time.monotonic() - started


def eventually(check: Callable[[], T | None], timeout: float, what: str) -> T:
    """Poll ``check`` (every 0.2 s) until it returns a value; fail after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    pause = threading.Event()
    while True:
        value = check()
        if value is not None:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout:g} s: {what}")
        pause.wait(0.2)


def process_gone(pid: int) -> bool:
    """Whether ``pid`` has exited (a zombie nobody reaped counts as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat[stat.rindex(")") + 2] in "ZX"


def resume(pid: int) -> None:
    with suppress(ProcessLookupError):
        os.kill(pid, signal.SIGCONT)


@contextmanager
def serve_process(data: Path, log: Path, **env: str) -> Iterator[tuple[Any, str]]:
    """`graphsvc serve` as a child process on a free port, ready; killed (with its JVM)
    on the way out if a test left it running."""
    import socket
    import subprocess
    import sys

    import httpx2

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    environment = {
        **os.environ,
        "GRAPHSVC_DATA": str(data),
        "GRAPHSVC_PORT": str(port),
        "GRAPHSVC_EMBEDDED_HEAP": "256m",
        "GRAPHSVC_STORE_CALL_TIMEOUT": "3",
        "GRAPHSVC_STORE_CONNECT_TIMEOUT": "3",
        **env,
    }
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "graphsvc.cli", "serve"],
            env=environment,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:

        def ready() -> bool | None:
            if proc.poll() is not None:
                raise AssertionError(f"serve exited: {log.read_text()}")
            try:
                return httpx2.get(f"{url}/readyz", timeout=5).status_code == 200 or None
            except httpx2.HTTPError:
                return None

        eventually(ready, 120, "graphsvc serve ready")
        yield proc, url
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        holder = holder_pid(data)
        if holder is not None and not process_gone(holder):
            resume(holder)
            with suppress(ProcessLookupError):
                os.kill(holder, signal.SIGKILL)
            eventually(lambda: process_gone(holder) or None, 30, "the JVM gone")


def holder_pid(data: Path) -> int | None:
    """The JVM pid the data directory's lock file names (written by each start)."""
    try:
        text = (data / "arcadedb.lock").read_text().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None
