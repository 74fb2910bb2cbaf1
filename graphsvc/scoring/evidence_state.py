"""The evidence state: every evidence row of a store as of one ingest batch, kept
current between recomputes (docs/reference.md#snapshots-and-reproduction).

A recompute used to read every evidence row of the store. :class:`EvidenceState` holds
what it read instead and applies only what changed since: the entities, evidence sums,
invalid verdicts, disputes and votes of the ingest batches after the one it is current
to (:class:`EvidenceChanges`, read by the store). :meth:`EvidenceState.evidence` then
builds the same :class:`Evidence`, bit for bit, as an :class:`EvidenceBuilder` fed the
whole store would, with array work that is linear in the rows (plus one sort).

Pure: the store reads the changes; the process's kept copy
(``reputation/kept_evidence.py``) keeps this and persists it.
"""

from __future__ import annotations

import io
import json
import zlib
from collections.abc import Collection, Iterable
from dataclasses import asdict, dataclass, field

import numpy as np

from graphsvc.domain import EntityKind
from graphsvc.scoring.evidence import KIND_CODES, Channel, Evidence, FloatArray, IntArray
from graphsvc.scoring.params import ScoringParams
from graphsvc.scoring.verdicts import FaultEvent, attested_faults, vote_faults

_FORMAT = "graphsvc-kept-evidence-v2"  # v2: an accusation keeps its score
_CHANGES = "graphsvc-evidence-changes-v2"
_CHANNELS = {member.name.lower(): member for member in Channel}
# An edge's key packs (source, target, channel) into one int64: rows are kept sorted by it,
# so an update is a binary search, not a dictionary of millions of Python ints.
_PACK = 2**30  # entity indices stay below it (a billion entities)
_MODEL = KIND_CODES[EntityKind.MODEL]

_EDGE_COLUMNS = ("key", "src", "dst", "channel", "ref_ms", "amount")

Vote = tuple[str, str, int]  # witness, verdict, ts
# An invalid attestation: receipt, witness, party blamed, ts, its score (0 ungraded).
Accusation = tuple[str, str, str, int, float]


@dataclass
class EvidenceChanges:
    """What the ingest batches after ``from_batch`` up to ``to_batch`` changed.

    Columns as the store returns them. ``votes`` holds every vote on each receipt an
    attestation or a dispute of those batches concerns (empty tuple: none yet).
    """

    from_batch: int
    to_batch: int
    entity_id: list[str] = field(default_factory=list)
    entity_kind: list[str] = field(default_factory=list)
    entity_provider: list[str] = field(default_factory=list)  # '' unless a model
    edge_src: list[str] = field(default_factory=list)
    edge_dst: list[str] = field(default_factory=list)
    edge_channel: list[str] = field(default_factory=list)
    edge_ref_ms: list[int] = field(default_factory=list)
    edge_amount: list[float] = field(default_factory=list)
    accusations: dict[str, Accusation] = field(default_factory=dict)
    claims: dict[str, tuple[str, str, int]] = field(default_factory=dict)
    votes: dict[str, tuple[Vote, ...]] = field(default_factory=dict)

    def then(self, later: EvidenceChanges) -> EvidenceChanges:
        """These changes followed by ``later``, as one: applying it gives the same state
        as applying both in turn (a row changed twice keeps its later reading)."""
        if later.from_batch != self.to_batch:
            raise EvidenceStateMismatch(
                f"changes after batch {later.from_batch} do not follow batch {self.to_batch}"
            )
        return EvidenceChanges(
            from_batch=self.from_batch,
            to_batch=later.to_batch,
            entity_id=self.entity_id + later.entity_id,
            entity_kind=self.entity_kind + later.entity_kind,
            entity_provider=self.entity_provider + later.entity_provider,
            edge_src=self.edge_src + later.edge_src,
            edge_dst=self.edge_dst + later.edge_dst,
            edge_channel=self.edge_channel + later.edge_channel,
            edge_ref_ms=self.edge_ref_ms + later.edge_ref_ms,
            edge_amount=self.edge_amount + later.edge_amount,
            accusations={**self.accusations, **later.accusations},
            claims={**self.claims, **later.claims},
            votes={**self.votes, **later.votes},
        )

    def to_bytes(self) -> bytes:
        """Compressed JSON (floats keep every bit: Python writes their shortest repr)."""
        return zlib.compress(json.dumps({"format": _CHANGES, **asdict(self)}).encode(), 6)

    @classmethod
    def from_bytes(cls, data: bytes) -> EvidenceChanges:
        fields = json.loads(zlib.decompress(data))
        if fields.pop("format", None) != _CHANGES:
            raise ValueError("not graphsvc evidence changes")
        changes = cls(**fields)
        changes.accusations = {
            k: (r, w, p, int(t), float(s)) for k, (r, w, p, t, s) in changes.accusations.items()
        }
        changes.claims = {k: (r, q, int(t)) for k, (r, q, t) in changes.claims.items()}
        changes.votes = {
            r: tuple((w, v, int(t)) for w, v, t in cast) for r, cast in changes.votes.items()
        }
        return changes


class EvidenceStateMismatch(ValueError):
    """Changes that do not follow on from the kept state (a gap, or an unknown entity)."""


class EvidenceState:
    """Every evidence row of a store as of one ingest batch, indexed for updates."""

    def __init__(self, store_id: str = "") -> None:
        self.store_id = store_id
        self.batch = -1  # nothing applied yet; batch 0 is a store written before batches
        self._ids: list[str] = []
        self._index: dict[str, int] = {}
        self._kinds: list[int] = []
        self._published: list[tuple[int, int]] = []  # (model, provider) indices
        self._key: IntArray = np.zeros(0, dtype=np.int64)
        self._src: IntArray = np.zeros(0, dtype=np.int64)
        self._dst: IntArray = np.zeros(0, dtype=np.int64)
        self._channel: IntArray = np.zeros(0, dtype=np.int64)
        self._ref_ms: IntArray = np.zeros(0, dtype=np.int64)
        self._amount: FloatArray = np.zeros(0, dtype=np.float64)
        self.accusations: dict[str, Accusation] = {}
        self.claims: dict[str, tuple[str, str, int]] = {}
        self.votes: dict[str, tuple[Vote, ...]] = {}
        self._canonical: IntArray | None = None  # entity indices in id order, cached
        # Cached between recomputes while what they depend on is unchanged: the rows in
        # the scorer's order (new rows or entities reorder them; updates do not), and the
        # fault events (until verdicts, disputes or votes change).
        self._edge_order: IntArray | None = None
        self._fault_events: tuple[ScoringParams, frozenset[str], list[FaultEvent]] | None = None

    @property
    def entities(self) -> int:
        return len(self._ids)

    @property
    def edges(self) -> int:
        return len(self._key)

    # ------------------------------------------------------------------ updating

    def apply(self, changes: EvidenceChanges) -> None:
        """Bring the kept rows up to ``changes.to_batch``."""
        if changes.from_batch != self.batch:
            raise EvidenceStateMismatch(
                f"changes after batch {changes.from_batch} do not follow batch {self.batch}"
            )
        added = [
            (self._add_entity(entity_id, EntityKind(kind)), provider)
            for entity_id, kind, provider in zip(
                changes.entity_id, changes.entity_kind, changes.entity_provider, strict=True
            )
        ]
        # After every entity of the changes is known: a provider may come after its model.
        self._published += [
            (model, self._resolve(provider))
            for model, provider in added
            if provider and model is not None and self._kinds[model] == _MODEL
        ]
        self._apply_edges(changes)
        if changes.accusations or changes.claims or changes.votes:
            self._fault_events = None
        self.accusations.update(changes.accusations)
        self.claims.update(changes.claims)
        disputed = {receipt for receipt, _, _ in self.claims.values()}
        for receipt, votes in changes.votes.items():
            verdicts = {verdict for _, verdict, _ in votes}
            if len(verdicts) > 1 or receipt in disputed:
                self.votes[receipt] = tuple(sorted(votes))
        self.batch = changes.to_batch

    def _add_entity(self, entity_id: str, kind: EntityKind) -> int | None:
        """The new entity's index; None if it was known (entities never change)."""
        if entity_id in self._index:
            return None
        self._index[entity_id] = len(self._ids)
        self._ids.append(entity_id)
        self._kinds.append(KIND_CODES[kind])
        self._canonical = self._edge_order = None
        return len(self._ids) - 1

    def _resolve(self, entity_id: str) -> int:
        try:
            return self._index[entity_id]
        except KeyError:
            raise EvidenceStateMismatch(f"evidence names unknown entity {entity_id!r}") from None

    def _apply_edges(self, changes: EvidenceChanges) -> None:
        count = len(changes.edge_src)
        if not count:
            return
        src = np.fromiter((self._resolve(s) for s in changes.edge_src), np.int64, count)
        dst = np.fromiter((self._resolve(d) for d in changes.edge_dst), np.int64, count)
        channel = np.fromiter((_CHANNELS[c] for c in changes.edge_channel), np.int64, count)
        ref_ms = np.asarray(changes.edge_ref_ms, dtype=np.int64)
        amount = np.asarray(changes.edge_amount, dtype=np.float64)
        key = (src * _PACK + dst) * len(Channel) + channel
        if len(np.unique(key)) != count:
            # A row moved to a later batch while the changes were read in parts: the
            # later read of it is the newer one.
            _, last = np.unique(key[::-1], return_index=True)
            keep = np.sort(count - 1 - last)
            src, dst, channel, key = src[keep], dst[keep], channel[keep], key[keep]
            ref_ms, amount = ref_ms[keep], amount[keep]
        at = np.searchsorted(self._key, key)
        known = at < len(self._key)
        known[known] = self._key[at[known]] == key[known]
        rows = at[known]
        self._ref_ms[rows] = ref_ms[known]
        self._amount[rows] = amount[known]
        new = ~known
        if new.any():
            merged = {
                "_key": key,
                "_src": src,
                "_dst": dst,
                "_channel": channel,
                "_ref_ms": ref_ms,
                "_amount": amount,
            }
            order = np.argsort(np.concatenate((self._key, key[new])), kind="stable")
            self._edge_order = None
            for name, column in merged.items():
                setattr(self, name, np.concatenate((getattr(self, name), column[new]))[order])

    # ------------------------------------------------------------------ reading

    def evidence(
        self, params: ScoringParams, *, seeds: Collection[str] = ()
    ) -> tuple[Evidence, int]:
        """The kept evidence in canonical order, and the time of its newest row (0 when
        empty). ``seeds`` are the trusted entities: they alone decide verdicts and hold
        the seed teleport; empty means nobody has standing (docs/decisions/0070-standing.md)."""
        order = self._canonical_order()
        rank = np.empty(len(order), dtype=np.int64)
        rank[order] = np.arange(len(order), dtype=np.int64)
        src, dst, channel = rank[self._src], rank[self._dst], self._channel
        edges = self._edge_order
        if edges is None:
            # (source, target, channel) is unique per row: sorting by it is the builder's
            # order.
            edges = np.argsort((src * len(order) + dst) * len(Channel) + channel, kind="stable")
            self._edge_order = edges
        pairs = sorted(
            {(int(rank[a]), int(rank[b])) for m, p in self._published for a, b in ((m, p), (p, m))}
        )
        faults = self._faults(params, frozenset(seeds))
        party = _indices(rank, self._index, (f.party_id for f in faults))
        source = _indices(rank, self._index, (f.source_id for f in faults))
        cause = np.fromiter((int(f.cause) for f in faults), np.int64, len(faults))
        fault_ref = np.fromiter((f.ref_ms for f in faults), np.int64, len(faults))
        fault_amount = np.fromiter((f.amount for f in faults), np.float64, len(faults))
        forder = np.lexsort((fault_amount, fault_ref, cause, source, party))
        kinds = np.asarray(self._kinds, dtype=np.int64)
        trusted = [self._index[s] for s in seeds if s in self._index]
        ref_ms = self._ref_ms
        newest = max(int(ref_ms.max(initial=0)), int(fault_ref.max(initial=0)))
        evidence = Evidence(
            entity_ids=tuple(self._ids[i] for i in order),
            entity_kinds=kinds[order],
            edge_src=src[edges],
            edge_dst=dst[edges],
            edge_channel=channel[edges],
            edge_ref_ms=ref_ms[edges],
            edge_amount=self._amount[edges],
            struct_src=np.asarray([a for a, _ in pairs], dtype=np.int64),
            struct_dst=np.asarray([b for _, b in pairs], dtype=np.int64),
            fault_party=party[forder],
            fault_source=source[forder],
            fault_cause=cause[forder],
            fault_ref_ms=fault_ref[forder],
            fault_amount=fault_amount[forder],
            seeds=np.unique(rank[np.asarray(trusted, dtype=np.int64)]),
            aggregated_half_life_ms=params.half_life_ms,
        )
        return evidence, newest

    def _canonical_order(self) -> IntArray:
        if self._canonical is None or len(self._canonical) != len(self._ids):
            self._canonical = np.argsort(np.asarray(self._ids, dtype=object), kind="stable")
        return self._canonical

    def _faults(self, params: ScoringParams, trusted: frozenset[str]) -> list[FaultEvent]:
        cached = self._fault_events
        if cached is None or cached[:2] != (params, trusted):
            cached = (params, trusted, self._derive_faults(params, trusted))
            self._fault_events = cached
        return cached[2]

    def _derive_faults(self, params: ScoringParams, trusted: frozenset[str]) -> list[FaultEvent]:
        votes = sorted(
            (receipt, witness, verdict, ts)
            for receipt, cast in self.votes.items()
            for witness, verdict, ts in cast
        )
        claims = [self.claims[k] for k in sorted(self.claims)]
        accusations = [self.accusations[k] for k in sorted(self.accusations)]
        return [
            *attested_faults(accusations, votes, trusted),
            *vote_faults(votes, claims, params, trusted),
        ]

    # ------------------------------------------------------------------ persisting

    def to_bytes(self, *, compress: bool = True) -> bytes:
        """Everything kept, in one self-describing file (NumPy's ``.npz``); uncompressed
        for a local file written at every recompute, where speed matters more."""
        header = {
            "format": _FORMAT,
            "store_id": self.store_id,
            "batch": self.batch,
            "ids": self._ids,
            "kinds": self._kinds,
            "published": self._published,
            "accusations": self.accusations,
            "claims": self.claims,
            "votes": self.votes,
        }
        buffer = io.BytesIO()
        (np.savez_compressed if compress else np.savez)(
            buffer,
            header=np.frombuffer(json.dumps(header).encode(), dtype=np.uint8),
            **{name: getattr(self, f"_{name}") for name in _EDGE_COLUMNS},
        )
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> EvidenceState:
        with np.load(io.BytesIO(data), allow_pickle=False) as archive:
            header = json.loads(archive["header"].tobytes())
            if header.get("format") != _FORMAT:
                raise ValueError("not a graphsvc kept-evidence file")
            kept = cls(header["store_id"])
            kept.batch = int(header["batch"])
            kept._ids = list(header["ids"])
            kept._index = {entity_id: i for i, entity_id in enumerate(kept._ids)}
            kept._kinds = [int(k) for k in header["kinds"]]
            kept._published = [(int(m), int(p)) for m, p in header["published"]]
            kept.accusations = {
                k: (str(r), str(w), str(p), int(t), float(s))
                for k, (r, w, p, t, s) in header["accusations"].items()
            }
            kept.claims = {k: (str(r), str(q), int(t)) for k, (r, q, t) in header["claims"].items()}
            kept.votes = {
                r: tuple((str(w), str(v), int(t)) for w, v, t in cast)
                for r, cast in header["votes"].items()
            }
            for name in _EDGE_COLUMNS:
                setattr(kept, f"_{name}", archive[name].copy())
        return kept


def _indices(rank: IntArray, index: dict[str, int], ids: Iterable[str]) -> IntArray:
    found = [index[i] for i in ids]
    return rank[np.asarray(found, dtype=np.int64)] if found else np.zeros(0, dtype=np.int64)
