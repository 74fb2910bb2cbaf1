"""The embedded ArcadeDB server: real JVMs, no mocks.

Every wait polls a condition against a deadline; nothing sleeps to synchronise.
"""

from __future__ import annotations

import fcntl
import os
import signal
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import neo4j
import pytest

from graphsvc.store.embedded import (
    DataDirInUseError,
    EmbeddedArcadeDB,
    PasswordFileError,
    PortInUseError,
    ServerExitedError,
    StartupTimeoutError,
)
from graphsvc.store.endpoint import BoltEndpoint

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uses /proc")


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting until {what}")
        time.sleep(0.05)


def alive(pid: int) -> bool:
    """Whether pid runs; a zombie (exited, not yet reaped by its new parent) counts as gone."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state not in ("Z", "X")


def jvm_pids(data_dir: Path) -> list[int]:
    """Live ArcadeDB JVMs whose root path is under data_dir."""
    marker = f"-Darcadedb.server.rootPath={data_dir.resolve()}/".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if marker in cmdline and alive(int(entry.name)):
                found.append(int(entry.name))
    return found


def lock_is_free(data_dir: Path) -> bool:
    fd = os.open(data_dir / "arcadedb.lock", os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(fd)  # also releases the lock if we got it
    return True


def query(endpoint: BoltEndpoint, cypher: str) -> list[neo4j.Record]:
    with neo4j.GraphDatabase.driver(endpoint.uri, auth=endpoint.auth) as driver:
        return driver.execute_query(cypher, database_=endpoint.database).records


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedArcadeDB]:
    server = EmbeddedArcadeDB(tmp_path_factory.mktemp("srv") / "data", heap="256m")
    server.start()
    yield server
    server.stop()


def test_session_server_answers_bolt(embedded_endpoint: BoltEndpoint) -> None:
    assert query(embedded_endpoint, "RETURN 1 AS x")[0]["x"] == 1
    assert "password" not in repr(embedded_endpoint)
    assert embedded_endpoint.password not in repr(embedded_endpoint)


def test_files_are_private(srv: EmbeddedArcadeDB) -> None:
    data = srv.log_path.parent.parent
    assert stat.S_IMODE(os.stat(data).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(data / "arcadedb.password").st_mode) == 0o600
    assert stat.S_IMODE(os.stat(srv.log_path).st_mode) == 0o600


def test_password_is_not_logged_nor_on_the_command_line(srv: EmbeddedArcadeDB) -> None:
    password = srv.endpoint.password
    assert srv.pid is not None
    assert password.encode() not in Path(f"/proc/{srv.pid}/cmdline").read_bytes()
    assert srv.log_path.read_text()  # the server does log there
    for path in srv.log_path.parent.rglob("*"):
        if path.is_file() and "databases" not in path.parts:
            assert password.encode() not in path.read_bytes(), path


def test_second_server_on_same_data_dir_fails_fast(srv: EmbeddedArcadeDB) -> None:
    data = srv.log_path.parent.parent
    started = time.monotonic()
    with pytest.raises(DataDirInUseError, match=str(data)):
        EmbeddedArcadeDB(data).start()
    assert time.monotonic() - started < 1.0
    assert jvm_pids(data) == [srv.pid]


def test_taken_port_fails_before_launch(
    srv: EmbeddedArcadeDB, tmp_path: Path, foreign_port: int
) -> None:
    with pytest.raises(PortInUseError, match=f"Bolt port {foreign_port} .* in use"):
        EmbeddedArcadeDB(tmp_path, bolt_port=foreign_port).start()
    # A port held by the running JVM (an IPv6 dual-stack socket) is seen as taken too.
    srv_bolt = int(srv.uri.rsplit(":", 1)[1])
    with pytest.raises(PortInUseError, match=f"HTTP port {srv_bolt} "):
        EmbeddedArcadeDB(tmp_path, http_port=srv_bolt).start()
    assert jvm_pids(tmp_path) == []
    assert lock_is_free(tmp_path)


@pytest.fixture
def foreign_port() -> Iterator[int]:
    """A port some other program listens on."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        yield s.getsockname()[1]


def test_restart_keeps_password_and_data_and_stop_reaps(srv: EmbeddedArcadeDB) -> None:
    data = srv.log_path.parent.parent
    password = (data / "arcadedb.password").read_text()
    query(srv.endpoint, "CREATE (:Marker {id: 'persisted'})")
    pid = srv.pid
    assert pid is not None

    srv.stop()
    assert srv.pid is None
    assert not alive(pid)
    assert jvm_pids(data) == []
    assert lock_is_free(data)

    endpoint = srv.start()
    assert endpoint.password == password == (data / "arcadedb.password").read_text()
    rows = query(endpoint, "MATCH (m:Marker {id: 'persisted'}) RETURN count(m) AS n")
    assert rows[0]["n"] == 1


_CHILD = """
import sys
from pathlib import Path
from graphsvc.store.embedded import EmbeddedArcadeDB
server = EmbeddedArcadeDB(Path(sys.argv[1]), heap="256m", startup_timeout=60)
server.start()
print(server.pid, flush=True)
sys.stdin.read()  # block until killed
"""


@pytest.mark.slow  # a kill test: starts its own JVM, SIGKILLs its parent
def test_jvm_dies_with_a_sigkilled_parent(tmp_path: Path) -> None:
    parent = subprocess.Popen(
        [sys.executable, "-c", _CHILD, str(tmp_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = parent.stdout.readline() if parent.stdout else ""
        assert line.strip().isdigit(), f"child did not start the server (exit {parent.poll()})"
        jvm = int(line)
        assert jvm_pids(tmp_path) == [jvm]
        parent.send_signal(signal.SIGKILL)
        parent.wait()
        wait_until(lambda: not alive(jvm), 30, f"the JVM {jvm} exits")
        # The JVM held the data-directory lock too. Its main thread turns zombie while
        # other threads may still hold the descriptor table for a moment, so wait.
        wait_until(lambda: lock_is_free(tmp_path), 30, "the data-directory lock is released")
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()
        for pid in jvm_pids(tmp_path):
            os.kill(pid, signal.SIGKILL)


def test_jvm_failure_reports_status_and_log_tail(tmp_path: Path) -> None:
    with pytest.raises(ServerExitedError, match=r"(?s)exited with status 1.*heap"):
        EmbeddedArcadeDB(tmp_path, heap="1k").start()
    assert lock_is_free(tmp_path)


def test_startup_timeout_kills_the_jvm(tmp_path: Path) -> None:
    server = EmbeddedArcadeDB(tmp_path, heap="256m", startup_timeout=0.2)
    with pytest.raises(StartupTimeoutError, match=r"within 0\.2 s"):
        server.start()
    assert server.pid is None
    assert jvm_pids(tmp_path) == []
    assert lock_is_free(tmp_path)


def test_password_file_readable_by_others_is_refused(tmp_path: Path) -> None:
    tmp_path.joinpath("arcadedb.password").write_text("hunter2hunter2")
    os.chmod(tmp_path / "arcadedb.password", 0o644)
    with pytest.raises(PasswordFileError, match="chmod 600"):
        EmbeddedArcadeDB(tmp_path).start()
    assert jvm_pids(tmp_path) == []


def test_lost_password_file_is_refused_when_root_exists(tmp_path: Path) -> None:
    users = tmp_path / "arcadedb" / "config" / "server-users.jsonl"
    users.parent.mkdir(parents=True)
    users.write_text("{}\n")
    with pytest.raises(PasswordFileError, match="missing"):
        EmbeddedArcadeDB(tmp_path).start()
    assert not (tmp_path / "arcadedb.password").exists()
