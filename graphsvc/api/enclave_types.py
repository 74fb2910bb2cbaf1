"""GraphQL types of attested enclaves and the images they run
(docs/reference.md#checked-proofs-enclaves-and-images)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry
from starlette.concurrency import run_in_threadpool
from strawberry.types import Info

from graphsvc.api.context import Context
from graphsvc.api.scalars import ImageStatus, to_datetime
from graphsvc.domain.entities import EnclaveInfo, ImageInfo

if TYPE_CHECKING:
    from graphsvc.api.types import Entity


@strawberry.type(description="One measurement register of an attestation document.")
class Measurement:
    index: int = strawberry.field(description="The register (PCR) index.")
    value: str = strawberry.field(description="Its value, lowercase hex.")


@strawberry.type(description="Image measurements a provider published in a signed record.")
class EnclaveImage:
    name: str = strawberry.field(description="The image's name as its provider gave it.")
    published_at: datetime = strawberry.field(description="When the provider signed it.")
    provider_id: strawberry.Private[str]

    @strawberry.field(description="The provider that answers for the image.")
    async def provider(
        self, info: Info[Context, None]
    ) -> Annotated[Entity, strawberry.lazy("graphsvc.api.types")] | None:
        from graphsvc.api.types import Entity

        return await Entity.load(info, self.provider_id)

    @classmethod
    def of(cls, found: ImageInfo) -> EnclaveImage:
        return cls(name=found.name, published_at=to_datetime(found.ts), provider_id=found.provider)


@strawberry.type(
    description="An enclave a node registered with an attestation document that verified; "
    "its id is 0x + keccak256 of its signing key. The node answers for it."
)
class Enclave:
    id: str = strawberry.field(description="0x + hex keccak256 of its key's DER (tee_id).")
    platform: str = strawberry.field(description="Its TEE platform (aws-nitro).")
    measurements: list[Measurement] = strawberry.field(
        description="The document's measurement registers (PCRs), by index."
    )
    attested_at: datetime = strawberry.field(description="The attestation document's time.")
    registered_at: datetime = strawberry.field(description="When the node registered it.")
    image_status: ImageStatus = strawberry.field(  # type: ignore[valid-type]
        description="Whether its measurements match an image a provider published."
    )
    image: EnclaveImage | None = strawberry.field(
        description="The published image its measurements match (null when unknown)."
    )
    root: str = strawberry.field(description="The trusted root its document chains to.")
    record_id: str = strawberry.field(description="The id of the node's enclave record.")
    node_id: strawberry.Private[str]

    @strawberry.field(description="The node that registered it and answers for it.")
    async def node(
        self, info: Info[Context, None]
    ) -> Annotated[Entity, strawberry.lazy("graphsvc.api.types")] | None:
        from graphsvc.api.types import Entity

        return await Entity.load(info, self.node_id)

    @classmethod
    async def load(cls, info: Info[Context, None], enclave_id: str | None) -> Enclave | None:
        if enclave_id is None:
            return None
        found = await run_in_threadpool(info.context.services.attribution.enclaves, [enclave_id])
        return cls.of(found[enclave_id]) if enclave_id in found else None

    @classmethod
    def of(cls, found: EnclaveInfo) -> Enclave:
        return cls(
            id=found.id,
            platform=found.platform,
            measurements=[
                Measurement(index=int(i), value=v)
                for i, v in sorted(found.measurements.items(), key=lambda kv: int(kv[0]))
            ],
            attested_at=to_datetime(found.attested_ms),
            registered_at=to_datetime(found.ts),
            image_status=found.image_status,
            image=EnclaveImage.of(found.image) if found.image else None,
            root=found.root,
            record_id=found.record_id,
            node_id=found.node,
        )
