"""Process control: ports, the server subprocess, the JVM, waiting for quiet."""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from graphsvc.store.endpoint import BoltEndpoint
from harness.accounting import Usage, proc_cpu
from harness.report import progress

HOST = "127.0.0.1"
OTHERS_LIMIT = 0.25  # of a core: other jobs using more than this make wait_quiet wait


def add_process_options(parser: argparse.ArgumentParser, *, quiet_timeout: float) -> None:
    """The options of every benchmark that runs the store: ``--heap``, ``--quiet-timeout``."""
    parser.add_argument("--heap", default="1g", help="embedded ArcadeDB JVM heap")
    parser.add_argument(
        "--quiet-timeout",
        type=float,
        default=quiet_timeout,
        help="s to wait before each measurement for other jobs to leave the CPU (0: never)",
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def _die_with_parent() -> Callable[[], None] | None:
    if not sys.platform.startswith("linux"):
        return None
    libc = ctypes.CDLL(None, use_errno=True)

    def preexec() -> None:
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG: SIGTERM when the bench dies

    return preexec


def find_jvm(root: Path) -> int | None:
    """The pid of the ArcadeDB JVM whose root path is ``root``, if it runs."""
    marker = f"-Darcadedb.server.rootPath={root}".encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            args = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if marker in args and any(b"ArcadeDBServer" in a for a in args):
            return int(entry.name)
    return None


@dataclass(frozen=True)
class Server:
    """A running ``graphsvc serve``: its process, port and log file."""

    proc: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def pid(self) -> int:
        return self.proc.pid


@contextlib.contextmanager
def server_process(
    endpoint: BoltEndpoint | None,
    folder: Path,
    command: list[str] | None = None,
    **settings: str,
) -> Iterator[Server]:
    """``graphsvc serve`` (or ``command``, given ``--port``) on a free port of 127.0.0.1
    over the store at ``endpoint`` (None: its own embedded store in ``folder /
    "server"``), with background recomputes off unless ``settings`` (``GRAPHSVC_*``
    values) say otherwise; stopped on exit."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRAPHSVC_")}
    env.update(GRAPHSVC_DATA=str(folder / "server"), GRAPHSVC_SCORE_INTERVAL="0")
    if endpoint is not None:
        env.update(
            GRAPHSVC_NEO4J_URI=endpoint.uri,
            GRAPHSVC_NEO4J_USER=endpoint.user,
            GRAPHSVC_NEO4J_PASSWORD=endpoint.password,
            GRAPHSVC_NEO4J_DATABASE=endpoint.database or "",
        )
    env.update(settings)
    graphsvc = Path(sys.executable).parent / "graphsvc"
    port, log = free_port(), folder / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [*(command or [str(graphsvc), "serve", "--host", HOST]), "--port", str(port)],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent(),
        )
    try:
        yield Server(proc, port, log)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def settle(pid: int | None, *, deadline: float = 120.0) -> bool:
    """Wait until ``pid`` is idle (under 10 % of a core over 0.5 s): the backlog of an
    overload, or a JVM still compiling, must not spill into the next measurement."""
    until = time.monotonic() + deadline
    while time.monotonic() < until:
        before = proc_cpu(pid)
        time.sleep(0.5)
        if proc_cpu(pid) - before < 0.05:
            return True
    progress(f"pid {pid} did not settle in {deadline:.0f} s; going on")
    return False


def wait_quiet(server: int | None, jvm: int | None, timeout: float) -> None:
    """The machine is shared: wait (up to ``timeout`` s) until the other jobs on it use
    under OTHERS_LIMIT of a core."""
    if timeout <= 0:
        return
    until = time.monotonic() + timeout
    waited = False
    while True:
        before = Usage.now(server, jvm)
        time.sleep(1.0)
        window = Usage.now(server, jvm).since(before)
        if window.others <= OTHERS_LIMIT * window.wall:
            return
        if time.monotonic() > until:
            progress("other jobs keep the machine busy; measuring anyway (see other %)")
            return
        if not waited:
            progress("other jobs are using the CPU; waiting for a quiet machine")
            waited = True
