"""Reads behind the evidence log's fields: its latest checkpoint and proofs against it
(the types are in ``log_types.py``)."""

from __future__ import annotations

import base64

from starlette.concurrency import run_in_threadpool
from strawberry.types import Info

from graphsvc.api.context import Context
from graphsvc.api.limits import ClientError
from graphsvc.api.log_types import ConsistencyProof, InclusionProof, LogCheckpoint
from graphsvc.evidence_log.log import LogError


async def checkpoint(info: Info[Context, None]) -> LogCheckpoint:
    log = info.context.services.log
    signed = await run_in_threadpool(log.latest)
    return LogCheckpoint.of(signed, log.verifier_key())


async def inclusion_proof(
    info: Info[Context, None], record_id: str, tree_size: int | None
) -> InclusionProof:
    try:
        proof = await run_in_threadpool(info.context.services.log.inclusion, record_id, tree_size)
    except LogError as error:
        raise ClientError(str(error)) from None
    return InclusionProof(
        record_id=proof.record_id,
        leaf_index=proof.leaf_index,
        tree_size=proof.tree_size,
        hashes=_b64(proof.path),
    )


async def consistency_proof(
    info: Info[Context, None], from_size: int, to_size: int
) -> ConsistencyProof:
    try:
        hashes = await run_in_threadpool(info.context.services.log.consistency, from_size, to_size)
    except LogError as error:
        raise ClientError(str(error)) from None
    return ConsistencyProof(from_size=from_size, to_size=to_size, hashes=_b64(hashes))


def _b64(values: list[bytes]) -> list[str]:
    return [base64.b64encode(v).decode("ascii") for v in values]
