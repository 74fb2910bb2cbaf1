"""Ingest benchmark (bench/RESULTS.md#targets): signed receipts per second into the embedded store.

Usage::

    .venv/bin/python bench/ingest.py [--receipts 20000] [--batch 1000] [--rng-seed 20261101]
        [--naive-receipts 2000] [--warmup 20000] [--http] [--degree 20000] [--heap 1g]
        [--quiet-timeout 60]

The records are the demo network's (``graphsvc.demo``), signed before anything is timed:
one network, its traffic sized to every case's receipts together (its Sybil ring and
disputes scaled with it), so the mix is the demo's: about 93 % of receipts co-signed, 3 %
re-executions, proofs by node capability, about 0.24 attestations and disputes per
receipt. (One network cut into slices, not one per case: model ids are model names,
drawn from a fixed vocabulary, so networks of two seeds publish some of the same models
under other keys, and the second's would be rejected.) Its registrations and models are
ingested first; its stream, in time order, is cut into consecutive slices, one per case,
so no case repeats another's records and each case writes into a store that already
holds the network's history, as a running server does. A fresh embedded ArcadeDB
(production mode, WAL flushed at every commit) runs in a temporary directory;
``--warmup`` receipts are ingested first, untimed (the JVM's JIT compiles for tens of
seconds: a running server is warm), and 500 more by the naive statements before the
naive case. Then, each case after the JVM is idle again and (up to ``--quiet-timeout``
s) other jobs leave the shared machine alone:

- ``naive``: one statement per record in its own transaction, each record still checked
  with ``validate_record``: the same verification, a plain storage strategy;
- ``submit``: ``Ingestor.submit`` in batches of ``--batch``: validate, resolve against the
  store, one transaction, answer per record (answered after the commit);
- ``submit_many``: ``Ingestor.submit_many`` over the same batches: the same per-batch
  transactions and answers, with the next batch's signatures checked meanwhile;
- ``http`` (with ``--http``): NDJSON ``POST /records`` to ``graphsvc serve`` (a
  subprocess on 127.0.0.1 over the same store) in bodies of 10,000 lines, every answer
  line read.

The in-process cases run on the services of ``running_services`` (the server's wiring)
with the clock set just after the network's end. Receipts/s counts receipts only; the
attestations and disputes of a slice are ingested in the same time. CPU columns are per
receipt: this process (graphsvc itself, or the HTTP client), the server process and the
JVM. The machine has 2 cores, so their sum bounds the rate whatever the overlap.

Then a breakdown of a further ``submit`` run: validation cost per record, and each
statement and transaction as the production write path runs it, timed through the
store's observer hook (``GraphStore(endpoint, observer=...)``). Last, the cost of a new
REQUESTED edge for a requester with ``--degree`` outputs, written as before and now.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from harness.accounting import Usage
from harness.load import Http, post, wait_ready
from harness.network import RECEIPT, Raw, cut, receipts_in, scaled_params, setup_and_stream
from harness.processes import add_process_options, server_process, settle, wait_quiet
from harness.report import progress, table

from graphsvc.demo import NetworkParams, generate
from graphsvc.domain import ProofType, RecordType, Verdict
from graphsvc.domain.batch import claim_key, vote_key
from graphsvc.domain.outcomes import RecordResult, RecordStatus
from graphsvc.ingest.ingestor import Ingestor
from graphsvc.ingest.resolution import COSIGN, EvidenceRules, stored_record
from graphsvc.records import validate_record
from graphsvc.services import running_services
from graphsvc.settings import Settings
from graphsvc.store import cypher
from graphsvc.store.embedded import EmbeddedArcadeDB
from graphsvc.store.graph_store import GraphStore, Statement

DAY_MS = 86_400_000
BODY_LINES = 10_000  # NDJSON lines per POST /records
NAIVE_WARMUP = 500  # receipts: the JIT compiles the naive statements' plans first, untimed


# ---------------------------------------------------------------- the naive peer

# One statement per record type, each record its own transaction: the nodes and edges
# graphsvc writes, with MERGE where a node or edge may exist, and the co-signature
# evidence. Edges are merged from the Output's side (ArcadeDB checks a MERGE by walking
# the edges of its first node, and requesters have thousands of outputs); evidence keys
# come as parameters (ArcadeDB does not use the index for a key built in the statement:
# ~4 ms a MERGE once the store holds 10,000 Evidence nodes). Left out: proof counters,
# and the evidence of valid attestations (the record does not name the receipt's node
# and model, so its key would have to be built in the statement).
_NAIVE: dict[str, str] = {
    RECEIPT: """
MATCH (n:Node {id: $signer}) MATCH (m:Model {id: $model})
MERGE (o:Output {id: $output_hash}) ON CREATE SET o.first_ts = $ts
CREATE (r:Receipt {id: $id, ts: $ts, node: $signer, model: $model, requester: $requester,
  input_hash: $input_hash, output_hash: $output_hash, proof_type: $proof_type,
  measurement: $measurement, valid_votes: 0, invalid_votes: 0, contested: false,
  record: $record})-[:FOR_OUTPUT]->(o)
MERGE (o)-[:GENERATED_BY]->(m)
MERGE (o)-[:EXECUTED_ON]->(n)
WITH o
UNWIND $requesters AS requester
MATCH (q:Requester {id: requester})
MERGE (o)<-[:REQUESTED]-(q)
WITH q
UNWIND $evidence AS ev
MERGE (e:Evidence {id: ev.id})
ON CREATE SET e.src = q.id, e.dst = ev.dst, e.channel = $channel, e.ref_ms = $ts,
  e.amount = ev.q, e.count = 1
ON MATCH SET e.amount = e.amount * 2.0 ^ (toFloat(e.ref_ms - $ts) / $half_life_ms) + ev.q,
  e.ref_ms = $ts, e.count = e.count + 1
""",
    RecordType.ATTESTATION.value: """
MATCH (r:Receipt {id: $receipt}) MATCH (w:Witness {id: $signer})
CREATE (w)-[:ATTESTED]->(a:Attestation {id: $id, ts: $ts, witness: $signer,
  receipt: $receipt, vote: $vote, verdict: $verdict, fault: $fault, record: $record})
  -[:ATTESTS]->(r)
SET r.valid_votes = r.valid_votes + $valid, r.invalid_votes = r.invalid_votes + 1 - $valid
SET r.contested = (r.valid_votes > 0 AND r.invalid_votes > 0)
""",
    RecordType.DISPUTE.value: """
MATCH (r:Receipt {id: $receipt}) MATCH (q:Requester {id: $signer})
CREATE (q)-[:FILED]->(d:Dispute {id: $id, ts: $ts, requester: $signer, receipt: $receipt,
  claim: $claim, reason: $reason, record: $record})-[:DISPUTES]->(r)
""",
}
# Fields passed straight from the signed record to the statement.
_BODY_FIELDS = ("model", "requester", "input_hash", "output_hash", "receipt", "reason", "fault")


def naive_statement(raw: Raw, rules: EvidenceRules, now_ms: int) -> Statement:
    """``raw`` validated, then as one plain statement (receipts, attestations, disputes)."""
    record = validate_record(raw, now_ms=now_ms)
    body = record.body
    params: dict[str, Any] = {name: body.get(name) for name in _BODY_FIELDS}
    params |= {"id": record.id, "ts": record.ts, "signer": record.signer}
    params["record"] = stored_record(record)
    if record.type is RecordType.RECEIPT:
        proof, requester = body["proof"], body.get("requester")
        weight = rules.proof_weights[ProofType(proof["type"])]
        params |= {"proof_type": proof["type"], "measurement": proof.get("measurement")}
        params |= {"requesters": [] if requester is None else [requester]}
        params["evidence"] = [
            {"id": f"{COSIGN}|{requester}|{dst}", "dst": dst, "q": weight}
            for dst in (record.signer, body["model"])
            if requester is not None
        ]
        params |= {"channel": COSIGN, "half_life_ms": float(rules.half_life_ms)}
    elif record.type is RecordType.ATTESTATION:
        params |= {"verdict": body["verdict"], "vote": vote_key(record.signer, body["receipt"])}
        params["valid"] = int(body["verdict"] == Verdict.VALID.value)
    else:
        params["claim"] = claim_key(record.signer, body["receipt"])
    return Statement(_NAIVE[record.type.value], params)


def run_naive(store: GraphStore, records: list[Raw], rules: EvidenceRules, now_ms: int) -> None:
    """Each record validated, then written by one statement in its own transaction."""
    for raw in records:
        store.write([naive_statement(raw, rules, now_ms)])


# ---------------------------------------------------------------- graphsvc's paths


def _batches(records: list[Raw], batch: int) -> list[list[Raw]]:
    return [records[first : first + batch] for first in range(0, len(records), batch)]


def expect_accepted(results: Sequence[RecordResult], expected: int) -> None:
    accepted = sum(1 for r in results if r.status is RecordStatus.ACCEPTED)
    if accepted != expected:
        bad = [r for r in results if r.status is not RecordStatus.ACCEPTED][:3]
        raise SystemExit(f"{expected - accepted} records not accepted, e.g. {bad}")


def run_submit(ingestor: Ingestor, records: list[Raw], batch: int) -> None:
    """``Ingestor.submit`` batch after batch: check, resolve, write, answer, repeat."""
    results = [r for b in _batches(records, batch) for r in ingestor.submit(b)]
    expect_accepted(results, len(records))


def run_submit_many(ingestor: Ingestor, records: list[Raw], batch: int) -> None:
    """``Ingestor.submit_many``: the next batch is checked while one is written."""
    results = [r for rs in ingestor.submit_many(_batches(records, batch)) for r in rs]
    expect_accepted(results, len(records))


async def post_ndjson(port: int, records: list[Raw], status: str = "accepted") -> None:
    """POST ``records`` as NDJSON bodies of BODY_LINES lines, reading every answer line;
    each record must come back with ``status``."""
    http = Http(port)
    for first in range(0, len(records), BODY_LINES):
        lines = records[first : first + BODY_LINES]
        body = "".join(json.dumps(r) + "\n" for r in lines).encode()
        code, answer = await http.exchange(post(port, "/records", body, "application/x-ndjson"))
        if code != 200:
            raise SystemExit(f"POST /records answered {code}: {answer[:500]!r}")
        summary = json.loads(answer.rstrip(b"\n").rsplit(b"\n", 1)[-1])["summary"]
        if summary[status] != len(lines):
            raise SystemExit(f"POST /records: {summary}, expected {len(lines)} {status}")
    await http.close()


# ---------------------------------------------------------------- timing


@dataclass(frozen=True)
class Outcome:
    """One timed case: its records, wall time and the CPU each process spent in it."""

    case: str
    receipts: int
    records: int
    usage: Usage


def measure(
    case: str, records: list[Raw], work: Callable[[], None], jvm: int, server: int | None = None
) -> Outcome:
    before = Usage.now(server, jvm)
    work()
    return Outcome(case, receipts_in(records), len(records), Usage.now(server, jvm).since(before))


def statement_names() -> dict[str, str]:
    """Every statement of ``graphsvc.store.cypher`` by its name there."""
    names = {q: name for name, q in vars(cypher).items() if name.isupper() and isinstance(q, str)}
    names |= {q: f"CREATE_ENTITIES[{kind}]" for kind, q in cypher.CREATE_ENTITIES.items()}
    return names


class Tally:
    """A ``StoreObserver``: wall time, runs and rows per statement (those of read
    transactions marked ``read:``), and what each transaction took besides its
    statements (begin, and for writes the commit with its WAL flush)."""

    def __init__(self) -> None:
        self.names = statement_names()
        self.seconds: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)
        self.rows: dict[str, int] = defaultdict(int)
        self._pending: list[tuple[str, int, float]] = []  # the transaction under way

    def clear(self) -> None:
        for tally in (self.seconds, self.calls, self.rows):
            tally.clear()
        self._pending.clear()

    def _add(self, name: str, rows: int, seconds: float) -> None:
        self.seconds[name] += seconds
        self.calls[name] += 1
        self.rows[name] += rows

    def statement(self, query: str, rows: int, seconds: float) -> None:
        name = self.names.get(query) or query.strip().splitlines()[0][:40]
        self._pending.append((name, rows, seconds))

    def transaction(self, *, write: bool, seconds: float) -> None:
        for name, rows, spent in self._pending:
            self._add(name if write else f"read: {name}", rows, spent)
        inside = sum(spent for _, _, spent in self._pending)
        self._pending.clear()
        self._add(
            "write tx: begin + commit" if write else "read tx: begin + end", 0, seconds - inside
        )


def validation_cost(records: list[Raw], now_ms: int) -> dict[str, float]:
    """Microseconds per record of validate_record alone, by record type."""
    spent: dict[str, float] = defaultdict(float)
    count: dict[str, int] = defaultdict(int)
    for raw in records:
        started = time.perf_counter()
        validate_record(raw, now_ms=now_ms)
        spent[raw["type"]] += time.perf_counter() - started
        count[raw["type"]] += 1
    return {kind: spent[kind] / count[kind] * 1e6 for kind in spent}


# How LINK_REQUESTER_OUTPUT was written before: a MERGE starting at the requester, which
# ArcadeDB checks by walking all of the requester's REQUESTED edges.
_REQUESTER_FIRST_MERGE = """
UNWIND $rows AS row
MATCH (o:Output {id: row.output}) MATCH (q:Requester {id: row.requester})
MERGE (q)-[:REQUESTED]->(o)
"""


def requester_degree_case(store: GraphStore, degree: int, rows: int = 1_000) -> list[list[str]]:
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
        ("LINK_REQUESTER_OUTPUT (Output-first)", cypher.LINK_REQUESTER_OUTPUT, outputs[-rows:]),
    ):
        params = {"rows": [{"output": o, "requester": requester} for o in chunk]}
        started = time.perf_counter()
        store.write([Statement(query, params)])
        micros = (time.perf_counter() - started) / rows * 1e6
        lines.append([label, f"{degree:,}", f"{micros:,.0f}"])
    return lines


# ---------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--receipts", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=1_000, help="records per submit")
    parser.add_argument(
        "--rng-seed", type=int, default=NetworkParams().rng_seed, help="the demo network's seed"
    )
    parser.add_argument(
        "--naive-receipts",
        type=int,
        default=2_000,
        help="receipts for the naive baseline (one transaction each: slow); 0 skips it",
    )
    parser.add_argument(
        "--warmup", type=int, default=20_000, help="receipts ingested first, untimed (JIT)"
    )
    parser.add_argument("--http", action="store_true", help="also POST /records to the server")
    parser.add_argument(
        "--degree",
        type=int,
        default=20_000,
        help="outputs of one requester for the REQUESTED-edge MERGE check; 0 skips it",
    )
    add_process_options(parser, quiet_timeout=60.0)
    args = parser.parse_args()

    quotas = {
        "warmup": args.warmup,
        "naive_warmup": NAIVE_WARMUP if args.naive_receipts else 0,
        "naive": args.naive_receipts,
        "submit": args.receipts,
        "submit_many": args.receipts,
        "http": args.receipts if args.http else 0,
        "profile": min(args.receipts, 10_000),
    }
    started = time.perf_counter()
    params = scaled_params(sum(quotas.values()), args.rng_seed)
    network = generate(params)
    setup, stream = setup_and_stream(network.records)
    slices = dict(zip(quotas, cut(stream, list(quotas.values())), strict=True))
    receipts = [r for r in stream if r["type"] == RECEIPT]
    print(
        f"signed {len(network.records):,} records of the demo network (rng_seed "
        f"{params.rng_seed}) in {time.perf_counter() - started:.1f} s (untimed): "
        f"{sum('requester' in r for r in receipts) / len(receipts):.0%} of receipts co-signed, "
        f"{(len(stream) - len(receipts)) / len(receipts):.3f} attestations and disputes per "
        "receipt",
        flush=True,
    )
    now = params.end_ms + DAY_MS
    settings = Settings(score_interval=0)
    rules = EvidenceRules.of(settings.scoring)
    load_before = os.getloadavg()[0]
    outcomes: list[Outcome] = []
    with (
        tempfile.TemporaryDirectory(prefix="graphsvc-bench-") as tmp,
        EmbeddedArcadeDB(Path(tmp) / "data", heap=args.heap) as server,
        GraphStore(server.endpoint) as store,
        running_services(settings, store=store, clock=lambda: now) as services,
    ):
        jvm = server.pid
        assert jvm is not None

        def case(name: str, work: Callable[[], None], server_pid: int | None = None) -> None:
            settle(jvm, deadline=60)
            wait_quiet(server_pid, jvm, args.quiet_timeout)
            outcome = measure(name, slices[name], work, jvm, server_pid)
            outcomes.append(outcome)
            progress(f"{name}: {outcome.receipts / outcome.usage.wall:,.0f} receipts/s")

        expect_accepted(services.ingestor.submit(setup), len(setup))
        run_submit(services.ingestor, slices["warmup"], args.batch)
        if args.naive_receipts:
            run_naive(store, slices["naive_warmup"], rules, now)
            case("naive", lambda: run_naive(store, slices["naive"], rules, now))
        case("submit", lambda: run_submit(services.ingestor, slices["submit"], args.batch))
        case(
            "submit_many",
            lambda: run_submit_many(services.ingestor, slices["submit_many"], args.batch),
        )
        if args.http:
            with server_process(server.endpoint, Path(tmp)) as served:

                async def warm() -> None:  # readiness, then imports and caches (duplicates)
                    await wait_ready(Http(served.port), served)
                    await post_ndjson(served.port, setup, status="duplicate")

                def post_slice() -> None:
                    asyncio.run(post_ndjson(served.port, slices["http"]))

                asyncio.run(warm())
                case("http", post_slice, served.pid)
        # The breakdown is a further run on a store with the observer, so the headline
        # cases ran on the production path without it.
        tally = Tally()
        with (
            GraphStore(server.endpoint, observer=tally) as observed,
            running_services(settings, store=observed, clock=lambda: now) as profiled,
        ):
            tally.clear()  # the reads of running_services itself
            records = slices["profile"]
            profile = measure(
                "profile", records, lambda: run_submit(profiled.ingestor, records, args.batch), jvm
            )
        degree_lines = requester_degree_case(store, args.degree) if args.degree else []
    load_after = os.getloadavg()[0]
    print()
    print(
        f"receipts={args.receipts} batch={args.batch} rng_seed={args.rng_seed} "
        f"warmup={args.warmup}; load average {load_before:.2f} before, {load_after:.2f} after "
        "(2 cores)"
    )
    print_results(outcomes)
    print_breakdown(profile, tally, validation_cost(slices["profile"], now))
    if degree_lines:
        print()
        columns = ["REQUESTED edge MERGE", "requester's outputs before", "µs per new edge"]
        table(columns, degree_lines)


def print_results(outcomes: list[Outcome]) -> None:
    base = next((o.receipts / o.usage.wall for o in outcomes if o.case == "naive"), None)
    columns = [
        "case", "receipts", "records", "seconds", "receipts/s", "records/s", "vs naive",
        "this process CPU µs/receipt", "server CPU µs/receipt", "JVM CPU µs/receipt",
        "other jobs % of a core",
    ]  # fmt: skip
    rows = []
    for o in outcomes:
        u = o.usage
        rate = o.receipts / u.wall
        rows.append(
            [
                o.case,
                f"{o.receipts:,}",
                f"{o.records:,}",
                f"{u.wall:.2f}",
                f"{rate:,.0f}",
                f"{o.records / u.wall:,.0f}",
                f"{rate / base:.1f}x" if base else "n/a",
                f"{u.client / o.receipts * 1e6:.0f}",
                f"{u.server / o.receipts * 1e6:.0f}" if u.server else "-",
                f"{u.jvm / o.receipts * 1e6:.0f}",
                f"{u.percent(u.others):.0f}",
            ]
        )
    table(columns, rows)


def print_breakdown(outcome: Outcome, tally: Tally, validation: dict[str, float]) -> None:
    seconds, records = outcome.usage.wall, outcome.records
    print()
    print(
        f"breakdown (submit, a further run, timed through the store's observer): "
        f"{outcome.receipts:,} receipts, {records:,} records, {seconds:.2f} s "
        f"({outcome.receipts / seconds:,.0f} receipts/s)"
    )
    rows: list[list[str]] = [
        [f"validate_record: {kind} (alone, one thread)", "", "", f"{micros:.1f}", "", ""]
        for kind, micros in sorted(validation.items())
    ]
    for name, total in sorted(tally.seconds.items(), key=lambda item: -item[1]):
        share, per_record = f"{total / seconds:.1%}", f"{total / records * 1e6:.1f}"
        calls, rows_written = str(tally.calls[name]), f"{tally.rows[name]:,}"
        rows.append([name, f"{total:.3f}", share, per_record, calls, rows_written])
    rest = seconds - sum(tally.seconds.values())
    rows.append(
        [
            "rest (Python: validation, resolution, driver)",
            f"{rest:.3f}",
            f"{rest / seconds:.1%}",
            f"{rest / records * 1e6:.1f}",
            "",
            "",
        ]
    )
    table(["part", "total s", "share of wall", "µs/record", "runs", "rows"], rows)


if __name__ == "__main__":
    main()
