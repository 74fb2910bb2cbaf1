"""A full disk is a named condition (issue 24): writes answer 507 "disk full" with
Retry-After (GraphQL: DISK_FULL), nothing acknowledged is lost, the evidence log's
tree is never torn by a failed write, and once space returns the log catches up and
`graphsvc audit` is clean, with no manual step. The whole story runs on a real tmpfs
(as root); the log's files also get ENOSPC injected where they are written."""

from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from graphsvc.api.app import create_app
from graphsvc.domain.failures import DiskFull
from graphsvc.evidence_log.audit import audit
from graphsvc.services import running_services
from graphsvc.settings import Settings
from graphsvc.store.endpoint import BoltEndpoint
from graphsvc.store.graph_store import GraphStore
from graphsvc.tlog import hash_files
from graphsvc.tlog.hash_files import HashFiles
from graphsvc.tlog.merkle import leaf_hash
from graphsvc.tlog.prove import range_hash
from tests.network import T0, Network
from tests.outage import outage_settings

SUBMIT = "mutation($r: [JSON!]!) { submitRecords(records: $r) { status } }"


@contextmanager
def tmpfs(where: Path, megabytes: int) -> Iterator[Path]:
    """A tmpfs of ``megabytes`` mounted at ``where`` (root only)."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root (scripts/test runs as root)")
    where.mkdir()
    subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={megabytes}m", "tmpfs", str(where)], check=True
    )
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=True)


def _ndjson(records: list[dict[str, Any]]) -> str:
    return "\n".join(json.dumps(r) for r in records)


def test_a_full_disk_answers_disk_full_loses_nothing_and_recovers(tmp_path: Path) -> None:
    net = Network()
    with tmpfs(tmp_path / "small", 80) as disk:
        data = disk / "data"
        with (
            running_services(outage_settings(data)) as services,
            TestClient(create_app(services)) as client,
        ):
            assert client.post("/records", content=_ndjson(net.basics())).status_code == 200
            filler = disk / "filler"
            filler.write_bytes(b"\0" * (shutil.disk_usage(disk).free - 12 * 2**20))
            acknowledged: set[str] = set()
            sent = 0
            full = None
            while full is None:
                assert sent < 40_000, "the disk never filled"
                answer = client.post(
                    "/records", content=_ndjson([net.receipt(sent + k) for k in range(200)])
                )
                sent += 200
                lines = [json.loads(line) for line in answer.text.splitlines()]
                acknowledged |= {r["id"] for r in lines if r.get("status") == "accepted"}
                if answer.status_code != 200:
                    full = answer
            assert full.status_code == 507, full.text
            assert full.headers["Retry-After"] == "5"
            assert lines[-1]["error"].startswith("disk full: ")
            assert str(data) in lines[-1]["error"]
            # What was acknowledged is stored; the publisher's failures are named.
            found = services.attribution.receipt_trails(sorted(acknowledged))
            assert set(found) == acknowledged
            if not services.publisher.run_once():
                ready = client.get("/readyz").json()
                assert ready["status"] == "degraded" and "No space left" in ready["cause"]

            filler.unlink()  # space returns: no restart, no manual step
            again = client.post("/records", content=_ndjson([net.receipt(k) for k in range(sent)]))
            assert again.status_code == 200, again.text
            summary = json.loads(again.text.splitlines()[-1])["summary"]
            assert summary["rejected"] == 0 and summary["duplicate"] == len(acknowledged)
            assert services.publisher.run_once(), services.publisher.last_error
            assert client.get("/readyz").json()["status"] == "ready"
            size = services.log.latest().checkpoint.size
            assert size == len(net.basics()) + sent
            report = audit(services.log)
            assert report.clean and report.tree_size == size


def test_a_failed_write_leaves_the_tree_files_as_they_were(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    leaves = [leaf_hash(i.to_bytes(4, "big")) for i in range(700)]
    files = HashFiles(tmp_path / "tree")
    files.append(leaves[:300])
    before = {p.name: p.read_bytes() for p in (tmp_path / "tree").iterdir()}
    real_write = os.write
    calls = [0]

    def filling(fd: int, data: bytes) -> int:
        calls[0] += 1
        if calls[0] == 2:  # the first level's hashes fit, the next level's half of it
            return real_write(fd, data[: len(data) // 2])
        if calls[0] > 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(fd, data)

    monkeypatch.setattr(hash_files.os, "write", filling)
    with pytest.raises(OSError) as failed:
        files.append(leaves[300:600])
    assert failed.value.errno == errno.ENOSPC
    monkeypatch.undo()
    assert files.size == 300
    assert {
        p.name: p.read_bytes() for p in (tmp_path / "tree").iterdir() if p.name in before
    } == before
    files.append(leaves[300:])
    fresh = HashFiles(tmp_path / "fresh")
    fresh.append(leaves)
    assert range_hash(files, 0, 700) == range_hash(fresh, 0, 700)
    files.close()
    fresh.close()


def test_disk_full_is_named_to_graphql_and_bulk_clients(
    clean_graph: BoltEndpoint, monkeypatch: pytest.MonkeyPatch
) -> None:
    with (
        GraphStore(clean_graph) as store,
        running_services(Settings(), store=store, clock=lambda: T0 + 10**9) as services,
        TestClient(create_app(services)) as client,
    ):

        def full(*args: object, **kwargs: object) -> object:
            raise DiskFull("disk full: no space left on the disk of /data")

        monkeypatch.setattr(services.ingestor, "submit", full)
        records = Network().basics()
        answer = client.post("/graphql", json={"query": SUBMIT, "variables": {"r": records}})
        (error,) = answer.json()["errors"]
        assert error["extensions"]["code"] == "DISK_FULL"
        assert error["message"] == "disk full: no space left on the disk of /data"
        bulk = client.post("/records", content=_ndjson(records))
        assert bulk.status_code == 507 and bulk.headers["Retry-After"] == "5"
