"""The embedded store's data directory: its lock, root password file, log file and
ports, and the errors of starting the server (split from ``embedded``, which runs it)."""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import secrets
import socket
from pathlib import Path

HOST = "127.0.0.1"
_LOG_ROTATE_BYTES = 16 * 1024 * 1024


class EmbeddedStoreError(RuntimeError):
    """The embedded ArcadeDB server could not be started."""


class JavaNotFoundError(EmbeddedStoreError):
    """The arcadedb-embedded wheel, its JRE or its jars are missing."""


class PortInUseError(EmbeddedStoreError):
    """A port given for the server is already taken."""


class DataDirInUseError(EmbeddedStoreError):
    """Another server already runs on the data directory."""


class PasswordFileError(EmbeddedStoreError):
    """The root password file is unsafe, empty, missing while needed, or wrong."""


class ServerExitedError(EmbeddedStoreError):
    """The JVM exited before Bolt answered."""


class StartupTimeoutError(EmbeddedStoreError):
    """Bolt did not answer within the startup timeout; the JVM was killed."""


def make_private_dir(path: Path) -> None:
    path.mkdir(mode=0o700, parents=True, exist_ok=True)


def lock_data_dir(data_dir: Path) -> int:
    lock_path = data_dir / "arcadedb.lock"
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(fd, 32, 0).decode(errors="replace").strip()
        os.close(fd)
        by = f" (ArcadeDB pid {holder})" if holder.isdigit() else ""
        raise DataDirInUseError(
            f"data directory {data_dir} is in use by another embedded ArcadeDB server{by}"
        ) from None
    except BaseException:
        os.close(fd)
        raise
    return fd


def record_holder(lock_fd: int, pid: int) -> None:
    # For the error message of a second server; the flock itself is the lock.
    os.ftruncate(lock_fd, 0)
    os.pwrite(lock_fd, f"{pid}\n".encode(), 0)


def pick_ports(bolt: int | None, http: int | None) -> tuple[int, int]:
    """Check the given ports and pick free ones for the others (port 0)."""
    # Every probe stays bound until all are done, so a picked port cannot equal the other.
    with contextlib.ExitStack() as stack:
        ports = []
        for port, name in ((bolt, "Bolt"), (http, "HTTP")):
            s = stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
            if port:
                # Like the JVM's listener: TIME_WAIT leftovers are free, a listener is not.
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind((HOST, port or 0))
            except OSError as e:
                if e.errno == errno.EADDRINUSE:
                    raise PortInUseError(
                        f"{name} port {port} on {HOST} is already in use; choose another "
                        "port or leave it unset to pick a free one"
                    ) from None
                raise PortInUseError(f"cannot use {name} port {port} on {HOST}: {e}") from e
            ports.append(int(s.getsockname()[1]))
    return ports[0], ports[1]


def load_or_create_password(path: Path, users_file: Path) -> str:
    """Read the root password, or generate it on first start.

    A file readable by others is refused, not repaired: the password may already
    have leaked, and chmod would hide that.
    """
    try:
        # O_NOFOLLOW: never read a password through a planted symlink.
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except FileNotFoundError:
        if users_file.exists():
            # The root user exists with a password we no longer know.
            raise PasswordFileError(
                f"{path} is missing but ArcadeDB already has a root user; restore the file, "
                f"or delete {users_file} to set a new root password (databases are kept)"
            ) from None
        return create_password(path)
    except OSError as e:
        raise PasswordFileError(f"cannot open the root password file {path}: {e}") from e
    with os.fdopen(fd, "rb") as f:
        st = os.fstat(f.fileno())
        if st.st_uid != os.getuid() or st.st_mode & 0o077:
            raise PasswordFileError(
                f"{path} is accessible by other users (mode {st.st_mode & 0o777:o}, "
                f"owner uid {st.st_uid}); run chmod 600 on it if that is safe, and treat "
                "the password as exposed otherwise"
            )
        password = f.read().decode("utf-8", "replace").strip()
    if not password:
        raise PasswordFileError(f"the root password file {path} is empty")
    return password


def create_password(path: Path) -> str:
    password = secrets.token_urlsafe(32)
    # O_EXCL: fail rather than write through an existing file or symlink.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    try:
        os.write(fd, password.encode())
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        path.unlink()
        raise
    os.close(fd)
    return password


def open_log(path: Path) -> tuple[int, int]:
    """Open server.log for appending; return the fd and where this run starts."""
    with contextlib.suppress(FileNotFoundError):
        if path.stat().st_size > _LOG_ROTATE_BYTES:
            os.replace(path, path.with_name(path.name + ".1"))
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o600)
    return fd, os.lseek(fd, 0, os.SEEK_END)


NO_SPACE = b"No space left on device"


def no_space_since(log: Path, offset: int) -> tuple[bool, int]:
    """Whether ArcadeDB's log reports a full disk after ``offset``, and where it ends
    (its write errors reach a Bolt client only as "check the server log")."""
    try:
        with log.open("rb") as f:
            f.seek(offset)
            text = f.read()
    except OSError:
        return False, offset
    return NO_SPACE in text, offset + len(text)
