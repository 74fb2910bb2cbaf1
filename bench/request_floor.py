"""The floor per request (issue 23): server CPU per ``GET /healthz`` and per
``{ __typename }``, measured from outside.

Usage::

    .venv/bin/python bench/request_floor.py [--requests 3000] [--rounds 2] [--block 1000] [--pin]
        [--tree DIR ...]

``graphsvc serve`` runs over its own embedded store (empty: no snapshot, so nothing is
answered from the answer cache); this process sends ``--requests`` sequential keep-alive
requests of each kind, after 200 of warm-up, and reads the server's CPU time from
``/proc/<pid>/stat`` before and after each block of requests. Each ``--tree`` (a source
tree of graphsvc, e.g. ``git archive <commit> | tar -x -C DIR``) is served at the same
time, with ``PYTHONPATH`` pointing at it, beside this checkout: each round sends the
requests in blocks of ``--block``, the servers taking turns block by block, so a
before/after pair shares the machine's load (other jobs come and go within seconds on
a shared machine). Even so, a run can favour one server over the other by about 20
µs, the same way in every round, and the other way in the next run (where each server
and its client happen to run): compare over several runs. ``--pin`` puts every server
on one CPU and this process on the others; that figure is higher (the servers share
their core with other jobs) but their placement is the same.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from harness.accounting import proc_cpu
from harness.processes import HOST, Server, server_process
from harness.report import progress, table

TYPENAME = json.dumps({"query": "{ __typename }"})


def cpu_seconds(port: int, pid: int, method: str, path: str, body: str | None, n: int) -> float:
    """Seconds of the server's CPU for ``n`` sequential requests on one connection."""
    connection = http.client.HTTPConnection("127.0.0.1", port)
    headers = {"content-type": "application/json"} if body else {}
    before = proc_cpu(pid)
    for _ in range(n):
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        response.read()
        if response.status != 200:
            raise SystemExit(f"{method} {path}: HTTP {response.status}")
    connection.close()
    return proc_cpu(pid) - before


KINDS = {"healthz": ("GET", "/healthz", None), "typename": ("POST", "/graphql", TYPENAME)}


@contextmanager
def serving(tree: str | None, cpu: int | None) -> Iterator[Server]:
    """``graphsvc serve`` of ``tree`` (None: this checkout), answering and warmed up; on
    CPU ``cpu`` only, if given."""
    saved = os.environ.get("PYTHONPATH")
    if tree is not None:
        os.environ["PYTHONPATH"] = tree
    try:
        with (
            tempfile.TemporaryDirectory(prefix="graphsvc-floor-") as folder,
            server_process(None, Path(folder), command=pinned(cpu)) as server,
        ):
            deadline = time.monotonic() + 180
            while True:
                try:
                    cpu_seconds(server.port, server.pid, "GET", "/healthz", None, 1)
                    break
                except OSError:
                    if time.monotonic() > deadline or server.proc.poll() is not None:
                        raise
                    time.sleep(0.3)
            for method, path, body in KINDS.values():
                cpu_seconds(server.port, server.pid, method, path, body, 200)
            yield server
    finally:
        if saved is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = saved


def pinned(cpu: int | None) -> list[str] | None:
    """The server's command on one CPU (``taskset``; its JVM inherits it), or None."""
    if cpu is None:
        return None
    graphsvc = str(Path(sys.executable).parent / "graphsvc")
    return ["taskset", "-c", str(cpu), graphsvc, "serve", "--host", HOST]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--block", type=int, default=1000, help="requests per turn")
    parser.add_argument("--tree", action="append", default=[], help="another graphsvc tree")
    parser.add_argument(
        "--pin",
        action="store_true",
        help="every server on the last CPU, this process on the others",
    )
    args = parser.parse_args()
    cpu = None
    if args.pin:
        cpu = max(os.sched_getaffinity(0))
        os.sched_setaffinity(0, os.sched_getaffinity(0) - {cpu} or {cpu})
    trees: list[str | None] = [*args.tree, None]
    rows = []
    with ExitStack() as stack:
        servers = [stack.enter_context(serving(tree, cpu)) for tree in trees]
        for round_number in range(args.rounds):
            used = {(i, kind): 0.0 for i in range(len(trees)) for kind in KINDS}
            sent = 0
            while sent < args.requests:
                n = min(args.block, args.requests - sent)
                for kind, (method, path, body) in KINDS.items():
                    order = (
                        range(len(trees))
                        if sent // args.block % 2 == 0
                        else reversed(range(len(trees)))
                    )
                    for i in order:
                        server = servers[i]
                        used[i, kind] += cpu_seconds(server.port, server.pid, method, path, body, n)
                sent += n
            for i, tree in enumerate(trees):
                name = tree or "this checkout"
                healthz, typename = (used[i, kind] / args.requests * 1e6 for kind in KINDS)
                progress(f"round {round_number + 1}, {name}: {healthz:.0f} / {typename:.0f} µs")
                rows.append([str(round_number + 1), name, f"{healthz:.0f}", f"{typename:.0f}"])
    table(["round", "tree", "GET /healthz µs CPU", "{ __typename } µs CPU"], rows)


if __name__ == "__main__":
    main()
