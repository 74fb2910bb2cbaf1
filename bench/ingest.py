"""Ingest benchmark (DESIGN §6): signed receipts per second into the embedded store.

Usage::

    .venv/bin/python bench/ingest.py [--receipts 20000] [--batch 1000] [--seed 7]
        [--naive-receipts 2000] [--warmup 20000] [--http] [--degree 20000] [--heap 1g]

Signed records are made before anything is timed: registrations and model records,
receipts signed by nodes (85 % co-signed by a requester, proofs 55 % tee / 15 % zk /
30 % none, 8 % re-executions of an earlier output by another node), attestations of
5 % of the receipts (10 % of them invalid) and a few disputes, later in the stream. Then a
fresh embedded ArcadeDB (production mode, WAL flushed at every commit) is started in a
temporary directory, ``--warmup`` receipts are ingested untimed (the JVM's JIT compiles
for tens of seconds: a running server is warm), and in the same run, each case on
identities of its own (so nothing is a duplicate of another case's records):

- ``naive``: one statement per record in its own transaction, each record still checked
  with ``validate_record``: the same verification, a plain storage strategy;
- ``submit``: ``Ingestor.submit`` in batches of ``--batch``: validate, resolve against the
  store, one transaction, answer per record (answered after the commit);
- ``submit_many``: ``Ingestor.submit_many`` over the same batches: the same per-batch
  transactions and answers, with the next batch's signatures checked meanwhile;
- ``http`` (with ``--http``): NDJSON ``POST /records`` through uvicorn on 127.0.0.1 in
  bodies of 10,000 lines, every answer line read.

Receipts/s counts receipts only; the attestations and disputes in the stream (about 5 %
of the records) are ingested in the same time. CPU columns are this process (client and
graphsvc) and the JVM, per receipt: the machine has 2 cores, so their sum bounds the
rate whatever the overlap. Then a breakdown of a further ``submit`` run (validation cost
per record, the resolution reads, each write statement, the commits), and the cost of a
new REQUESTED edge for a requester with ``--degree`` outputs, written as before and now.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
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
            out: list[list[Row]] = []
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


@dataclass
class Outcome:
    """One timed case: wall time and the CPU both processes spent in it."""

    case: str
    receipts: int
    records: int
    seconds: float
    python_cpu: float  # this process, all threads
    jvm_cpu: float  # the ArcadeDB server, all threads


class Meter:
    """Wall clock plus CPU time of this process and of the JVM (from /proc)."""

    def __init__(self, jvm_pid: int) -> None:
        self._stat = Path(f"/proc/{jvm_pid}/stat")
        self._tick = os.sysconf("SC_CLK_TCK")

    def _jvm(self) -> float:
        fields = self._stat.read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / self._tick  # utime + stime

    def run(self, case: str, world: World, work: Callable[[], None]) -> Outcome:
        wall, cpu, jvm = time.perf_counter(), time.process_time(), self._jvm()
        work()
        return Outcome(
            case,
            world.receipts,
            len(world.stream),
            time.perf_counter() - wall,
            time.process_time() - cpu,
            self._jvm() - jvm,
        )


def make_ingestor(store: GraphStore, world: World) -> Ingestor:
    """An ingestor on ``store`` with ``world``'s identities and models already ingested."""
    ingestor = Ingestor(store, evidence_rules(Settings()), clock=lambda: NOW_MS)
    _expect_accepted(ingestor.submit(world.setup), len(world.setup))
    return ingestor


def _batches(world: World, batch: int) -> list[list[Record]]:
    return [world.stream[first : first + batch] for first in range(0, len(world.stream), batch)]


def run_submit(ingestor: Ingestor, world: World, batch: int) -> None:
    """``Ingestor.submit`` batch after batch: check, resolve, write, answer, repeat."""
    results = [r for b in _batches(world, batch) for r in ingestor.submit(b)]
    _expect_accepted(results, len(world.stream))


def run_submit_many(ingestor: Ingestor, world: World, batch: int) -> None:
    """``Ingestor.submit_many``: the next batch is checked while one is written."""
    results = [r for rs in ingestor.submit_many(_batches(world, batch)) for r in rs]
    _expect_accepted(results, len(world.stream))


def _expect_accepted(results: Sequence[Any], expected: int) -> None:
    accepted = sum(1 for r in results if r.status is RecordStatus.ACCEPTED)
    if accepted != expected:
        bad = [r for r in results if r.status is not RecordStatus.ACCEPTED][:3]
        raise SystemExit(f"{expected - accepted} records not accepted, e.g. {bad}")


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


def naive_setup(store: GraphStore, world: World) -> None:
    for raw in world.setup:
        query, params = _naive_statement(raw)
        store.write([Statement(query, params)])


def run_naive(store: GraphStore, world: World) -> None:
    """Each record validated, then written by one statement in its own transaction."""
    for raw in world.stream:
        query, params = _naive_statement(raw)
        store.write([Statement(query, params)])


class HttpServer:
    """graphsvc's ASGI app under uvicorn on 127.0.0.1, in a thread of this process."""

    def __init__(self, store: GraphStore) -> None:
        import uvicorn

        from graphsvc.api.app import create_app
        from graphsvc.api.context import Services
        from graphsvc.reputation import ReputationService

        settings = Settings()
        ingestor = Ingestor(store, evidence_rules(settings), clock=lambda: NOW_MS)
        reputation = ReputationService(store, settings.scoring, clock=lambda: NOW_MS)
        services = Services(
            settings=settings, store=store, ingestor=ingestor, reputation=reputation
        )
        app = create_app(services)
        config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    def __enter__(self) -> str:
        self._thread.start()
        deadline = time.monotonic() + 30
        while not self._server.started:
            if time.monotonic() > deadline:
                raise SystemExit("uvicorn did not start")
            time.sleep(0.05)
        port = self._server.servers[0].sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}/records"

    def __exit__(self, *exc: object) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)


def post_ndjson(url: str, records: list[Record], body_records: int) -> None:
    """POST ``records`` as NDJSON bodies of ``body_records`` lines; read every answer."""
    import httpx2 as httpx

    with httpx.Client(timeout=600) as client:
        for first in range(0, len(records), body_records):
            lines = records[first : first + body_records]
            body = "".join(json.dumps(r) + "\n" for r in lines).encode()
            response = client.post(
                url, content=body, headers={"content-type": "application/x-ndjson"}
            )
            response.raise_for_status()
            summary = json.loads(response.text.rstrip("\n").rsplit("\n", 1)[-1])["summary"]
            if summary["accepted"] != len(lines):
                raise SystemExit(f"http ingest did not accept every record: {summary}")


# How LINK_REQUESTER_OUTPUT was written before: a MERGE starting at the requester, which
# ArcadeDB checks by walking all of the requester's REQUESTED edges.
_REQUESTER_FIRST_MERGE = """
UNWIND $rows AS row
MATCH (o:Output {id: row.output}) MATCH (q:Requester {id: row.requester})
MERGE (q)-[:REQUESTED]->(o)
"""


def requester_degree_case(store: GraphStore, degree: int, rows: int = 1_000) -> list[str]:
    """µs per new REQUESTED edge for a requester that already has ``degree`` outputs."""
    requester = "ed25519:degree-probe"
    store.write(
        [Statement("CREATE (:Entity:Requester {id: $id, kind: 'requester'})", {"id": requester})]
    )
    outputs = [f"sha256:degree-probe-{n}" for n in range(degree + 2 * rows)]
    store.write(
        [
            Statement("UNWIND $rows AS id CREATE (:Output {id: id})", {"rows": outputs}),
            Statement(
                "MATCH (q:Requester {id: $q}) UNWIND $rows AS id MATCH (o:Output {id: id}) "
                "CREATE (q)-[:REQUESTED]->(o)",
                {"q": requester, "rows": outputs[:degree]},
            ),
        ]
    )
    lines = []
    for label, query, chunk in (
        ("requester-first MERGE (before)", _REQUESTER_FIRST_MERGE, outputs[degree : degree + rows]),
        (
            "LINK_REQUESTER_OUTPUT (Output-first)",
            cypher.LINK_REQUESTER_OUTPUT,
            outputs[degree + rows :],
        ),
    ):
        params = {"rows": [{"output": o, "requester": requester} for o in chunk]}
        started = time.perf_counter()
        store.write([Statement(query, params)])
        micros = (time.perf_counter() - started) / rows * 1e6
        lines.append(f"| {label} | {degree:,} | {micros:,.0f} |")
    return lines


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
    parser.add_argument(
        "--warmup", type=int, default=20_000, help="receipts ingested first, untimed (JIT)"
    )
    parser.add_argument("--http", action="store_true", help="also POST /records via uvicorn")
    parser.add_argument("--heap", default="1g", help="embedded JVM heap")
    parser.add_argument(
        "--degree",
        type=int,
        default=20_000,
        help="outputs of one requester for the REQUESTED-edge MERGE check; 0 skips it",
    )
    args = parser.parse_args()

    started = time.perf_counter()
    worlds = {
        "warmup": make_world(args.warmup, args.seed, "warmup"),
        "naive": make_world(args.naive_receipts, args.seed, "naive"),
        "submit": make_world(args.receipts, args.seed, "submit"),
        "submit_many": make_world(args.receipts, args.seed, "pipelined"),
        "http": make_world(args.receipts if args.http else 0, args.seed, "http"),
        "profile": make_world(min(args.receipts, 10_000), args.seed, "profile"),
    }
    print(
        f"signed {sum(len(w.setup) + len(w.stream) for w in worlds.values()):,} records "
        f"in {time.perf_counter() - started:.1f} s (untimed)",
        flush=True,
    )
    load_before = os.getloadavg()[0]
    outcomes: list[Outcome] = []
    with (
        tempfile.TemporaryDirectory(prefix="graphsvc-bench-") as tmp,
        contextlib.ExitStack() as stack,
    ):
        server = EmbeddedArcadeDB(Path(tmp) / "data", heap=args.heap)
        with server:
            store = TimingStore(server.endpoint)
            stack.callback(store.close)
            store.apply_schema()
            assert server.pid is not None
            meter = Meter(server.pid)

            def case(name: str, work: Callable[[], None]) -> None:
                outcome = meter.run(name, worlds[name], work)
                outcomes.append(outcome)
                rate = outcome.receipts / outcome.seconds
                print(f"{name}: {rate:,.0f} receipts/s", flush=True)

            # Every case has its own identities, so nothing is a duplicate of another's.
            run_submit(make_ingestor(store, worlds["warmup"]), worlds["warmup"], args.batch)
            if args.naive_receipts:
                naive_setup(store, worlds["naive"])
                case("naive", lambda: run_naive(store, worlds["naive"]))
            ingestor = make_ingestor(store, worlds["submit"])
            case("submit", lambda: run_submit(ingestor, worlds["submit"], args.batch))
            if hasattr(Ingestor, "submit_many"):  # absent before it was added
                pipelined = make_ingestor(store, worlds["submit_many"])
                case(
                    "submit_many",
                    lambda: run_submit_many(pipelined, worlds["submit_many"], args.batch),
                )
            if args.http:
                with HttpServer(store) as url:
                    post_ndjson(url, worlds["http"].setup, 10_000)
                    case("http", lambda: post_ndjson(url, worlds["http"].stream, 10_000))
            # The breakdown is a further run, so the timing hooks cost the headline nothing.
            profiled = make_ingestor(store, worlds["profile"])
            for tally in (store.seconds, store.rows, store.calls):
                tally.clear()
            profile = meter.run(
                "profile",
                worlds["profile"],
                lambda: run_submit(profiled, worlds["profile"], args.batch),
            )
            breakdown = (dict(store.seconds), dict(store.rows), dict(store.calls))
            degree_lines = requester_degree_case(store, args.degree) if args.degree else []
    load_after = os.getloadavg()[0]
    print()
    print(
        f"receipts={args.receipts} batch={args.batch} seed={args.seed} warmup={args.warmup}; "
        f"load average {load_before:.2f} before, {load_after:.2f} after (2 cores)"
    )
    _print_results(outcomes)
    _print_breakdown(worlds["profile"], profile, breakdown, validation_cost(worlds["profile"]))
    if degree_lines:
        print()
        print("| REQUESTED edge MERGE | requester's outputs before | µs per new edge |")
        print("|---|---|---|")
        print("\n".join(degree_lines))


def _print_results(outcomes: list[Outcome]) -> None:
    base = next((o.receipts / o.seconds for o in outcomes if o.case == "naive"), None)
    print(
        "| case | receipts | records | seconds | receipts/s | vs naive "
        "| Python CPU µs/receipt | JVM CPU µs/receipt |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for o in outcomes:
        rate = o.receipts / o.seconds
        ratio = f"{rate / base:.1f}x" if base else "n/a"
        print(
            f"| {o.case} | {o.receipts:,} | {o.records:,} | {o.seconds:.2f} | {rate:,.0f} "
            f"| {ratio} | {o.python_cpu / o.receipts * 1e6:.0f} "
            f"| {o.jvm_cpu / o.receipts * 1e6:.0f} |"
        )


def _print_breakdown(
    world: World,
    outcome: Outcome,
    breakdown: tuple[dict[str, float], dict[str, int], dict[str, int]],
    validation: dict[str, float],
) -> None:
    spent, rows, calls = breakdown
    seconds, records = outcome.seconds, len(world.stream)
    print()
    print(
        f"breakdown (submit, a further run): {world.receipts:,} receipts, {records:,} records, "
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
    rest = seconds - sum(spent.values())
    print(
        f"| rest (Python: validation, resolution, driver) | {rest:.3f} | {rest / seconds:.1%} "
        f"| {rest / records * 1e6:.1f} | | |"
    )


if __name__ == "__main__":
    main()
