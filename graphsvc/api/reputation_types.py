"""GraphQL types of reputation: scores, leaderboards, history."""

from __future__ import annotations

from datetime import datetime
from functools import cached_property

import strawberry
from starlette.concurrency import run_in_threadpool
from strawberry.scalars import JSON
from strawberry.types import Info

from graphsvc.api.breakdown_types import Breakdown
from graphsvc.api.context import Context
from graphsvc.api.pages import Page
from graphsvc.api.scalars import EntityKind, SeedSource, to_datetime, to_ms
from graphsvc.api.types import Entity
from graphsvc.domain.entities import EntityInfo
from graphsvc.domain.score_snapshots import ScoreRow, SnapshotInfo
from graphsvc.reputation.maker import SeedSource as DomainSeedSource
from graphsvc.reputation.views import ScoreFilter, risk_interval

LOG_CHECKPOINT_DESCRIPTION = (
    "The evidence log's tree size and root hash of the records its snapshot was computed "
    "from: check it against a signed checkpoint with a consistency proof (null: taken "
    "before the log)."
)


@strawberry.type(description="A snapshot's evidence-log checkpoint (C2SP tlog-checkpoint).")
class SnapshotCheckpoint:
    tree_size: int = strawberry.field(description="Leaves in the log's tree then.")
    root_hash: str = strawberry.field(description="Base64 of the RFC 6962 root hash.")

    @classmethod
    def of(cls, snapshot: SnapshotInfo | None) -> SnapshotCheckpoint | None:
        if snapshot is None or snapshot.log_size is None or snapshot.log_root is None:
            return None
        return cls(tree_size=snapshot.log_size, root_hash=snapshot.log_root)


@strawberry.type(description="An entity's reputation in one snapshot, and why.")
class Reputation:
    row: strawberry.Private[ScoreRow]
    entity_info: strawberry.Private[EntityInfo | None]

    # The figures read straight from the row are plain fields, not resolvers: graphql-core
    # reads a plain field with getattr, several times cheaper than a resolver call, and a
    # leaderboard page asks for hundreds of them.
    score: float = strawberry.field(
        description="0-100: mass relative to the best entity of the same kind."
    )
    rank: int = strawberry.field(
        description="1 = best within its kind; 1 + those of its kind with a higher score,"
        " so tied entities share a rank (1, 1, 3)."
    )
    percentile: float = strawberry.field(
        description="Share (0-100) of the other same-kind entities not scoring higher "
        "(tied entities share it)."
    )
    mass: float = strawberry.field(description="Propagated PageRank mass after the fault penalty.")
    raw_mass: float = strawberry.field(
        description="Propagated PageRank mass before the fault penalty."
    )
    fault_rate: float = strawberry.field(
        description="Decayed faults / (decayed positive evidence + faults)."
    )
    confidence: float = strawberry.field(description="0-1, from the volume of decayed evidence.")
    positive_evidence: float = strawberry.field(description="Decayed positive evidence received.")
    fault_weight: float = strawberry.field(description="Decayed fault weight attributed to it.")
    phi: float = strawberry.field(description="Penalty factor (e+beta)/(e+beta+lambda*f) applied.")
    risk: float = strawberry.field(
        description="Probability (0-1) that its next accountable event is a fault: the "
        "posterior mean from its decayed events and its kind's recent fault rate."
    )
    risk_events: float = strawberry.field(
        description="Decayed events (weighed by who signed them) behind risk."
    )
    snapshot: str = strawberry.field(description="Id of the snapshot this comes from.")

    @classmethod
    def of(cls, row: ScoreRow, snapshot_id: str, entity: EntityInfo | None) -> Reputation:
        return cls(
            row=row, entity_info=entity,
            score=row.score, rank=row.rank, percentile=row.percentile, mass=row.mass,
            raw_mass=row.raw_mass, fault_rate=row.fault_rate, confidence=row.confidence,
            positive_evidence=row.positive_evidence, fault_weight=row.fault_weight,
            phi=row.phi, risk=row.risk, risk_events=row.risk_events, snapshot=snapshot_id,
        )  # fmt: skip

    @strawberry.field(description="The entity scored.")
    def entity(self) -> Entity:
        if self.entity_info is None:  # scores only exist for registered entities
            raise LookupError(f"entity {self.row.entity} is scored but not registered")
        return Entity.of(self.entity_info)

    @strawberry.field(description="Lower end of the 90 % credible interval of risk.")
    def risk_low(self) -> float:
        return self._risk_interval[0]

    @strawberry.field(description="Upper end of the 90 % credible interval of risk.")
    def risk_high(self) -> float:
        return self._risk_interval[1]

    @cached_property
    def _risk_interval(self) -> tuple[float, float]:
        return risk_interval(self.row)  # once, if either end is asked for

    @strawberry.field(
        description="Why: its top contributors of incoming mass and the faults applied "
        "(null when the snapshot kept no explanation)."
    )
    def breakdown(self) -> Breakdown | None:
        return Breakdown.of(self.row.breakdown)

    @strawberry.field(description="The time the snapshot was computed for.")
    def as_of(self) -> datetime:
        return to_datetime(self.row.as_of_ms)

    @strawberry.field(description=LOG_CHECKPOINT_DESCRIPTION)
    async def log_checkpoint(self, info: Info[Context, None]) -> SnapshotCheckpoint | None:
        found = await run_in_threadpool(
            info.context.services.reputation.snapshot_info, self.snapshot
        )
        return SnapshotCheckpoint.of(found)


@strawberry.type(description="One point of an entity's score history.")
class ScorePoint:
    as_of: datetime = strawberry.field(description="The snapshot's time.")
    score: float = strawberry.field(description="0-100 within its kind.")
    rank: int = strawberry.field(
        description="1 = best within its kind; 1 + those of its kind with a higher score,"
        " so tied entities share a rank (1, 1, 3)."
    )
    mass: float = strawberry.field(description="Propagated mass after the fault penalty.")
    fault_rate: float = strawberry.field(description="Decayed faults / (evidence + faults).")
    confidence: float = strawberry.field(description="0-1, from the volume of evidence.")

    @classmethod
    def of(cls, row: ScoreRow) -> ScorePoint:
        return cls(
            as_of=to_datetime(row.as_of_ms),
            score=row.score,
            rank=row.rank,
            mass=row.mass,
            fault_rate=row.fault_rate,
            confidence=row.confidence,
        )

    @strawberry.field(description=LOG_CHECKPOINT_DESCRIPTION)
    async def log_checkpoint(self, info: Info[Context, None]) -> SnapshotCheckpoint | None:
        found = await run_in_threadpool(
            info.context.services.reputation.snapshot_info_at, to_ms(self.as_of)
        )
        return SnapshotCheckpoint.of(found)


@strawberry.type(description="A stored recompute: when it was for, and what it covered.")
class Snapshot:
    id: str = strawberry.field(description="<asOf ms>-<12 hex of the evidence digest>.")
    as_of: datetime = strawberry.field(description="The time it was computed for.")
    created_at: datetime = strawberry.field(description="When it was computed.")
    evidence_digest: str = strawberry.field(
        description="SHA-256 of the evidence it was computed from (reproduction checks it)."
    )
    records: int = strawberry.field(description="Records accepted by then.")
    entities: int = strawberry.field(description="Entities scored.")
    iterations: int = strawberry.field(description="Propagation iterations to converge.")
    params: JSON = strawberry.field(description="The model parameters it used.")
    log_checkpoint: SnapshotCheckpoint | None = strawberry.field(
        description=LOG_CHECKPOINT_DESCRIPTION
    )

    @classmethod
    def of(cls, info: SnapshotInfo) -> Snapshot:
        return cls(
            id=info.id,
            as_of=to_datetime(info.as_of_ms),
            created_at=to_datetime(info.created_ms),
            evidence_digest=info.evidence_digest,
            records=info.records,
            entities=info.entities,
            iterations=info.iterations,
            params=JSON(info.params),
            log_checkpoint=SnapshotCheckpoint.of(info),
        )


@strawberry.input(description="Only entities meeting all of these.")
class ReputationFilter:
    min_score: float | None = strawberry.field(default=None, description="Lowest score.")
    max_fault_rate: float | None = strawberry.field(default=None, description="Highest fault rate.")
    min_fault_rate: float | None = strawberry.field(default=None, description="Lowest fault rate.")
    min_confidence: float | None = strawberry.field(default=None, description="Lowest confidence.")
    max_risk: float | None = strawberry.field(default=None, description="Highest risk.")

    def to_filter(self) -> ScoreFilter:
        return ScoreFilter(
            max_risk=self.max_risk,
            min_score=self.min_score,
            max_fault_rate=self.max_fault_rate,
            min_fault_rate=self.min_fault_rate,
            min_confidence=self.min_confidence,
        )


ReputationPage = Page[Reputation]


@strawberry.type(description="How many entities of one kind the network holds.")
class KindCount:
    kind: EntityKind = strawberry.field(description="The kind.")  # type: ignore[valid-type]
    count: int = strawberry.field(description="Registered (or published) entities.")
    mass_share: float = strawberry.field(
        description="Share of the newest snapshot's total mass held by this kind."
    )


@strawberry.type(description="What the network holds, and the newest snapshot.")
class NetworkStats:
    entities: list[KindCount] = strawberry.field(description="Entities per kind.")
    receipts: int = strawberry.field(description="Receipts stored.")
    outputs: int = strawberry.field(description="Distinct output hashes.")
    attestations: int = strawberry.field(description="Attestations stored.")
    disputes: int = strawberry.field(description="Disputes stored.")
    records: int = strawberry.field(description="Records accepted since the store began.")
    last_ingest_at: datetime | None = strawberry.field(
        description="When records were last accepted (null: never)."
    )
    snapshot: Snapshot | None = strawberry.field(description="The newest snapshot.")


@strawberry.type(description="An entity whose score moved between two snapshots.")
class ScoreChange:
    before: float | None = strawberry.field(
        description="Its score in the earlier snapshot (null: not scored then)."
    )
    after: float = strawberry.field(description="Its score in the new snapshot.")
    reputation: Reputation = strawberry.field(description="Its reputation in the new snapshot.")


@strawberry.type(description="The trusted entities the personalization's seed part uses.")
class SeedSet:
    source: SeedSource = strawberry.field(  # type: ignore[valid-type]
        description="Where the seeds come from."
    )
    ids: list[strawberry.ID] = strawberry.field(description="Empty when the source is NONE.")

    @strawberry.field(description="The seed entities (registered ones).")
    async def entities(self, info: Info[Context, None]) -> list[Entity]:
        found = await info.context.entities.load_many([str(i) for i in self.ids])
        return [Entity.of(e) for e in found if e is not None]

    @classmethod
    def of(cls, seeds: tuple[tuple[str, ...], DomainSeedSource]) -> SeedSet:
        ids, source = seeds
        return cls(source=source, ids=[strawberry.ID(i) for i in ids])
