"""The embedded store: an ArcadeDB server run as a child JVM, spoken to over Bolt.

The ``arcadedb-embedded`` wheel bundles a JRE and the server jars, so no Java or
Docker is needed. The package is located with ``importlib.util.find_spec`` and never
imported: importing it would start a JVM inside this process through JPype.

Layout of the data directory (mode 0700)::

    arcadedb.lock       flock held for the server's life (by us and the JVM)
    arcadedb.password   root password, generated once, mode 0600
    arcadedb/           ArcadeDB root path and working directory; server.log is its log

The JVM is never left behind: ``stop()`` (SIGTERM, bounded wait, then SIGKILL), an
``atexit`` hook, and on Linux ``PR_SET_PDEATHSIG`` so that it gets SIGTERM when we die,
even by SIGKILL. The kernel sends that signal when the *thread* that started the
server exits, not the process: call ``start()`` from the main thread (or from a thread
that lives as long as the server).
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import importlib.util
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

import neo4j
from neo4j.exceptions import AuthError, DriverError, Neo4jError

from graphsvc.store.embedded_files import (
    HOST,
    DataDirInUseError,
    EmbeddedStoreError,
    JavaNotFoundError,
    PasswordFileError,
    PortInUseError,
    ServerExitedError,
    StartupTimeoutError,
    load_or_create_password,
    lock_data_dir,
    make_private_dir,
    no_space_since,
    open_log,
    pick_ports,
    record_holder,
)
from graphsvc.store.endpoint import BoltEndpoint

DATABASE = "graphsvc"
USER = "root"

_MAIN_CLASS = "com.arcadedb.server.ArcadeDBServer"
_TAIL_LINES = 40
# A write that fails with less than this free on the data directory's disk failed for
# want of space (see EmbeddedArcadeDB.disk_full).
LOW_SPACE_BYTES = 64 * 2**20
_HEAP_RE = re.compile(r"[1-9][0-9]*[kKmMgG]?")
_PR_SET_PDEATHSIG = 1

# java.util.logging setup for the JVM: only the console handler, whose output we
# redirect to server.log. ArcadeDB's default also writes ./log/arcadedb.log.N, which
# would duplicate everything; the plain formatter avoids ANSI colour codes.
_LOGGING_PROPERTIES = """\
handlers = java.util.logging.ConsoleHandler
.level = INFO
io.undertow.level = WARNING
org.xnio.level = WARNING
org.jboss.level = WARNING
java.util.logging.ConsoleHandler.level = INFO
java.util.logging.ConsoleHandler.formatter = com.arcadedb.log.LogFormatter
"""


class EmbeddedArcadeDB:
    """An ArcadeDB server in a child JVM on 127.0.0.1, holding one database, ``graphsvc``.

    Use as a context manager (``server.endpoint`` inside), or ``start()`` / ``stop()``.
    Ports left unset are picked afresh at each start. ``production=False`` only makes
    ArcadeDB return full error messages to Bolt clients (production mode keeps just the
    error code and logs the details) and serve its Studio UI; everything else pinned in
    ``_command`` stays the same, durability included.
    """

    def __init__(
        self,
        data_dir: Path,
        *,
        heap: str = "1g",
        bolt_port: int | None = None,
        http_port: int | None = None,
        startup_timeout: float = 90.0,
        production: bool = True,
    ) -> None:
        if not _HEAP_RE.fullmatch(heap):
            raise ValueError(f"heap must look like 512m or 2g, got {heap!r}")
        if bolt_port is not None and bolt_port == http_port:
            raise ValueError("bolt_port and http_port must differ")
        self._data_dir = Path(data_dir).expanduser().resolve()
        self._root = self._data_dir / "arcadedb"
        self._log_scanned = 0  # server.log read up to here for a full disk
        self._heap = heap
        self._want_bolt_port = bolt_port
        self._want_http_port = http_port
        self._startup_timeout = startup_timeout
        self._production = production
        self._proc: subprocess.Popen[bytes] | None = None
        self._lock_fd: int | None = None
        self._endpoint: BoltEndpoint | None = None
        self._ports: tuple[int, int] | None = None  # kept for a relaunch
        # Held while the JVM is launched or stopped, so a relaunch by the supervisor and
        # a stop by the owner never interleave.
        self._life = threading.RLock()

    # -- public API --------------------------------------------------------------

    @property
    def uri(self) -> str:
        return self.endpoint.uri

    @property
    def endpoint(self) -> BoltEndpoint:
        if self._endpoint is None or self._proc is None:
            raise RuntimeError("the embedded ArcadeDB server is not running")
        return self._endpoint

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    @property
    def log_path(self) -> Path:
        return self._root / "server.log"

    def disk_full(self) -> str | None:
        """Why a write failed, if its disk is full: less than ``LOW_SPACE_BYTES`` free
        (ArcadeDB grows its files by megabytes, so it fails with some space left, and
        its log may not be written then), or the JVM's log reporting it since last asked
        (its line may follow the failed answer by a moment: looked for up to 1 s)."""
        free = shutil.disk_usage(self._data_dir).free
        if free < LOW_SPACE_BYTES:
            return f"{free // 2**20} MiB left on the disk of {self._data_dir}"
        pause = threading.Event()
        for _ in range(10):
            found, self._log_scanned = no_space_since(self.log_path, self._log_scanned)
            if found:
                return f"no space left on the disk of {self._data_dir}"
            pause.wait(0.1)
        return None

    def start(self) -> BoltEndpoint:
        """Launch the JVM and return once Bolt answers queries on the database.

        Call it from the main thread (or one that outlives the server): on Linux the
        JVM is sent SIGTERM when the thread that started it exits.
        """
        with self._life:
            if self._proc is not None:
                raise RuntimeError("the embedded ArcadeDB server is already running")
            _find_runtime()
            make_private_dir(self._data_dir)
            self._lock_fd = lock_data_dir(self._data_dir)
            try:
                # Ports are checked before anything is launched, for a clear error; the
                # JVM could still lose a race for a picked port, which shows up as an exit.
                self._ports = pick_ports(self._want_bolt_port, self._want_http_port)
                return self._launch()
            except BaseException:
                self.stop(timeout=5.0)
                raise

    def relaunch(self) -> BoltEndpoint:
        """Start the JVM again after it died, on the same ports and data directory (whose
        lock this process kept), so that clients' endpoint stays valid. Raises
        :class:`EmbeddedStoreError` when it cannot; the server then stays down."""
        with self._life:
            if self._lock_fd is None or self._ports is None:
                raise RuntimeError("the embedded ArcadeDB server was stopped; start it")
            if self._proc is not None and self._proc.poll() is None:
                raise RuntimeError("the embedded ArcadeDB server is still running")
            self._proc = None
            self._endpoint = None
            try:
                self._ports = pick_ports(*self._ports)  # refused if another took one
                return self._launch()
            except BaseException:
                self._kill_child()
                raise

    def wait(self) -> int:
        """Wait for the JVM to exit; its exit status (negative: the signal)."""
        proc = self._proc
        if proc is None:
            raise RuntimeError("the embedded ArcadeDB server is not running")
        return proc.wait()

    def state(self) -> str | None:
        """None while the JVM runs normally; otherwise what is wrong with it, in words."""
        proc = self._proc
        if proc is None:
            return "the embedded database is not running"
        status = proc.poll()
        if status is not None:
            return f"the embedded database process (pid {proc.pid}) exited with status {status}"
        if _process_stopped(proc.pid):
            return f"the embedded database process (pid {proc.pid}) is stopped (SIGSTOP)"
        return None

    def _launch(self) -> BoltEndpoint:
        assert self._lock_fd is not None and self._ports is not None
        java, jars = _find_runtime()
        bolt_port, http_port = self._ports
        log_fd: int | None = None
        try:
            make_private_dir(self._root)
            password_path = self._data_dir / "arcadedb.password"
            password = load_or_create_password(
                password_path, self._root / "config" / "server-users.jsonl"
            )
            self._write_config_files()
            log_fd, log_start = open_log(self.log_path)
            self._log_scanned = log_start
            cmd = self._command(java, jars, password_path, bolt_port, http_port)
            self._proc = subprocess.Popen(
                cmd,
                cwd=self._root,  # ArcadeDB writes some files relative to its cwd
                stdin=subprocess.DEVNULL,
                stdout=log_fd,
                stderr=subprocess.STDOUT,
                # The JVM inherits the lock, so the data directory stays locked until
                # it has exited even if we die first.
                pass_fds=(self._lock_fd,),
                # Keep terminal signals (Ctrl-C) away from it: we decide when it stops.
                start_new_session=True,
                umask=0o077,
                preexec_fn=_pdeathsig_preexec(),
            )
            record_holder(self._lock_fd, self._proc.pid)
            _live.add(self)
            endpoint = BoltEndpoint(f"bolt://{HOST}:{bolt_port}", USER, password, DATABASE)
            self._wait_for_bolt(endpoint, log_start)
        finally:
            if log_fd is not None:
                os.close(log_fd)  # the child has its own copy
        self._endpoint = endpoint
        return endpoint

    def stop(self, timeout: float = 30.0) -> None:
        """Stop the JVM: SIGTERM (clean shutdown), then SIGKILL after ``timeout`` s."""
        with self._life:
            try:
                self._kill_child(timeout)
            finally:
                self._ports = None
                _live.discard(self)
                if self._lock_fd is not None:
                    os.close(self._lock_fd)  # releases the flock (the JVM's copy is gone)
                    self._lock_fd = None

    def kill_now(self) -> None:
        """SIGKILL the JVM without waiting for anything (a last resort at exit)."""
        proc = self._proc
        if proc is not None and proc.poll() is None:
            with contextlib.suppress(OSError):
                proc.kill()

    def _kill_child(self, timeout: float = 5.0) -> None:
        proc = self._proc
        try:
            if proc is not None and proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                # A stopped JVM would hold the SIGTERM until it is continued.
                with contextlib.suppress(OSError):
                    os.kill(proc.pid, signal.SIGCONT)
                try:
                    proc.wait(timeout)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        finally:
            self._proc = None
            self._endpoint = None

    def __enter__(self) -> EmbeddedArcadeDB:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"EmbeddedArcadeDB({str(self._data_dir)!r}, pid={self.pid})"

    # -- internals ---------------------------------------------------------------

    def _command(
        self, java: Path, jars: Path, password_path: Path, bolt_port: int, http_port: int
    ) -> list[str]:
        settings = {
            "arcadedb.server.rootPath": str(self._root),
            # A path, not the password: the command line is visible to every user.
            "arcadedb.server.rootPasswordPath": str(password_path),
            "arcadedb.server.mode": "production" if self._production else "development",
            "arcadedb.server.defaultDatabases": f"{DATABASE}[{USER}]",
            # Only Bolt; ServiceLoader adds MCP (disabled in mcp-config.json) and
            # auto-backup (inactive without config/backup.json), which cannot be refused.
            "arcadedb.server.plugins": "Bolt:com.arcadedb.bolt.BoltProtocolPlugin",
            "arcadedb.bolt.host": HOST,
            "arcadedb.bolt.port": str(bolt_port),
            "arcadedb.bolt.defaultDatabase": DATABASE,
            # HTTP cannot be switched off; keep it on loopback and a port we chose
            # (a single port, so ArcadeDB fails rather than scanning a range).
            "arcadedb.server.httpIncomingHost": HOST,
            "arcadedb.server.httpIncomingPort": str(http_port),
            # No TLS listener at all (the HTTPS port range 2490-2499 is used only with SSL).
            "arcadedb.ssl.enabled": "false",
            # Durability: an acknowledged record must survive a crash. Production mode
            # sets this too; pinning it keeps development mode durable.
            "arcadedb.txWalFlush": "1",
            "arcadedb.opencypher.loadCsv.allowFileUrls": "false",
            # graphsvc exports its own /metrics; never phone home.
            "arcadedb.serverMetrics": "false",
            "arcadedb.support.autoRegister": "false",
        }
        return [
            str(java),
            f"-Xmx{self._heap}",
            # Regions of 8 MB: with the default (1 MB at a 1 GB heap) the large buffers of
            # Bolt answers were "humongous" objects, each starting a concurrent GC cycle
            # (hundreds a minute under the soak's load; bench/RESULTS.md#soak-third-pass).
            "-XX:G1HeapRegionSize=8m",
            f"-Djava.util.logging.config.file={self._root / 'logging.properties'}",
            *(f"-D{key}={value}" for key, value in settings.items()),
            "-cp",
            f"{jars}{os.sep}*",  # expanded by Java, not by a shell
            _MAIN_CLASS,
        ]

    def _write_config_files(self) -> None:
        (self._root / "logging.properties").write_text(_LOGGING_PROPERTIES)
        # The MCP plugin always loads; pin it off explicitly (today's default) unless
        # an operator has written their own configuration.
        config = self._root / "config"
        make_private_dir(config)
        with contextlib.suppress(FileExistsError):
            fd = os.open(config / "mcp-config.json", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as f:
                json.dump({"enabled": False}, f)

    def _wait_for_bolt(self, endpoint: BoltEndpoint, log_start: int) -> None:
        assert self._proc is not None
        deadline = time.monotonic() + self._startup_timeout
        delay = 0.05
        with neo4j.GraphDatabase.driver(
            endpoint.uri, auth=endpoint.auth, connection_timeout=2.0
        ) as driver:
            while True:
                status = self._proc.poll()
                if status is not None:
                    raise ServerExitedError(
                        f"ArcadeDB exited with status {status} during startup; "
                        f"{self._log_tail(log_start, endpoint.password)}"
                    )
                try:
                    driver.verify_connectivity()
                    # Bolt listens before the database is created: wait for that too.
                    with driver.session(database=DATABASE) as session:
                        session.run("RETURN 1").consume()
                    return
                except AuthError as e:
                    raise PasswordFileError(
                        f"ArcadeDB rejected the root password in "
                        f"{self._data_dir / 'arcadedb.password'}; it no longer matches "
                        f"{self._root / 'config' / 'server-users.jsonl'}"
                    ) from e
                except (DriverError, Neo4jError, OSError):
                    pass  # not up yet
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise StartupTimeoutError(
                        f"ArcadeDB did not answer on {endpoint.uri} within "
                        f"{self._startup_timeout:g} s and was killed; "
                        f"{self._log_tail(log_start, endpoint.password)}"
                    )
                # Waiting on the process doubles as the back-off and notices an exit.
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self._proc.wait(min(delay, remaining))
                delay = min(delay * 2, 0.5)

    def _log_tail(self, start: int, password: str) -> str:
        try:
            with self.log_path.open("rb") as f:
                f.seek(start)
                text = f.read().decode("utf-8", "replace")
        except OSError as e:
            return f"cannot read {self.log_path}: {e}"
        # The password is never passed to the JVM, but scrub it in case a file echoes it.
        lines = text.replace(password, "********").splitlines()[-_TAIL_LINES:]
        if not lines:
            return f"it wrote nothing to {self.log_path}"
        return f"last lines of {self.log_path}:\n" + "\n".join(lines)


__all__ = [
    "DATABASE",
    "USER",
    "DataDirInUseError",
    "EmbeddedArcadeDB",
    "EmbeddedStoreError",
    "JavaNotFoundError",
    "PasswordFileError",
    "PortInUseError",
    "ServerExitedError",
    "StartupTimeoutError",
    "kill_all_now",
    "running_servers",
]

# -- helpers -----------------------------------------------------------------------

_live: set[EmbeddedArcadeDB] = set()


@atexit.register
def _stop_all() -> None:
    for server in list(_live):
        server.stop(timeout=10.0)


def running_servers() -> list[EmbeddedArcadeDB]:
    """The embedded servers this process runs (for supervision tests and the last-resort
    kill below)."""
    return list(_live)


def kill_all_now() -> None:
    """SIGKILL every embedded JVM of this process: the last step of a shutdown that did
    not finish in time (a JVM that is stopped would never act on SIGTERM)."""
    for server in list(_live):
        server.kill_now()


def _process_stopped(pid: int) -> bool:
    """Whether Linux reports the process as stopped (SIGSTOP) or traced."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2 :][:1] in ("T", "t")


def _find_runtime() -> tuple[Path, Path]:
    """The bundled ``java`` and jar directory, without importing the package."""
    spec = importlib.util.find_spec("arcadedb_embedded")
    if spec is None or not spec.submodule_search_locations:
        raise JavaNotFoundError(
            "the arcadedb-embedded package is not installed (pip install arcadedb-embedded)"
        )
    package = Path(next(iter(spec.submodule_search_locations)))
    java = package / "jre" / "bin" / "java"
    jars = package / "jars"
    if not os.access(java, os.X_OK):
        raise JavaNotFoundError(f"the arcadedb-embedded wheel has no runnable JRE at {java}")
    if not any(jars.glob("arcadedb-server-*.jar")) or not any(jars.glob("arcadedb-bolt-*.jar")):
        raise JavaNotFoundError(f"the ArcadeDB server or Bolt jar is missing from {jars}")
    return java, jars


def _pdeathsig_preexec() -> Callable[[], None] | None:
    """A ``preexec_fn`` that asks Linux to SIGTERM the child when our thread dies."""
    if not sys.platform.startswith("linux"):
        return None
    # Resolved before fork: the child should only make the call.
    prctl = ctypes.CDLL(None, use_errno=True).prctl
    prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
    prctl.restype = ctypes.c_int
    sigterm = int(signal.SIGTERM)
    parent = os.getpid()

    def preexec() -> None:
        if prctl(_PR_SET_PDEATHSIG, sigterm, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
        if os.getppid() != parent:
            os._exit(1)  # we died before prctl took effect: no signal would ever come

    return preexec
