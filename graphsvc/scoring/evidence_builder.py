"""Assemble an :class:`Evidence` from events named by entity id.

Rows are sorted into a canonical order at :meth:`EvidenceBuilder.build`, so the same
events added in any order give identical arrays (and hence bit-identical scores).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from graphsvc.domain import EntityKind
from graphsvc.scoring.evidence import (
    KIND_CODES,
    Channel,
    Evidence,
    FaultCause,
    FloatArray,
    IntArray,
)


class EvidenceBuilder:
    """Collects entities, evidence edges, structural links, faults and seeds by id."""

    def __init__(self) -> None:
        self._kinds: dict[str, EntityKind] = {}
        self._edges: list[tuple[str, str, int, int, float]] = []
        self._structural: set[tuple[str, str]] = set()
        self._faults: list[tuple[str, str, int, int, float]] = []
        self._seeds: set[str] = set()

    def entity(self, entity_id: str, kind: EntityKind | str) -> None:
        """Declare an entity; declaring it again with the same kind is a no-op."""
        kind = EntityKind(kind)
        known = self._kinds.get(entity_id)
        if known is not None and known != kind:
            raise ValueError(f"entity {entity_id!r} declared as {known} and as {kind}")
        self._kinds[entity_id] = kind

    def has_entity(self, entity_id: str) -> bool:
        return entity_id in self._kinds

    def edge(self, src: str, dst: str, channel: Channel, ref_ms: int, amount: float) -> None:
        """A positive evidence row ``src -> dst`` of ``amount`` as of ``ref_ms``."""
        self._edges.append((src, dst, int(Channel(channel)), int(ref_ms), _amount(amount)))

    def structural(self, model_id: str, provider_id: str) -> None:
        """``model -PUBLISHED_BY-> provider``: adds model -> provider and provider -> model."""
        self._structural.add((model_id, provider_id))
        self._structural.add((provider_id, model_id))

    def fault(self, party: str, source: str, cause: FaultCause, ref_ms: int, amount: float) -> None:
        """A fault row on ``party`` reported or caused by ``source``."""
        self._faults.append((party, source, int(FaultCause(cause)), int(ref_ms), _amount(amount)))

    def faults(self, events: Iterable[tuple[str, str, FaultCause, int, float]]) -> None:
        """Add many ``(party, source, cause, ref_ms, amount)`` faults (e.g. from verdicts)."""
        for party, source, cause, ref_ms, amount in events:
            self.fault(party, source, cause, ref_ms, amount)

    def seed(self, entity_id: str) -> None:
        """Mark an entity as trusted: the seed part of the personalization spreads over it."""
        self._seeds.add(entity_id)

    def build(self, aggregated_half_life_ms: int | None = None) -> Evidence:
        """Resolve ids to indices (unknown ids raise ``ValueError``) and sort every table."""
        ids = tuple(sorted(self._kinds))
        index = {entity_id: i for i, entity_id in enumerate(ids)}

        def resolve(entity_id: str, what: str) -> int:
            try:
                return index[entity_id]
            except KeyError:
                raise ValueError(f"{what} names unknown entity {entity_id!r}") from None

        kinds = np.array([KIND_CODES[self._kinds[i]] for i in ids], dtype=np.int64)

        edge_src = _ints(resolve(e[0], "edge source") for e in self._edges)
        edge_dst = _ints(resolve(e[1], "edge target") for e in self._edges)
        edge_channel = _ints(e[2] for e in self._edges)
        edge_ref = _ints(e[3] for e in self._edges)
        edge_amount = _floats(e[4] for e in self._edges)
        order = np.lexsort((edge_amount, edge_ref, edge_channel, edge_dst, edge_src))

        structural = sorted(
            (resolve(a, "structural link"), resolve(b, "structural link"))
            for a, b in self._structural
        )
        fault_party = _ints(resolve(f[0], "fault party") for f in self._faults)
        fault_source = _ints(resolve(f[1], "fault source") for f in self._faults)
        fault_cause = _ints(f[2] for f in self._faults)
        fault_ref = _ints(f[3] for f in self._faults)
        fault_amount = _floats(f[4] for f in self._faults)
        forder = np.lexsort((fault_amount, fault_ref, fault_cause, fault_source, fault_party))

        seeds = sorted(resolve(s, "seed") for s in self._seeds)
        return Evidence(
            entity_ids=ids,
            entity_kinds=kinds,
            edge_src=edge_src[order],
            edge_dst=edge_dst[order],
            edge_channel=edge_channel[order],
            edge_ref_ms=edge_ref[order],
            edge_amount=edge_amount[order],
            struct_src=_ints(s for s, _ in structural),
            struct_dst=_ints(d for _, d in structural),
            fault_party=fault_party[forder],
            fault_source=fault_source[forder],
            fault_cause=fault_cause[forder],
            fault_ref_ms=fault_ref[forder],
            fault_amount=fault_amount[forder],
            seeds=_ints(seeds),
            aggregated_half_life_ms=aggregated_half_life_ms,
        )


def canonicalize(evidence: Evidence) -> Evidence:
    """The same evidence with every table in the builder's canonical row order.

    For loaders that fill arrays directly (e.g. from a database query without
    ``ORDER BY``): the engine's sums run in row order, so rows in a canonical order make
    scores bit-identical however the rows were fetched.
    """
    ev = evidence
    order = np.lexsort((ev.edge_amount, ev.edge_ref_ms, ev.edge_channel, ev.edge_dst, ev.edge_src))
    sorder = np.lexsort((ev.struct_dst, ev.struct_src))
    forder = np.lexsort(
        (ev.fault_amount, ev.fault_ref_ms, ev.fault_cause, ev.fault_source, ev.fault_party)
    )
    return Evidence(
        entity_ids=ev.entity_ids,
        entity_kinds=ev.entity_kinds,
        edge_src=ev.edge_src[order],
        edge_dst=ev.edge_dst[order],
        edge_channel=ev.edge_channel[order],
        edge_ref_ms=ev.edge_ref_ms[order],
        edge_amount=ev.edge_amount[order],
        struct_src=ev.struct_src[sorder],
        struct_dst=ev.struct_dst[sorder],
        fault_party=ev.fault_party[forder],
        fault_source=ev.fault_source[forder],
        fault_cause=ev.fault_cause[forder],
        fault_ref_ms=ev.fault_ref_ms[forder],
        fault_amount=ev.fault_amount[forder],
        seeds=np.unique(ev.seeds),
        aggregated_half_life_ms=ev.aggregated_half_life_ms,
    )


def _amount(amount: float) -> float:
    value = float(amount)
    if not value >= 0.0 or value == float("inf"):
        raise ValueError(f"evidence amount must be finite and >= 0, got {amount!r}")
    return value


def _ints(values: Iterable[int]) -> IntArray:
    return np.fromiter(values, dtype=np.int64)


def _floats(values: Iterable[float]) -> FloatArray:
    return np.fromiter(values, dtype=np.float64)
