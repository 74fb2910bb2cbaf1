"""``graphsvc verify``: gather the log's answers (from a server, or a file saved by an
earlier run) and check them all against the log's key.

The answers are first collected into one JSON document (the checkpoint note, an older
checkpoint if given, the consistency proof between them, and each record with its
inclusion proof), then checked; ``--save`` keeps that document so anyone can check it
again later without the server.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from graphsvc.records.canonical import record_id
from graphsvc.tlog.cosignature import CosignerKey
from graphsvc.tlog.note import NoteVerifier
from graphsvc.verifier.checks import (
    Inclusion,
    VerificationError,
    check_consistency,
    check_record,
    count_cosignatures,
    open_checkpoint,
)
from graphsvc.verifier.client import LogClient, Refused


@dataclass
class Outcome:
    lines: list[str] = field(default_factory=list)
    failures: int = 0

    def ok(self, line: str) -> None:
        self.lines.append("ok      " + line)

    def fail(self, line: str) -> None:
        self.failures += 1
        self.lines.append("FAILED  " + line)


def gather(
    client: LogClient,
    *,
    record_ids: Sequence[str] = (),
    records: Sequence[Mapping[str, Any]] = (),
    old_checkpoint: str | None = None,
    key: NoteVerifier,
) -> dict[str, Any]:
    """The server's answers to check, as one JSON-ready document."""
    note = client.checkpoint()
    # The size to ask proofs for: the one the note states (checked again in `check`).
    size = open_checkpoint(note, key).size
    document: dict[str, Any] = {"checkpoint": note, "records": []}
    if old_checkpoint is not None:
        old_size = open_checkpoint(old_checkpoint, key).size
        document["old_checkpoint"] = old_checkpoint
        document["consistency"] = client.consistency(old_size, size) if old_size else []
    for record in records:
        try:
            proof = client.inclusion(record_id(record), size)
        except Refused as refusal:
            document["records"].append({"id": record_id(record), "refused": str(refusal)})
            continue
        document["records"].append({"record": dict(record), "proof": proof})
    for wanted in record_ids:
        try:
            proof = client.inclusion(wanted, size)
        except Refused as refusal:
            # No inclusion proof (not in the log at this size): the check fails, exit 1.
            document["records"].append({"id": wanted, "refused": str(refusal)})
            continue
        # The record itself comes from the log's entry bundle, as a tile client reads it.
        entry = json.loads(client.entry(int(proof["leafIndex"]), size))
        document["records"].append({"record": entry, "proof": proof})
    return document


def check(
    document: Mapping[str, Any],
    key: NoteVerifier,
    witnesses: Sequence[CosignerKey] = (),
    quorum: int = 0,
) -> Outcome:
    """Check every answer of ``document`` (from :func:`gather`, or a saved file), and
    that at least ``quorum`` of ``witnesses`` cosigned its checkpoint."""
    outcome = Outcome()
    try:
        checkpoint = open_checkpoint(document["checkpoint"], key)
    except VerificationError as error:
        outcome.fail(str(error))
        return outcome
    outcome.ok(
        f"checkpoint signed by {key.name}: {checkpoint.size} leaves, root {checkpoint.root_b64}"
    )
    if witnesses or quorum:
        try:
            cosigned = count_cosignatures(document["checkpoint"], witnesses)
        except VerificationError as error:
            outcome.fail(str(error))
            cosigned = []
        line = f"{len(cosigned)} of {quorum} witnesses needed cosigned it: {', '.join(cosigned)}"
        if len(cosigned) >= quorum:
            outcome.ok(line)
        else:
            outcome.fail(line)
    if "old_checkpoint" in document:
        try:
            old = open_checkpoint(document["old_checkpoint"], key)
            hashes = [base64.b64decode(h, validate=True) for h in document["consistency"]]
            check_consistency(old, checkpoint, hashes)
            outcome.ok(f"the log of {old.size} leaves is a prefix of the one of {checkpoint.size}")
        except (VerificationError, ValueError) as error:
            outcome.fail(str(error))
    for item in document["records"]:
        if "refused" in item:
            outcome.fail(f"record {item['id']}: no inclusion proof: {item['refused']}")
            continue
        try:
            proof = Inclusion.of(item["proof"])
            check_record(item["record"], proof, checkpoint)
            outcome.ok(f"{proof.record_id} is leaf {proof.leaf_index}")
        except (VerificationError, ValueError, KeyError, TypeError) as error:
            outcome.fail(f"record: {error}")
    return outcome
