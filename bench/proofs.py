"""Checked proofs benchmark (issue 27): ingest of verified OpenGradient gateway responses
against today's Ed25519 receipts, side by side, and the cost of registering an enclave.

Usage::

    .venv/bin/python bench/proofs.py [--receipts 10000] [--batch 1000] [--rounds 2]
        [--enclaves 20] [--heap 1g]

One fresh embedded ArcadeDB (production mode, WAL flushed at each commit) in a temporary
directory, the services ``running_services`` assembles (the server's wiring) with a
forged Nitro root in ``GRAPHSVC_TEE_ROOTS`` and the clock fixed. Every record is made
and signed before anything is timed; gateway responses by the tests' independent
implementation of the gateway's rule (``tests/independent_gateway.py``, RSA-2048).

Cases, each ``--receipts`` records through ``Ingestor.submit_many`` in batches of
``--batch``, alternated for ``--rounds`` rounds so the machine's load falls on each alike
(each case writes new receipts into a store that holds the earlier rounds):

- ``ed25519 co-signed``: graphsvc receipts signed by a node and co-signed by a requester
  (two Ed25519 signatures and two evidence sums per receipt), a tee claim;
- ``ed25519``: graphsvc receipts signed by a node only (one signature, no evidence);
- ``gateway``: OpenGradient responses of a registered enclave: two keccak256 hashes
  recomputed, an RSA-PSS verification, no requester (so no evidence, like ``ed25519``).

Then registering an enclave: the stateless check of an ``enclave`` record (document
chain, ES384, binding) per record, and ``--enclaves`` registrations ingested one per batch.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from harness.accounting import Usage
from harness.processes import find_jvm, settle
from harness.report import progress, table

from graphsvc.demo.enclave_pki import EnclavePki, nitriding_user_data
from graphsvc.records import builder, validate_record
from graphsvc.records.builder import sha256_hex
from graphsvc.services import running_services
from graphsvc.settings import Settings
from graphsvc.store.embedded import EmbeddedArcadeDB
from graphsvc.store.graph_store import GraphStore
from tests.independent_gateway import key_der, new_key, respond
from tests.network import MODEL, T0, Network

START = dt.datetime.fromtimestamp(T0 / 1000, tz=dt.UTC)
DOC_AT = START + dt.timedelta(hours=1)
REGISTERED = T0 + 2 * 3_600_000
GATEWAY_MODEL = "opengradient/gpt-4.1@gateway"


def _receipts(net: Network, first: int, count: int, cosigned: bool) -> list[dict[str, Any]]:
    return [
        builder.receipt(
            net.node,
            MODEL,
            sha256_hex(f"in-{n}"),
            sha256_hex(f"out-{n}"),
            T0 + 3 * 3_600_000 + n,
            requester=net.requester if cosigned else None,
        )
        for n in range(first, first + count)
    ]


def _gateway_lines(key: Any, first: int, count: int) -> list[dict[str, Any]]:
    lines = []
    for n in range(first, first + count):
        request = {"model": "gpt-4.1", "messages": [{"role": "user", "content": f"q{n}"}]}
        response = respond(key, request, f"answer {n}", T0 // 1000 + 3 * 3600 + n)
        lines.append({"type": "opengradient", "request": request, "response": response})
    return lines


def _timed(services: Any, records: list[dict[str, Any]], batch: int, jvm: int | None) -> Usage:
    batches = [records[i : i + batch] for i in range(0, len(records), batch)]
    start = Usage.now(None, jvm)
    for results in services.ingestor.submit_many(batches):
        bad = [r.reason for r in results if r.reason and str(r.status) == "rejected"]
        assert not bad, bad[:3]
    return Usage.now(None, jvm).since(start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--receipts", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=1_000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--enclaves", type=int, default=20)
    parser.add_argument("--heap", default="1g")
    args = parser.parse_args()

    pki = EnclavePki(start=START)
    key = new_key()
    net = Network()
    n, rounds = args.receipts, args.rounds
    progress(f"signing {3 * n * rounds:,} records (gateway responses: RSA-2048)")
    cases: dict[str, list[list[dict[str, Any]]]] = {
        "ed25519 co-signed": [_receipts(net, 10 * n * r, n, True) for r in range(rounds)],
        "ed25519": [_receipts(net, 10 * n * r + 2 * n, n, False) for r in range(rounds)],
        "gateway": [_gateway_lines(key, 10 * n * r + 4 * n, n) for r in range(rounds)],
    }
    warmup = _receipts(net, 10 * n * rounds, n, True)
    der = key_der(key)
    enclave = builder.enclave(
        net.node, pki.document(at=DOC_AT, user_data=nitriding_user_data(der)), der, REGISTERED
    )
    extra_keys = [key_der(new_key()) for _ in range(args.enclaves)]
    registrations = [
        builder.enclave(
            net.node2, pki.document(at=DOC_AT, user_data=nitriding_user_data(k)), k, REGISTERED
        )
        for k in extra_keys
    ]

    with tempfile.TemporaryDirectory() as tmp:
        roots = Path(tmp) / "roots.pem"
        roots.write_bytes(pki.root_pem())
        settings = Settings(tee_roots=roots, snapshot_refresh=0)
        now = T0 + 30 * 86_400_000
        with (
            EmbeddedArcadeDB(Path(tmp) / "data", heap=args.heap) as server,
            GraphStore(server.endpoint) as store,
            running_services(settings, store=store, clock=lambda: now) as services,
        ):
            jvm = find_jvm(Path(tmp) / "data" / "arcadedb")
            setup = [*net.basics(), net.model(GATEWAY_MODEL), enclave]
            assert all(r.reason is None for r in services.ingestor.submit(setup))
            progress(f"warm-up: {n:,} receipts")
            _timed(services, warmup, args.batch, jvm)

            rows = []
            for r in range(rounds):
                for name, slices in cases.items():
                    settle(jvm)
                    used = _timed(services, slices[r], args.batch, jvm)
                    rows.append(
                        [
                            name,
                            r + 1,
                            f"{n / used.wall:,.0f}",
                            f"{1e6 * used.client / n:,.0f}",
                            f"{1e6 * used.jvm / n:,.0f}",
                            f"{used.percent(used.others):.0f} %",
                        ]
                    )
                    progress(f"round {r + 1} {name}: {n / used.wall:,.0f}/s")
            table(
                ["case", "round", "records/s", "graphsvc CPU µs/record", "JVM CPU µs/record",
                 "other jobs"],
                rows,
            )  # fmt: skip

            checks = []
            for record in registrations:
                started = time.perf_counter()
                validate_record(record, now_ms=now, roots=settings.trusted_roots())
                checks.append(time.perf_counter() - started)
            settle(jvm)
            started = time.perf_counter()
            for record in registrations:
                [result] = services.ingestor.submit([record])
                assert result.reason is None, result.reason
            each = (time.perf_counter() - started) / len(registrations)
            table(
                ["enclave registration", "ms"],
                [
                    ["stateless check (chain, ES384, binding), median",
                     f"{1e3 * statistics.median(checks):.2f}"],
                    ["ingested alone (check, resolve, one transaction)", f"{1e3 * each:.2f}"],
                ],
            )  # fmt: skip


if __name__ == "__main__":
    main()
