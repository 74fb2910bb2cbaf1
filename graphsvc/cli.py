"""The `graphsvc` command line (docs/operators.md#command-line)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from graphsvc.settings import Settings

if TYPE_CHECKING:
    from nacl.signing import SigningKey


class CliError(Exception):
    """A problem to report in one line, exit status 2."""


def _read_json_records(path: Path) -> Iterator[tuple[str, object]]:
    """Yield (where, record) from a JSON array file or an NDJSON file, parsed as strictly
    as a server parses them (UTF-8, no duplicate keys, bounded nesting and integers)."""
    from graphsvc.records.json_input import MAX_DEPTH, JSONInputError, parse_json

    data = path.read_bytes() if str(path) != "-" else sys.stdin.buffer.read()
    if data.lstrip().startswith(b"["):
        try:
            items = parse_json(data, max_depth=MAX_DEPTH + 1)  # the array is one level
        except JSONInputError as error:
            raise CliError(f"{path}: {error}") from None
        for number, item in enumerate(items):
            yield f"{path}[{number}]", item
        return
    for number, line in enumerate(data.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            yield f"{path}:{number}", parse_json(line)
        except JSONInputError as error:
            yield f"{path}:{number}", _Unparsable(f"line {error}")


class _Unparsable:
    def __init__(self, reason: str) -> None:
        self.reason = reason


def cmd_attestation(args: argparse.Namespace, settings: Settings) -> int:
    from graphsvc.proofs import ProofFailure, bind_key, enclave_id, verify_attestation
    from graphsvc.proofs.documents import read_document

    try:
        roots = settings.trusted_roots()
        report = verify_attestation(args.platform, read_document(Path(args.file)), roots)
        answer = {"verified": True, **report.as_json()}
        if args.key is not None:
            key = read_document(Path(args.key), pem_label="PUBLIC KEY")
            answer["bound_key"] = {"binding": str(bind_key(report, key)), "id": enclave_id(key)}
    except ProofFailure as failure:
        print(f"graphsvc: attestation refused: {failure}", file=sys.stderr)
        return 1
    print(json.dumps(answer, indent=2))
    return 0


def cmd_keygen(args: argparse.Namespace, settings: Settings) -> int:
    from graphsvc.records import generate_signing_key, signer_id, write_signing_key

    key = generate_signing_key()
    try:
        write_signing_key(Path(args.out), key)
    except FileExistsError as error:
        raise CliError(str(error)) from error
    print(signer_id(key))
    return 0


def _signing_key(path: str, flag: str) -> SigningKey:
    from graphsvc.records import read_signing_key

    try:
        return read_signing_key(Path(path))
    except ValueError as error:  # malformed: the message never shows the secret
        raise CliError(f"{flag}: {error}") from None


def cmd_sign(args: argparse.Namespace, settings: Settings) -> int:
    from graphsvc.clock import now_ms
    from graphsvc.records import RecordError, cosign, sign, signer_id, validate_record

    source = Path(args.record) if args.record else None
    text = source.read_text(encoding="utf-8") if source else sys.stdin.read()
    where = source or "stdin"
    try:
        record = json.loads(text)
    except json.JSONDecodeError as error:
        raise CliError(f"{where}: not valid JSON: {error}") from error
    if not isinstance(record, dict):
        raise CliError(f"{where}: a record must be a JSON object")
    key = _signing_key(args.key, "--key")
    record.setdefault("signer", signer_id(key))
    if args.cosign:
        record.setdefault("ts", now_ms())
        record = cosign(record, _signing_key(args.cosign, "--cosign"))
    signed = sign(record, key)
    # What a server would refuse is refused here, naming the field, before it is sent.
    try:
        validate_record(signed, now_ms=now_ms(), roots=settings.trusted_roots())
    except RecordError as error:
        raise CliError(f"{where}: not signed, the record is invalid: {error}") from None
    print(json.dumps(signed, ensure_ascii=False))
    return 0


def cmd_ingest(args: argparse.Namespace, settings: Settings) -> int:
    from graphsvc.ingest.bulk import ingest_records

    items: list[tuple[str, object]] = []
    for name in args.files:
        path = Path(name)
        if name != "-" and not path.is_file():
            raise CliError(f"{name}: no such file")
        items.extend(_read_json_records(path))
    if args.format == "opengradient":
        # Each line is the gateway's {request, response}: a record of type opengradient.
        items = [(where, _as_gateway_record(item)) for where, item in items]
    records = [item if not isinstance(item, _Unparsable) else None for _, item in items]
    if args.url:
        from graphsvc.ingest.remote import RemoteIngestError, remote_submitter

        try:
            summary = ingest_records(remote_submitter(args.url), records, progress=not args.quiet)
        except RemoteIngestError as error:
            raise CliError(str(error)) from None
    else:
        from graphsvc.services import running_services

        with running_services(settings) as services:
            summary = ingest_records(
                services.ingestor.submit_many, records, progress=not args.quiet
            )
    for result in summary.rejected:
        where = items[result.index][0]
        parse = items[result.index][1]
        reason = parse.reason if isinstance(parse, _Unparsable) else result.reason
        print(f"{where}: rejected ({result.id or 'no id'}): {reason}", file=sys.stderr)
    print(summary.line())
    return 1 if summary.rejected else 0


def _as_gateway_record(item: object) -> object:
    if isinstance(item, dict):
        return {"type": "opengradient", **item}
    return item


def parse_time(text: str) -> int:
    """Milliseconds since the epoch from an integer (ms) or an ISO 8601 time (UTC if bare)."""
    if text.lstrip("-").isdigit():
        return int(text)
    from datetime import UTC, datetime

    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is neither milliseconds nor an ISO 8601 time"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def cmd_score(args: argparse.Namespace, settings: Settings) -> int:
    from graphsvc.reputation.maker import ScoringError
    from graphsvc.services import running_services

    with running_services(settings) as services:
        reputation, scorer = services.reputation, services.scorer
        try:
            if args.as_of is not None and reputation.has_snapshot(args.as_of):
                report = scorer.reproduce(args.as_of)
                if not report.identical:
                    print(
                        f"snapshot {report.snapshot.id} NOT reproduced: "
                        f"{len(report.differing_entities)} entities differ, e.g. "
                        f"{report.differing_entities[:5]}",
                        file=sys.stderr,
                    )
                    return 1
                print(
                    f"snapshot {report.snapshot.id} reproduced bit for bit "
                    f"({report.snapshot.entities} entities, "
                    f"digest {report.snapshot.evidence_digest})"
                )
                if not report.store_evidence_unchanged:
                    print(
                        "note: the store has gained evidence since; a new recompute would differ",
                        file=sys.stderr,
                    )
                return 0
            info = scorer.recompute(args.as_of)
        except ScoringError as error:
            raise CliError(str(error)) from error
        print(
            f"snapshot {info.id}: as_of_ms={info.as_of_ms} entities={info.entities} "
            f"records={info.records} iterations={info.iterations} "
            f"digest={info.evidence_digest}"
        )
        view = reputation.view(info.as_of_ms)
        if view is not None:
            for kind, members in view.ranked.items():
                top = ", ".join(f"{r.entity[:24]} {r.score:.1f}" for r in members[:3])
                if top:
                    print(f"  {kind.value:<9} top: {top}")
    return 0


def cmd_check_evidence(args: argparse.Namespace, settings: Settings) -> int:
    from graphsvc.services import running_services

    with running_services(settings) as services:
        check = services.scorer.check_evidence()
    figures = (
        f"batch {check.batch}: {check.entities} entities, {check.edges} edges, "
        f"{check.faults} faults"
    )
    if not check.matches:
        print(
            f"kept evidence DIFFERS from the store at {figures}; differing: "
            f"{', '.join(check.differing)}",
            file=sys.stderr,
        )
        return 1
    print(f"kept evidence matches the store at {figures} ({check.store_digest})")
    return 0


def cmd_export_evidence(args: argparse.Namespace, settings: Settings) -> int:
    from graphsvc.reputation.maker import ScoringError
    from graphsvc.scoring.export import write_evidence_export
    from graphsvc.services import running_services

    with running_services(settings) as services:
        try:
            scores = services.scorer.scores_as_of(args.as_of)
        except ScoringError as error:
            raise CliError(str(error)) from error
    paths = write_evidence_export(args.out, scores)
    for name, path in paths.items():
        print(f"{name}: {path}")
    return 0


def cmd_replay(args: argparse.Namespace, settings: Settings) -> int:
    from graphsvc.evaluation.cli_support import run_replay

    def report(done: int, total: int) -> None:
        # On standard error: standard output stays the result (JSON with --json).
        print(f"graphsvc: replay: month {done} of {total}", file=sys.stderr, flush=True)

    return run_replay(args, settings.scoring, on_step=report)


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    from graphsvc.server import serve

    serve(settings, demo=args.demo)
    return 0


def cmd_audit(args: argparse.Namespace, settings: Settings) -> int:
    from graphsvc.evidence_log.audit import audit, report_lines
    from graphsvc.services import running_services

    with running_services(settings) as services:
        report = audit(services.log)
    for line in report_lines(report):
        print(line)
    return 0 if report.clean else 1


def _text_or_file(value: str) -> str:
    path = Path(value)
    return path.read_text(encoding="utf-8") if path.is_file() else value


def cmd_verify(args: argparse.Namespace, settings: Settings) -> int:
    from graphsvc.tlog.cosignature import CosignerKey
    from graphsvc.tlog.note import NoteError, NoteVerifier
    from graphsvc.verifier.client import LogClient, ServerError
    from graphsvc.verifier.run import check, gather

    try:
        key = NoteVerifier.parse(_text_or_file(args.key))
    except (NoteError, OSError) as error:
        raise CliError(f"--key: {error}") from error
    if args.saved:
        document = json.loads(Path(args.saved).read_text(encoding="utf-8"))
    elif args.server:
        records = [r for name in args.records for _, r in _read_json_records(Path(name))]
        if any(not isinstance(r, dict) for r in records):
            raise CliError("--records: every record must be a JSON object")
        old = Path(args.old_checkpoint).read_text("utf-8") if args.old_checkpoint else None
        try:
            document = gather(
                LogClient.of_url(args.server),
                record_ids=args.ids,
                records=[r for r in records if isinstance(r, dict)],
                old_checkpoint=old,
                key=key,
            )
        except (ServerError, ValueError) as error:
            raise CliError(str(error)) from error
    else:
        raise CliError("give --server URL, or --saved FILE from an earlier --save")
    try:
        witnesses = [CosignerKey.parse(_text_or_file(w)) for w in args.witness]
    except (NoteError, OSError) as error:
        raise CliError(f"--witness: {error}") from error
    quorum = len(witnesses) if args.quorum is None else args.quorum
    outcome = check(document, key, witnesses, quorum)
    for line in outcome.lines:
        print(line)
    if args.save:
        Path(args.save).write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")
    if args.save_checkpoint and not outcome.failures:
        Path(args.save_checkpoint).write_text(document["checkpoint"], encoding="utf-8")
    return 1 if outcome.failures else 0


def build_parser() -> argparse.ArgumentParser:
    from graphsvc.evaluation.cli_support import add_replay_arguments

    parser = argparse.ArgumentParser(
        prog="graphsvc", description="Reputation and attribution graph for AI inference."
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the GraphQL service")
    serve.add_argument("--host", help="bind address (GRAPHSVC_HOST, default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (GRAPHSVC_PORT, default 8000)")
    serve.add_argument(
        "--demo", action="store_true", help="load the demo network into an empty store"
    )
    serve.add_argument(
        "--rotate-log-key",
        action="store_true",
        help="if the evidence log's key is missing, sign from now on with a new one "
        "(GRAPHSVC_LOG_ROTATE_KEY; a note links the two keys)",
    )
    serve.set_defaults(handler=cmd_serve)

    ingest = commands.add_parser("ingest", help="ingest signed records (JSON array or NDJSON)")
    ingest.add_argument("files", nargs="+", help="files to read; - for standard input")
    ingest.add_argument("--quiet", action="store_true", help="no progress bar")
    ingest.add_argument(
        "--url",
        help="send the records to a running server (its POST /records), e.g. "
        "http://127.0.0.1:8000, instead of opening the data directory",
    )
    ingest.add_argument(
        "--format",
        choices=["records", "opengradient"],
        default="records",
        help="records: graphsvc records; opengradient: JSON lines of the TEE gateway's "
        "{request, response}",
    )
    ingest.set_defaults(handler=cmd_ingest)

    score = commands.add_parser(
        "score", help="recompute reputation and store a snapshot; reproduce a stored one"
    )
    score.add_argument("--as-of", type=parse_time, help="ms since epoch or ISO 8601 time")
    score.set_defaults(handler=cmd_score)

    export = commands.add_parser(
        "export-evidence", help="write the evidence graph the scorer used (CSV/JSON)"
    )
    export.add_argument("--out", required=True, help="output directory")
    export.add_argument("--as-of", type=parse_time, help="ms since epoch or ISO 8601 time")
    export.set_defaults(handler=cmd_export_evidence)

    check = commands.add_parser(
        "check-evidence",
        help="compare the evidence the scorer keeps with a full re-read of the store",
    )
    check.set_defaults(handler=cmd_check_evidence)

    replay = commands.add_parser(
        "replay", help="replay a signed trust network (source,target,rating,time) and report AUC"
    )
    add_replay_arguments(replay)
    replay.set_defaults(handler=cmd_replay)

    audit = commands.add_parser(
        "audit", help="recompute the evidence log from the stored records; name any change"
    )
    audit.set_defaults(handler=cmd_audit)

    verify = commands.add_parser(
        "verify", help="check the evidence log's checkpoint, inclusion and consistency proofs"
    )
    verify.add_argument("--key", required=True, help="the log's verifier key, or a file of it")
    verify.add_argument("--server", help="server URL, e.g. http://127.0.0.1:8000")
    verify.add_argument("--ids", nargs="*", default=[], help="record ids to prove included")
    verify.add_argument(
        "--records", nargs="*", default=[], help="files of signed records to prove included"
    )
    verify.add_argument("--old-checkpoint", help="a saved checkpoint the log must extend")
    verify.add_argument("--save", help="write the answers checked, to --saved them later")
    verify.add_argument("--saved", help="check answers saved by --save (no server)")
    verify.add_argument("--save-checkpoint", help="write the verified checkpoint here")
    verify.add_argument(
        "--witness", action="append", default=[], help="a witness's cosigner key (repeatable)"
    )
    verify.add_argument(
        "--quorum", type=int, help="witnesses that must have cosigned (default: all given)"
    )
    verify.set_defaults(handler=cmd_verify)

    attestation = commands.add_parser(
        "attestation", help="verify a TEE attestation document (base64 or raw CBOR)"
    )
    attestation.add_argument("file", help="the document (standard base64 or raw COSE_Sign1)")
    attestation.add_argument("--platform", default="aws-nitro", help="its platform (aws-nitro)")
    attestation.add_argument("--key", help="a key (DER, PEM or base64) the document must bind")
    attestation.set_defaults(handler=cmd_attestation)

    keygen = commands.add_parser("keygen", help="make an ed25519 key; prints its signer id")
    keygen.add_argument("--out", required=True, help="file for the secret key (mode 0600)")
    keygen.set_defaults(handler=cmd_keygen)

    sign = commands.add_parser("sign", help="fill signer, ts and sig of a record")
    sign.add_argument("--key", required=True, help="secret key file of the signer")
    sign.add_argument("--cosign", help="requester key file to co-sign a receipt with")
    sign.add_argument("record", nargs="?", help="record JSON file (default: standard input)")
    sign.set_defaults(handler=cmd_sign)
    for command in (parser, *commands.choices.values()):
        _add_global_flags(command)
    return parser


def _add_global_flags(parser: argparse.ArgumentParser) -> None:
    """Flags every command takes, before the subcommand or after it. SUPPRESS: a
    subcommand not given the flag keeps the value given before it."""
    parser.add_argument(
        "--data",
        default=argparse.SUPPRESS,
        help="data directory of the embedded store (GRAPHSVC_DATA)",
    )


def _version() -> str:
    import graphsvc

    return graphsvc.__version__


def settings_from_args(args: argparse.Namespace) -> Settings:
    settings = Settings()
    overrides: dict[str, Any] = {
        key: value
        for key, value in (
            ("data", getattr(args, "data", None)),
            ("host", getattr(args, "host", None)),
            ("port", getattr(args, "port", None)),
            ("log_rotate_key", getattr(args, "rotate_log_key", None) or None),
        )
        if value is not None
    }
    if "data" in overrides:
        overrides["data"] = Path(overrides["data"])
    return settings.model_copy(update=overrides)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = settings_from_args(args)
    except ValidationError as error:
        problems = "; ".join(
            f"GRAPHSVC_{'__'.join(str(p) for p in e['loc']).upper()}: {e['msg']}"
            for e in error.errors()
        )
        print(f"graphsvc: invalid configuration: {problems}", file=sys.stderr)
        return 2
    try:
        return int(args.handler(args, settings))
    except CliError as error:
        print(f"graphsvc: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as error:
        message = _expected_failure(error, args)
        if message is None:
            raise  # a bug: its traceback is what a report needs
        print(f"graphsvc: {message}", file=sys.stderr)
        return 2


def _expected_failure(error: Exception, args: argparse.Namespace) -> str | None:
    """One line for a failure a user can meet and fix, None for a bug."""
    from graphsvc.evidence_log.log_key import LogKeyMissing
    from graphsvc.ingest.ingestor import EvidenceRulesMismatch
    from graphsvc.proofs import ProofFailure
    from graphsvc.store.embedded import DataDirInUseError, EmbeddedStoreError
    from graphsvc.store.graph_store import StoreUnavailable
    from graphsvc.store.store_format import StoreFormatMismatch

    if isinstance(error, DataDirInUseError):
        hint = _WHILE_SERVING.get(args.command, _STOP_IT_FIRST)
        return f"{error}; if that is a running graphsvc server, {hint}"
    if isinstance(error, StoreUnavailable):
        return f"the graph store does not answer: {_one_line(str(error))}"
    one_line_failures = (
        EmbeddedStoreError,
        EvidenceRulesMismatch,
        StoreFormatMismatch,
        ProofFailure,
        LogKeyMissing,
    )
    if isinstance(error, one_line_failures):
        return _one_line(str(error))
    if isinstance(error, OSError) and error.strerror:
        where = f"{error.filename}: " if error.filename else ""
        return f"{where}{error.strerror}"
    return None


# What to do instead of a command that needs the data directory a server holds: the API
# call that does the same, or plainly that the server must be stopped.
_STOP_IT_FIRST = "stop it first: this command reads the data directory, which the server holds"
_WHILE_SERVING = {
    "ingest": "send records to it with `graphsvc ingest --url http://HOST:PORT FILE...`",
    "score": (
        "ask it with the GraphQL mutation `recompute(asOf:)` (Authorization: Bearer "
        "$GRAPHSVC_ADMIN_TOKEN); reproducing a stored snapshot needs the server stopped"
    ),
    "audit": (
        "stop it first: the API has no audit; `graphsvc verify --server URL` checks the "
        "published log from outside"
    ),
}


def _one_line(text: str) -> str:
    return " ".join(text.split())


if __name__ == "__main__":
    sys.exit(main())
