"""Ingest benchmark (DESIGN §6): signed receipts per second into the embedded store.

Usage::

    .venv/bin/python bench/ingest.py [--receipts 20000] [--batch 1000] [--seed 7]
                                     [--naive-receipts 2000] [--http] [--heap 1g]

Signed records are made before anything is timed: registrations and model records,
receipts signed by nodes (most co-signed by a requester, a proof mix of tee, zk and
none, some re-executions of an earlier output by another node), attestations of some
receipts (a few invalid) and a few disputes. Then a fresh embedded ArcadeDB (production
mode, WAL flushed at every commit) is started in a temporary directory and, in one run:

- ``naive``: one statement per record in its own transaction, each record still checked
  with ``validate_record``: the same verification, a plain storage strategy. It runs
  first, on records of other identities, so graphsvc's run does not start on an empty
  store while the baseline's does;
- ``graphsvc``: ``Ingestor.submit`` in batches of ``--batch``: validate, resolve against
  the store, one transaction, answer per record. Timed from the first submit to the last
  answer (the answer comes after the commit);
- ``http`` (with ``--http``): the same kind of stream as NDJSON ``POST /records``
  through uvicorn on 127.0.0.1, answered line by line.

Receipts/s counts receipts only; the attestations and disputes in the stream are
ingested in the same time (they are about 6 % of the records). Then a breakdown of one
more graphsvc run: validation cost per record, the resolution reads and each write
statement of the batches, and the commits.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import neo4j

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from graphsvc.domain import EntityKind, FaultParty, ProofType, RecordType, Verdict
from graphsvc.records import builder, record_id, validate_record
from graphsvc.records.builder import Actor, sha256_hex
from graphsvc.service import evidence_rules
from graphsvc.settings import Settings
from graphsvc.store import cypher
from graphsvc.store.embedded import EmbeddedArcadeDB
from graphsvc.store.graph_store import GraphStore, Row, Statement
from graphsvc.store.ingest import Ingestor
from graphsvc.store.resolution import RecordStatus, stored_record

DAY_MS = 86_400_000
NOW_MS = 1_790_000_000_000  # the server clock of the run (2026-09); every ts is before it
Record = dict[str, Any]


# ---------------------------------------------------------------- the signed records


@dataclass
class World:
    """Records of one network: ``setup`` (identities, models) then the timed ``stream``."""

    setup: list[Record] = field(default_factory=list)
    stream: list[Record] = field(default_factory=list)

    @property
    def receipts(self) -> int:
        return sum(1 for r in self.stream if r["type"] == RecordType.RECEIPT.value)


def make_world(receipts: int, seed: int, secret: str) -> World:
    """A seeded network with ``receipts`` receipts; ``secret`` keeps identities apart."""
    rng = random.Random(f"{seed}/{secret}")

    def actors(kind: EntityKind, count: int) -> list[Actor]:
        return [Actor.derived(f"{kind}-{i}", kind, secret) for i in range(count)]

    providers = actors(EntityKind.PROVIDER, 8)
    nodes = actors(EntityKind.NODE, 60)
    witnesses = actors(EntityKind.WITNESS, 6)
    requesters = actors(EntityKind.REQUESTER, 800)
    world = World()
    start = NOW_MS - 30 * DAY_MS
    world.setup += [builder.register(a, start) for a in (*providers, *nodes, *witnesses)]
    world.setup += [builder.register(a, start) for a in requesters]
    models = [f"{secret}-{providers[i % len(providers)].name}/model-{i}@1" for i in range(24)]
    world.setup += [
        builder.publish_model(providers[i % len(providers)], name, sha256_hex(name), start + 1)
        for i, name in enumerate(models)
    ]

    # Heavy-tailed popularity, like real traffic: a few models, nodes and requesters
    # carry most receipts (so evidence sums repeat within a batch, as they would).
    model_w = [1 / (i + 1) for i in range(len(models))]
    node_w = [1 / (i + 1) ** 0.7 for i in range(len(nodes))]
    requester_w = [1 / (i + 1) ** 0.8 for i in range(len(requesters))]
    proofs = [ProofType.TEE, ProofType.ZK, ProofType.NONE]
    proof_w = [0.55, 0.15, 0.30]

    stream: list[Record] = []
    pending: list[tuple[int, Record]] = []  # (position to emit at, record)
    made: list[tuple[Record, str]] = []  # (receipt, its output hash)
    span = 29 * DAY_MS
    for n in range(receipts):
        ts = start + DAY_MS + span * n // max(receipts, 1) + rng.randrange(1000)
        node = rng.choices(nodes, node_w)[0]
        if made and rng.random() < 0.08:  # a re-execution: same model, input and output
            earlier, output = made[rng.randrange(len(made))]
            model, input_hash = earlier["model"], earlier["input_hash"]
        else:
            model = rng.choices(models, model_w)[0]
            input_hash, output = sha256_hex(f"{secret}/in/{n}"), sha256_hex(f"{secret}/out/{n}")
        proof = rng.choices(proofs, proof_w)[0]
        measurement = f"mrenclave:{rng.getrandbits(128):032x}" if proof is ProofType.TEE else None
        requester = rng.choices(requesters, requester_w)[0] if rng.random() < 0.85 else None
        receipt = builder.receipt(
            node,
            model,
            input_hash,
            output,
            ts,
            proof=proof,
            measurement=measurement,
            requester=requester,
        )
        stream.append(receipt)
        made.append((receipt, output))
        rid = record_id(receipt)
        if rng.random() < 0.05:  # a witness re-checks it, a while later in the stream
            invalid = rng.random() < 0.1
            fault = rng.choice([FaultParty.NODE, FaultParty.MODEL]) if invalid else None
            verdict = Verdict.INVALID if invalid else Verdict.VALID
            witness = rng.choice(witnesses)
            att = builder.attestation(witness, rid, verdict, ts + 60_000, fault=fault)
            pending.append((len(stream) + rng.randrange(50, 1500), att))
        if requester is not None and rng.random() < 0.005:
            dispute = builder.dispute(requester, rid, "output does not match", ts + 120_000)
            pending.append((len(stream) + rng.randrange(50, 1500), dispute))
        due = [p for p in pending if p[0] <= len(stream)]
        pending = [p for p in pending if p[0] > len(stream)]
        stream.extend(record for _, record in due)
    stream.extend(record for _, record in pending)
    world.stream = stream
    return world


# ---------------------------------------------------------------- timing helpers


def _statement_names() -> dict[str, str]:
    names = {v: k for k, v in vars(cypher).items() if isinstance(v, str) and k.isupper()}
    for kind, query in cypher.CREATE_ENTITIES.items():
        names[query] = f"CREATE_ENTITIES[{kind}]"
    return names


class TimingStore(GraphStore):
    """A GraphStore that also adds up the time of each statement and commit."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.seconds: dict[str, float] = defaultdict(float)
        self.rows: dict[str, int] = defaultdict(int)
        self.calls: dict[str, int] = defaultdict(int)
        self._names = _statement_names()

    def _add(self, name: str, seconds: float, rows: int = 0) -> None:
        self.seconds[name] += seconds
        self.rows[name] += rows
        self.calls[name] += 1

    def read_many(self, statements: Sequence[Statement]) -> list[list[Row]]:
        started = time.perf_counter()
        out = super().read_many(statements)
        self._add("resolution reads (1 read tx)", time.perf_counter() - started)
        return out

    def write(self, statements: Iterable[Statement]) -> list[list[Row]]:
        batch = list(statements)
        inside = 0.0

        def work(tx: neo4j.ManagedTransaction) -> list[list[Row]]:
            nonlocal inside
            out = []
            for s in batch:
                rows = s.params.get("rows")
                if isinstance(rows, list) and not rows:
                    out.append([])
                    continue
                started = time.perf_counter()
                out.append([r.data() for r in tx.run(s.query, dict(s.params))])
                spent = time.perf_counter() - started
                inside += spent
                count = len(rows) if isinstance(rows, list) else 1
                self._add(self._names.get(s.query, s.query[:40]), spent, count)
            return out

        started = time.perf_counter()
        with self._session() as session:
            result = session.execute_write(work)
        self._add("begin + commit (WAL flush)", time.perf_counter() - started - inside)
        return result


# ---------------------------------------------------------------- the cases


def make_ingestor(store: GraphStore, world: World) -> Ingestor:
    """An ingestor on ``store`` with ``world``'s identities and models already ingested."""
    ingestor = Ingestor(store, evidence_rules(Settings()), clock=lambda: NOW_MS)
    _check(ingestor.submit(world.setup), len(world.setup))
    return ingestor


def run_graphsvc(ingestor: Ingestor, world: World, batch: int) -> tuple[float, dict[str, int]]:
    counts: dict[str, int] = defaultdict(int)
    started = time.perf_counter()
    for first in range(0, len(world.stream), batch):
        for result in ingestor.submit(world.stream[first : first + batch]):
            counts[str(result.status)] += 1
    return time.perf_counter() - started, dict(counts)


def _check(results: Sequence[Any], expected: int) -> None:
    accepted = sum(1 for r in results if r.status is RecordStatus.ACCEPTED)
    if accepted != expected:
        bad = [r for r in results if r.status is not RecordStatus.ACCEPTED][:3]
        raise SystemExit(f"setup records not all accepted: {bad}")


# The baseline's statements: one per record type, each record its own transaction.
# Same nodes, edges and evidence as graphsvc writes, with MERGE where a node may exist.
_LABEL = {kind.value: label for kind, label in cypher.LABELS.items()}
_NAIVE_REGISTER = {
    kind: f"CREATE (e:Entity:{label} {{id: $id, kind: $kind, name: $name, ts: $ts,"
    " record_id: $record_id, record: $record})"
    for kind, label in _LABEL.items()
}
_NAIVE_MODEL = """
MATCH (p:Provider {id: $provider})
CREATE (m:Entity:Model {id: $id, kind: 'model', name: $id, digest: $digest, provider: $provider,
  ts: $ts, record_id: $record_id, record: $record})-[:PUBLISHED_BY]->(p)
"""
_NAIVE_RECEIPT = """
MATCH (n:Node {id: $node}) MATCH (m:Model {id: $model})
MERGE (o:Output {id: $output_hash}) ON CREATE SET o.first_ts = $ts
CREATE (r:Receipt {id: $id, ts: $ts, node: $node, model: $model, requester: $requester,
  input_hash: $input_hash, output_hash: $output_hash, proof_type: $proof_type,
  measurement: $measurement, valid_votes: 0, invalid_votes: 0, contested: false,
  record: $record})-[:FOR_OUTPUT]->(o)
MERGE (o)-[:GENERATED_BY]->(m)
MERGE (o)-[:EXECUTED_ON]->(n)
WITH o, n, m
UNWIND $cosign AS c
MATCH (q:Requester {id: c.requester})
MERGE (q)-[:REQUESTED]->(o)
WITH q, n, m, c
UNWIND [n.id, m.id] AS dst
MERGE (e:Evidence {id: 'cosign|' + q.id + '|' + dst})
ON CREATE SET e.src = q.id, e.dst = dst, e.channel = 'cosign', e.ref_ms = $ts,
  e.amount = c.q, e.count = 1
ON MATCH SET e.amount = e.amount * 2.0 ^ (toFloat(e.ref_ms - $ts) / $half_life_ms) + c.q,
  e.ref_ms = $ts, e.count = e.count + 1
"""
_NAIVE_ATTESTATION = """
MATCH (r:Receipt {id: $receipt}) MATCH (w:Witness {id: $witness})
CREATE (w)-[:ATTESTED]->(a:Attestation {id: $id, ts: $ts, witness: $witness,
  receipt: $receipt, vote: $vote, verdict: $verdict, fault: $fault, record: $record})
  -[:ATTESTS]->(r)
SET r.valid_votes = r.valid_votes + $valid, r.invalid_votes = r.invalid_votes + 1 - $valid
SET r.contested = (r.valid_votes > 0 AND r.invalid_votes > 0)
"""
_NAIVE_DISPUTE = """
MATCH (r:Receipt {id: $receipt}) MATCH (q:Requester {id: $requester})
CREATE (q)-[:FILED]->(d:Dispute {id: $id, ts: $ts, requester: $requester, receipt: $receipt,
  claim: $claim, reason: $reason, record: $record})-[:DISPUTES]->(r)
"""


def _naive_statement(raw: Record) -> tuple[str, dict[str, Any]]:
    record = validate_record(raw, now_ms=NOW_MS)
    body, stored = record.body, stored_record(record)
    base = {"id": record.id, "ts": record.ts, "record_id": record.id, "record": stored}
    if record.type is RecordType.REGISTER:
        kind = body["kind"]
        return _NAIVE_REGISTER[kind], {**base, "kind": kind, "name": body["name"]}
    if record.type is RecordType.MODEL:
        model = {"id": body["model"], "digest": body["digest"], "provider": record.signer}
        return _NAIVE_MODEL, {**base, **model}
    if record.type is RecordType.RECEIPT:
        rules = evidence_rules(Settings())
        requester = body.get("requester")
        weight = rules.proof_weights[ProofType(body["proof"]["type"])]
        return _NAIVE_RECEIPT, {
            **base,
            "node": record.signer,
            "model": body["model"],
            "requester": requester,
            "input_hash": body["input_hash"],
            "output_hash": body["output_hash"],
            "proof_type": body["proof"]["type"],
            "measurement": body["proof"].get("measurement"),
            "cosign": [] if requester is None else [{"requester": requester, "q": weight}],
            "half_life_ms": float(rules.half_life_ms),
        }
    if record.type is RecordType.ATTESTATION:
        return _NAIVE_ATTESTATION, {
            **base,
            "witness": record.signer,
            "receipt": body["receipt"],
            "vote": f"{record.signer}|{body['receipt']}",
            "verdict": body["verdict"],
            "fault": body.get("fault"),
            "valid": int(body["verdict"] == Verdict.VALID.value),
        }
    return _NAIVE_DISPUTE, {
        **base,
        "requester": record.signer,
        "receipt": body["receipt"],
        "claim": f"{record.signer}|{body['receipt']}",
        "reason": body["reason"],
    }


def run_naive(store: GraphStore, world: World) -> float:
    """Each record validated, then written by one statement in its own transaction."""
    for raw in world.setup:
        query, params = _naive_statement(raw)
        store.write([Statement(query, params)])
    started = time.perf_counter()
    for raw in world.stream:
        query, params = _naive_statement(raw)
        store.write([Statement(query, params)])
    return time.perf_counter() - started


def run_http(store: GraphStore, world: World, batch: int, body_records: int) -> float:
    """POST the stream as NDJSON bodies of ``body_records`` lines; time to last answer."""
    import httpx
    import uvicorn

    from graphsvc.api.app import create_app
    from graphsvc.api.context import Services

    settings = Settings()
    ingestor = Ingestor(store, evidence_rules(settings), clock=lambda: NOW_MS)
    app = create_app(Services(settings=settings, store=store, ingestor=ingestor))
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    url = f"http://127.0.0.1:{port}/records"

    def post(records: list[Record]) -> dict[str, int]:
        body = "".join(json.dumps(r) + "\n" for r in records).encode()
        response = client.post(url, content=body, headers={"content-type": "application/x-ndjson"})
        response.raise_for_status()
        summary: dict[str, int] = json.loads(response.text.rstrip("\n").rsplit("\n", 1)[-1])[
            "summary"
        ]
        return summary

    try:
        with httpx.Client(timeout=600) as client:
            post(world.setup)
            started = time.perf_counter()
            for first in range(0, len(world.stream), body_records):
                summary = post(world.stream[first : first + body_records])
                if summary["rejected"]:
                    raise SystemExit(f"http ingest rejected records: {summary}")
            return time.perf_counter() - started
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def validation_cost(world: World) -> dict[str, float]:
    """Microseconds per record of validate_record alone, by record type."""
    spent: dict[str, float] = defaultdict(float)
    count: dict[str, int] = defaultdict(int)
    for raw in world.stream:
        started = time.perf_counter()
        validate_record(raw, now_ms=NOW_MS)
        spent[raw["type"]] += time.perf_counter() - started
        count[raw["type"]] += 1
    return {kind: spent[kind] / count[kind] * 1e6 for kind in spent}


# ---------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--receipts", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=1_000, help="records per submit")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--naive-receipts",
        type=int,
        default=2_000,
        help="receipts for the naive baseline (one transaction each: slow); 0 skips it",
    )
    parser.add_argument("--http", action="store_true", help="also POST /records via uvicorn")
    parser.add_argument("--heap", default="1g", help="embedded JVM heap")
    args = parser.parse_args()

    started = time.perf_counter()
    world = make_world(args.receipts, args.seed, "graphsvc")
    naive = make_world(args.naive_receipts, args.seed, "naive") if args.naive_receipts else None
    http = make_world(args.receipts, args.seed, "http") if args.http else None
    profiled = make_world(min(args.receipts, 10_000), args.seed, "profile")
    print(
        f"made {len(world.setup)} setup + {len(world.stream)} stream records "
        f"({world.receipts} receipts) in {time.perf_counter() - started:.1f} s",
        flush=True,
    )

    results: list[tuple[str, int, int, float]] = []  # case, receipts, records, seconds
    with tempfile.TemporaryDirectory(prefix="graphsvc-bench-") as tmp:
        server = EmbeddedArcadeDB(Path(tmp) / "data", heap=args.heap)
        with server, TimingStore(server.endpoint) as store:
            store.apply_schema()
            if naive is not None:
                seconds = run_naive(store, naive)
                results.append(("naive", naive.receipts, len(naive.stream), seconds))
                print(f"naive: {naive.receipts / seconds:,.0f} receipts/s", flush=True)
            seconds, counts = run_graphsvc(make_ingestor(store, world), world, args.batch)
            if counts.get("accepted") != len(world.stream):
                raise SystemExit(f"graphsvc did not accept every record: {counts}")
            results.append(("graphsvc", world.receipts, len(world.stream), seconds))
            print(f"graphsvc: {world.receipts / seconds:,.0f} receipts/s", flush=True)
            if http is not None:
                seconds = run_http(store, http, args.batch, 10_000)
                results.append(("http", http.receipts, len(http.stream), seconds))
                print(f"http: {http.receipts / seconds:,.0f} receipts/s", flush=True)
            # Breakdown on a further run, so the timing hooks cost the headline nothing.
            ingestor = make_ingestor(store, profiled)
            store.seconds.clear(), store.rows.clear(), store.calls.clear()
            profile_seconds, _ = run_graphsvc(ingestor, profiled, args.batch)
            breakdown = (dict(store.seconds), dict(store.rows), dict(store.calls))
    _print_results(args, results)
    _print_breakdown(profiled, profile_seconds, breakdown, validation_cost(profiled))


def _print_results(args: argparse.Namespace, results: list[tuple[str, int, int, float]]) -> None:
    base = next((r[1] / r[3] for r in results if r[0] == "naive"), None)
    print()
    print(f"receipts={args.receipts} batch={args.batch} seed={args.seed}")
    print("| case | receipts | records | seconds | receipts/s | records/s | vs naive |")
    print("|---|---|---|---|---|---|---|")
    for case, receipts, records, seconds in results:
        ratio = f"{receipts / seconds / base:.1f}x" if base else "n/a"
        print(
            f"| {case} | {receipts:,} | {records:,} | {seconds:.2f} | "
            f"{receipts / seconds:,.0f} | {records / seconds:,.0f} | {ratio} |"
        )


def _print_breakdown(
    world: World,
    seconds: float,
    breakdown: tuple[dict[str, float], dict[str, int], dict[str, int]],
    validation: dict[str, float],
) -> None:
    spent, rows, calls = breakdown
    records = len(world.stream)
    print()
    print(
        f"breakdown of a further run: {world.receipts:,} receipts, {records:,} records, "
        f"{seconds:.2f} s ({world.receipts / seconds:,.0f} receipts/s)"
    )
    print("| part | total s | share of wall | µs/record | calls | rows |")
    print("|---|---|---|---|---|---|")
    for kind, micros in sorted(validation.items()):
        print(f"| validate_record: {kind} (alone, one thread) | | | {micros:.1f} | | |")
    for name, total in sorted(spent.items(), key=lambda item: -item[1]):
        print(
            f"| {name} | {total:.3f} | {total / seconds:.1%} | {total / records * 1e6:.1f} | "
            f"{calls[name]} | {rows.get(name, 0):,} |"
        )
    accounted = sum(spent.values())
    rest = seconds - accounted
    print(f"| rest (Python: validation, resolution, driver) | {rest:.3f} | {rest / seconds:.1%} "
          f"| {rest / records * 1e6:.1f} | | |")


if __name__ == "__main__":
    main()
