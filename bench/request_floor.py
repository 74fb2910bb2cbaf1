"""The floor per request (issue 23): server CPU per ``GET /healthz`` and per
``{ __typename }``, measured from outside.

Usage::

    .venv/bin/python bench/request_floor.py [--requests 3000] [--rounds 2] [--tree DIR ...]

``graphsvc serve`` runs over its own embedded store (empty: no snapshot, so nothing is
answered from the answer cache); this process sends ``--requests`` sequential keep-alive
requests of each kind, after 200 of warm-up, and reads the server's CPU time from
``/proc/<pid>/stat`` before and after. Each ``--tree`` (a source tree of graphsvc, e.g.
``git archive <commit> | tar -x -C DIR``) is served in turn with ``PYTHONPATH`` pointing
at it, alternated with this checkout round by round, so a before/after pair shares the
machine's load.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from harness.accounting import proc_cpu
from harness.processes import server_process
from harness.report import progress, table

TYPENAME = json.dumps({"query": "{ __typename }"})


def cpu_per_request(port: int, pid: int, method: str, path: str, body: str | None, n: int) -> float:
    """µs of the server's CPU per request, over ``n`` sequential requests."""
    connection = http.client.HTTPConnection("127.0.0.1", port)
    headers = {"content-type": "application/json"} if body else {}
    for _ in range(200):
        connection.request(method, path, body=body, headers=headers)
        connection.getresponse().read()
    before = proc_cpu(pid)
    for _ in range(n):
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        response.read()
        if response.status != 200:
            raise SystemExit(f"{method} {path}: HTTP {response.status}")
    connection.close()
    return (proc_cpu(pid) - before) / n * 1e6


def measure(tree: str | None, requests: int) -> tuple[float, float]:
    saved = os.environ.get("PYTHONPATH")
    if tree is not None:
        os.environ["PYTHONPATH"] = tree
    try:
        with (
            tempfile.TemporaryDirectory(prefix="graphsvc-floor-") as folder,
            server_process(None, Path(folder)) as server,
        ):
            deadline = time.monotonic() + 180
            while True:
                try:
                    cpu_per_request(server.port, server.pid, "GET", "/healthz", None, 1)
                    break
                except OSError:
                    if time.monotonic() > deadline or server.proc.poll() is not None:
                        raise
                    time.sleep(0.3)
            healthz = cpu_per_request(server.port, server.pid, "GET", "/healthz", None, requests)
            typename = cpu_per_request(
                server.port, server.pid, "POST", "/graphql", TYPENAME, requests
            )
            return healthz, typename
    finally:
        if saved is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = saved


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--tree", action="append", default=[], help="another graphsvc tree")
    args = parser.parse_args()
    rows = []
    for round_number in range(args.rounds):
        for tree in [*args.tree, None]:
            name = tree or "this checkout"
            healthz, typename = measure(tree, args.requests)
            progress(f"round {round_number + 1}, {name}: {healthz:.0f} / {typename:.0f} µs")
            rows.append([str(round_number + 1), name, f"{healthz:.0f}", f"{typename:.0f}"])
    table(["round", "tree", "GET /healthz µs CPU", "{ __typename } µs CPU"], rows)


if __name__ == "__main__":
    main()
