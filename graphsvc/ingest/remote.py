"""Submit records to a running graphsvc server over its ``POST /records`` (NDJSON in, one
result line per record out), for ``graphsvc ingest --url`` beside a server that holds
the data directory. Standard library only."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from graphsvc.domain.outcomes import RecordResult, RecordStatus
from graphsvc.ingest.bulk import SubmitMany

# A batch is stored by the time its answer ends; the server's own chunks are smaller.
TIMEOUT_SECONDS = 300.0


class RemoteIngestError(RuntimeError):
    """The server could not be reached, refused the request, or stopped answering."""


def remote_submitter(url: str) -> SubmitMany:
    endpoint = url.rstrip("/") + "/records"

    def submit_many(batches: Iterable[Sequence[object]]) -> Iterator[list[RecordResult]]:
        sent = 0
        for batch in batches:
            yield _submit(endpoint, batch, sent)
            sent += len(batch)

    return submit_many


def _submit(endpoint: str, batch: Sequence[object], sent: int) -> list[RecordResult]:
    body = b"".join(json.dumps(record).encode() + b"\n" for record in batch)
    request = urllib.request.Request(
        endpoint, body, {"Content-Type": "application/x-ndjson"}, method="POST"
    )
    results: list[RecordResult] = []
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
            for raw in response:
                line: dict[str, Any] = json.loads(raw)
                if "summary" in line:
                    break
                results.append(
                    RecordResult(
                        int(line["index"]),
                        line.get("id"),
                        RecordStatus[line["status"]],
                        line.get("reason"),
                    )
                )
    except urllib.error.HTTPError as error:
        detail = error.read(500).decode(errors="replace").strip()
        raise RemoteIngestError(f"{endpoint}: HTTP {error.code}: {detail}") from None
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise RemoteIngestError(f"{endpoint}: cannot connect: {reason}") from None
    except (ValueError, KeyError) as error:
        raise RemoteIngestError(f"{endpoint}: not a graphsvc answer: {error}") from None
    if len(results) != len(batch):
        raise RemoteIngestError(
            f"{endpoint}: the server answered {len(results)} of {len(batch)} records of a "
            f"batch (after {sent} sent); those answered are final, run again for the rest "
            "(records already stored come back duplicate)"
        )
    return results
