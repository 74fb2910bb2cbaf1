"""Accountability policies: which providers, and which of their models, meet a
developer's requirements on proof, score, faults and evidence (docs/api.md)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from graphsvc.domain import EntityKind, ProofType
from graphsvc.domain.entities import ProofMix
from graphsvc.domain.score_snapshots import ScoreRow


@dataclass(frozen=True)
class Policy:
    """Defaults admit everything that has a score and served at least one receipt."""

    min_proof: ProofType = ProofType.NONE
    min_proof_share: float = 1.0
    min_score: float = 0.0
    max_fault_rate: float = 1.0
    min_evidence: float = 0.0
    max_risk: float = 1.0
    # Count TEE and ZK claims nobody verified towards min_proof (off: the party being
    # judged would choose on its own word; docs/decisions/0071-proof-status.md).
    accept_claimed: bool = False

    def __post_init__(self) -> None:
        checks = [
            ("minProofShare", self.min_proof_share, 0.0, 1.0),
            ("minScore", self.min_score, 0.0, 100.0),
            ("maxFaultRate", self.max_fault_rate, 0.0, 1.0),
            ("minEvidence", self.min_evidence, 0.0, float("inf")),
            ("maxRisk", self.max_risk, 0.0, 1.0),
        ]
        for name, value, low, high in checks:
            if not low <= value <= high:
                raise ValueError(f"policy {name} must be between {low:g} and {high:g}: {value}")

    def admits_entity(self, row: ScoreRow) -> bool:
        return (
            row.score >= self.min_score
            and row.fault_rate <= self.max_fault_rate
            and (self.max_risk >= 1.0 or row.risk <= self.max_risk)
        )

    def admits_model(self, row: ScoreRow, proofs: ProofMix) -> bool:
        return (
            proofs.receipts > 0
            and self.admits_entity(row)
            and row.positive_evidence >= self.min_evidence
            and proofs.share_at_least(self.min_proof, accept_claimed=self.accept_claimed)
            >= self.min_proof_share
        )


@dataclass(frozen=True)
class ModelOffer:
    row: ScoreRow
    proofs: ProofMix


@dataclass(frozen=True)
class ProviderOffer:
    row: ScoreRow
    models: tuple[ModelOffer, ...]


def recommend(
    scores: Mapping[str, ScoreRow], proof_mixes: Iterable[ProofMix], policy: Policy
) -> list[ProviderOffer]:
    """Providers that meet the policy themselves and publish at least one model that
    does, best provider first, each with its qualifying models best first.

    Scores come from one snapshot; entities it does not cover (published or registered
    after it) are left out rather than guessed.
    """
    models: dict[str, list[ModelOffer]] = {}
    for proofs in proof_mixes:
        row = scores.get(proofs.model)
        if row is not None and row.kind is EntityKind.MODEL and policy.admits_model(row, proofs):
            models.setdefault(proofs.provider, []).append(ModelOffer(row, proofs))
    offers = [
        ProviderOffer(provider, tuple(sorted(offered, key=lambda m: (m.row.rank, m.row.entity))))
        for provider_id, offered in models.items()
        if (provider := scores.get(provider_id)) is not None and policy.admits_entity(provider)
    ]
    return sorted(offers, key=lambda o: (o.row.rank, o.row.entity))
