"""CPU and memory accounting from /proc (Linux)."""

from __future__ import annotations

import contextlib
import math
import os
import resource
import time
from dataclasses import dataclass
from pathlib import Path

_TICK = os.sysconf("SC_CLK_TCK")


def proc_cpu(pid: int | None) -> float:
    """CPU seconds (user + system, all threads) of process ``pid``; 0 if it is gone."""
    if pid is None:
        return 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICK  # utime, stime


def children(pid: int | None, but: int | None = None) -> list[int]:
    """The child processes of ``pid`` except ``but`` (the server's ingest process, not its
    JVM: docs/decisions/0090-ingest-in-its-own-process.md)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            child = int(stat.parent.name)
            parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if pid is not None and parent == pid and child != but:
            found.append(child)
    return found


def server_cpu(server: int | None, jvm: int | None) -> float:
    """CPU seconds of the server with its children but its JVM."""
    return proc_cpu(server) + sum(proc_cpu(child) for child in children(server, but=jvm))


def jit_cpu(pid: int | None) -> float:
    """CPU seconds of the JIT compiler threads (C1, C2) of JVM ``pid``; 0 if it is gone.

    A JVM compiles its hot code for minutes after start: on this machine the C2 threads
    took more CPU than the Bolt work itself for the first ~40,000 receipts ingested, so
    a JVM figure without this split measures warm-up as much as work."""
    if pid is None:
        return 0.0
    total = 0
    with contextlib.suppress(OSError):
        for task in Path(f"/proc/{pid}/task").iterdir():
            with contextlib.suppress(OSError):
                if (task / "comm").read_text().startswith(("C1 Compiler", "C2 Compiler")):
                    fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
                    total += int(fields[11]) + int(fields[12])
    return total / _TICK


def machine_busy() -> float:
    """CPU seconds the whole machine has been busy (every core, every process)."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]  # idle, iowait
    return (sum(values[:8]) - idle) / _TICK


@dataclass(frozen=True)
class Usage:
    """Wall time and CPU seconds of this process, the server, the JVM and the machine;
    ``Usage.now`` readings subtract into the use of an interval (``since``)."""

    wall: float
    client: float  # this process
    server: float
    jvm: float
    machine: float
    jit: float = 0.0  # the JVM's JIT compiler threads, part of ``jvm``

    @classmethod
    def now(cls, server: int | None, jvm: int | None) -> Usage:
        return cls(
            time.perf_counter(), time.process_time(), server_cpu(server, jvm), proc_cpu(jvm),
            machine_busy(), jit_cpu(jvm),
        )  # fmt: skip

    def since(self, start: Usage) -> Usage:
        return Usage(
            self.wall - start.wall, self.client - start.client, self.server - start.server,
            self.jvm - start.jvm, self.machine - start.machine, self.jit - start.jit,
        )  # fmt: skip

    @property
    def others(self) -> float:
        """CPU seconds of everything else on the machine (other users' jobs)."""
        return max(self.machine - self.client - self.server - self.jvm, 0.0)

    def percent(self, cpu_seconds: float) -> float:
        """``cpu_seconds`` as percent of one core over this interval."""
        return 100 * cpu_seconds / self.wall if self.wall > 0 else math.nan


def peak_rss_bytes() -> int:
    """VmHWM, not ru_maxrss: a child's ru_maxrss keeps the parent's RSS at fork time."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def reset_peak_rss() -> None:
    """Reset the kernel's peak-RSS mark (Linux >= 4.0) so what came before does not count."""
    with contextlib.suppress(OSError), open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")


def rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
