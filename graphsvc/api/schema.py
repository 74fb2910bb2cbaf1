"""The GraphQL schema: queries over the attribution graph, record submission."""

from __future__ import annotations

import strawberry
from starlette.concurrency import run_in_threadpool
from strawberry.extensions import MaskErrors, MaxAliasesLimiter, MaxTokensLimiter, QueryDepthLimiter
from strawberry.scalars import JSON
from strawberry.types import Info

from graphsvc.api.context import Context
from graphsvc.api.types import (
    Entity,
    Output,
    Receipt,
    RecordResult,
    load_entity,
)
from graphsvc.settings import Settings
from graphsvc.store import trail


class ClientError(Exception):
    """An error whose message is meant for the caller (not masked)."""


@strawberry.type
class Query:
    @strawberry.field(description="A registered party or a published model, by id.")
    async def entity(self, info: Info[Context, None], id: strawberry.ID) -> Entity | None:
        return await load_entity(info, str(id))

    @strawberry.field(description="An output hash with the receipts that produced it.")
    async def output(self, info: Info[Context, None], hash: str) -> Output | None:
        ids = await run_in_threadpool(
            trail.receipt_ids_for_output, info.context.services.store, hash, 1
        )
        return Output(hash=hash) if ids else None

    @strawberry.field(description="A receipt by record id, with its attribution trail.")
    async def receipt(self, info: Info[Context, None], id: strawberry.ID) -> Receipt | None:
        found = await info.context.receipts.load(str(id))
        return Receipt(trail=found) if found else None


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="Submit signed records; each gets accepted, duplicate or rejected(reason)."
    )
    async def submit_records(
        self, info: Info[Context, None], records: list[JSON]
    ) -> list[RecordResult]:
        services = info.context.services
        if len(records) > services.settings.max_batch_records:
            raise ClientError(
                f"too many records: {len(records)} > {services.settings.max_batch_records}; "
                "use POST /records for bulk ingest"
            )
        results = await run_in_threadpool(services.ingestor.submit, records)
        return [
            RecordResult(index=r.index, id=r.id, status=r.status, reason=r.reason) for r in results
        ]


def _should_mask(error: Exception) -> bool:
    original = getattr(error, "original_error", None)
    # GraphQL validation errors (no original) and our client errors are the caller's to see.
    return original is not None and not isinstance(original, ClientError | ValueError)


def build_schema(settings: Settings) -> strawberry.Schema:
    return strawberry.Schema(
        query=Query,
        mutation=Mutation,
        extensions=[
            lambda: QueryDepthLimiter(max_depth=settings.max_query_depth),
            lambda: MaxAliasesLimiter(max_alias_count=settings.max_query_aliases),
            lambda: MaxTokensLimiter(max_token_count=settings.max_query_tokens),
            lambda: MaskErrors(should_mask_error=_should_mask),
        ],
    )
