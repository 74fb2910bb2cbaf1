"""The demo network's parameters: one frozen, validated, JSON round-trippable object.

``seed_data/network.json`` holds these parameters so a user can edit the demo without
touching code; ``load_params`` reads it (missing keys take the defaults below, unknown
keys are errors so a typo cannot silently do nothing). ``NetworkParams.digest()`` keys the
cache of generated NDJSON.
"""

from __future__ import annotations

import hashlib
import json
import math
import typing
from dataclasses import asdict, dataclass, field, fields, is_dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from graphsvc.resources import seed_data_dir

# Bump when the generator's output for the same parameters changes, so caches keyed by
# ``digest()`` are regenerated instead of serving a stale network.
GENERATOR_VERSION = 1

MS_PER_DAY = 86_400_000


class ParamsError(ValueError):
    """A parameter breaks its constraint; the message names the parameter and the rule."""


def _check(ok: bool, name: str, value: object, rule: str) -> None:
    if not ok:
        raise ParamsError(f"{name} = {value!r}: must be {rule}")


def _share(name: str, value: float) -> None:
    _check(0.0 <= value <= 1.0, name, value, "in [0, 1]")


@dataclass(frozen=True)
class Population:
    """How many identities of each kind the honest network has (the Sybil ring adds its own)."""

    providers: int = 10
    models: int = 40
    nodes: int = 100
    witnesses: int = 15
    requesters: int = 300

    def __post_init__(self) -> None:
        _check(self.providers >= 2, "population.providers", self.providers, ">= 2")
        _check(self.nodes >= 12, "population.nodes", self.nodes, ">= 12")
        # Three-witness panels need three honest witnesses besides the dishonest one.
        _check(self.witnesses >= 4, "population.witnesses", self.witnesses, ">= 4")
        _check(self.requesters >= 10, "population.requesters", self.requesters, ">= 10")


@dataclass(frozen=True)
class ProofShares:
    """Relative weights of the three proof types (normalised; need not sum to 1)."""

    tee: float = 0.6
    zk: float = 0.1
    none: float = 0.3

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            _check(value >= 0.0, f"proof share {f.name}", value, ">= 0")
        _check(self.tee + self.zk + self.none > 0.0, "proof shares", asdict(self), "not all 0")


@dataclass(frozen=True)
class Traffic:
    """Who runs what, how much, when."""

    receipts: int = 50_000  # every receipt in the network, the Sybil ring's included
    model_zipf: float = 1.1  # popularity of the model at rank k is proportional to k^-s
    requester_zipf: float = 0.9  # activity of the requester at rank k is proportional to k^-s
    growth: float = 1.5  # daily volume on the last day / on the first day
    cosigned_share: float = 0.92  # receipts co-signed by their requester
    reexecution_share: float = 0.03  # receipts re-running an earlier input of the same model
    node_proofs: ProofShares = field(default_factory=ProofShares)  # nodes' proof capability
    models_per_node_min: int = 2
    models_per_node_max: int = 6
    min_nodes_per_model: int = 3

    def __post_init__(self) -> None:
        _check(self.receipts >= 500, "traffic.receipts", self.receipts, ">= 500")
        _check(self.model_zipf >= 0.0, "traffic.model_zipf", self.model_zipf, ">= 0")
        _check(self.requester_zipf >= 0.0, "traffic.requester_zipf", self.requester_zipf, ">= 0")
        _check(self.growth > 0.0, "traffic.growth", self.growth, "> 0")
        _share("traffic.cosigned_share", self.cosigned_share)
        _share("traffic.reexecution_share", self.reexecution_share)
        _check(
            # >= 2: the bad model of story 2 must run on nodes that also serve other models.
            2 <= self.models_per_node_min <= self.models_per_node_max,
            "traffic.models_per_node_min",
            self.models_per_node_min,
            ">= 2 and <= traffic.models_per_node_max",
        )
        _check(
            self.min_nodes_per_model >= 1,
            "traffic.min_nodes_per_model",
            self.min_nodes_per_model,
            ">= 1",
        )


@dataclass(frozen=True)
class Witnessing:
    """How often witnesses re-check receipts, and in panels of how many."""

    # Share of receipts re-checked, by proof type: unproven receipts are the ones worth
    # re-running, so witnesses audit `none` most and `zk` (already verifiable) least.
    audit_rate: ProofShares = field(
        default_factory=lambda: ProofShares(tee=0.10, zk=0.05, none=0.30)
    )
    # Relative weights of panels of 1, 2 and 3 witnesses on an audited receipt.
    panel_weights: tuple[float, float, float] = (0.55, 0.25, 0.20)
    max_delay_hours: float = 6.0  # an attestation follows its receipt by 1 min .. this

    def __post_init__(self) -> None:
        for name in ("tee", "zk", "none"):
            _share(f"witnessing.audit_rate.{name}", getattr(self.audit_rate, name))
        _check(
            len(self.panel_weights) == 3
            and all(w >= 0 for w in self.panel_weights)
            and sum(self.panel_weights) > 0
            and self.panel_weights[2] > 0,
            "witnessing.panel_weights",
            self.panel_weights,
            "three weights >= 0 for panels of 1, 2, 3 witnesses, with 3-witness panels > 0",
        )
        _check(
            self.max_delay_hours > 0.1, "witnessing.max_delay_hours", self.max_delay_hours, "> 0.1"
        )


@dataclass(frozen=True)
class FaultyNodes:
    """Story 1: lazy nodes that skip the computation on part of their requests."""

    count: int = 4
    error_rate: float = 0.7  # share of their receipts with a wrong output

    def __post_init__(self) -> None:
        _check(self.count >= 1, "stories.faulty_nodes.count", self.count, ">= 1")
        _share("stories.faulty_nodes.error_rate", self.error_rate)


@dataclass(frozen=True)
class ModelFault:
    """Story 2: a bad release of one model from an otherwise healthy provider."""

    error_rate: float = 0.5  # share of the model's receipts with a wrong output
    popularity_rank: int = 8  # the bad model's popularity rank (1 = most used)
    provider_models: int = 14  # models of the provider, the bad one included

    def __post_init__(self) -> None:
        _share("stories.model_fault.error_rate", self.error_rate)
        _check(
            self.provider_models >= 5,
            "stories.model_fault.provider_models",
            self.provider_models,
            ">= 5 (several healthy models besides the bad one)",
        )
        _check(
            self.popularity_rank >= 3,
            "stories.model_fault.popularity_rank",
            self.popularity_rank,
            ">= 3 (ranks 1 and 2 are taken by other stories)",
        )


@dataclass(frozen=True)
class ReformedNode:
    """Story 3: a node that was bad in its first weeks and clean since."""

    error_rate: float = 0.6  # share of wrong outputs while bad
    bad_days: int = 30  # bad from the first day of the window for this many days

    def __post_init__(self) -> None:
        _share("stories.reformed_node.error_rate", self.error_rate)
        _check(self.bad_days >= 1, "stories.reformed_node.bad_days", self.bad_days, ">= 1")


@dataclass(frozen=True)
class DishonestWitness:
    """Story 4: a witness that votes against the truth on three-witness panels."""

    flip_rate: float = 0.85  # share of its votes that contradict the other two witnesses

    def __post_init__(self) -> None:
        _share("stories.dishonest_witness.flip_rate", self.flip_rate)


@dataclass(frozen=True)
class Disputes:
    """Story 5: requesters challenging outputs, rightly (upheld) or not (rejected)."""

    upheld: int = 40  # on receipts every witness attested invalid
    rejected: int = 30  # on receipts every witness attested valid ...
    serial: int = 15  # ... of which this many come from one serial disputer

    def __post_init__(self) -> None:
        _check(self.upheld >= 0, "stories.disputes.upheld", self.upheld, ">= 0")
        _check(self.rejected >= 0, "stories.disputes.rejected", self.rejected, ">= 0")
        _check(
            0 <= self.serial <= self.rejected,
            "stories.disputes.serial",
            self.serial,
            "in [0, stories.disputes.rejected]",
        )


@dataclass(frozen=True)
class SybilRing:
    """Story 6: fake requesters and nodes co-signing receipts among themselves."""

    requesters: int = 30
    nodes: int = 10
    receipts: int = 5_000  # counted in traffic.receipts
    start_day: int = 30  # the ring starts trading this many days into the window

    def __post_init__(self) -> None:
        _check(self.requesters >= 1, "stories.sybil_ring.requesters", self.requesters, ">= 1")
        _check(self.nodes >= 1, "stories.sybil_ring.nodes", self.nodes, ">= 1")
        _check(self.receipts >= 1, "stories.sybil_ring.receipts", self.receipts, ">= 1")
        _check(self.start_day >= 0, "stories.sybil_ring.start_day", self.start_day, ">= 0")


@dataclass(frozen=True)
class DegradingModel:
    """Story 7: a popular model whose wrong-output rate climbs at the end of the window."""

    base_rate: float = 0.01  # wrong-output share before the decline
    peak_rate: float = 0.35  # reached on the last day, rising linearly from base_rate
    days: int = 21  # the decline lasts this many days, up to the end of the window

    def __post_init__(self) -> None:
        _share("stories.degrading_model.base_rate", self.base_rate)
        _share("stories.degrading_model.peak_rate", self.peak_rate)
        _check(self.days >= 1, "stories.degrading_model.days", self.days, ">= 1")


@dataclass(frozen=True)
class Stories:
    faulty_nodes: FaultyNodes = field(default_factory=FaultyNodes)
    model_fault: ModelFault = field(default_factory=ModelFault)
    reformed_node: ReformedNode = field(default_factory=ReformedNode)
    dishonest_witness: DishonestWitness = field(default_factory=DishonestWitness)
    disputes: Disputes = field(default_factory=Disputes)
    sybil_ring: SybilRing = field(default_factory=SybilRing)
    degrading_model: DegradingModel = field(default_factory=DegradingModel)


@dataclass(frozen=True)
class NetworkParams:
    """Everything the generator reads; the same parameters give byte-identical records."""

    rng_seed: int = 20261101
    end: str = "2026-11-01T00:00:00Z"  # the window's end instant (fixed: output is reproducible)
    days: int = 90  # the window's length
    population: Population = field(default_factory=Population)
    traffic: Traffic = field(default_factory=Traffic)
    witnessing: Witnessing = field(default_factory=Witnessing)
    stories: Stories = field(default_factory=Stories)

    def __post_init__(self) -> None:
        _check(0 <= self.rng_seed < 2**63, "rng_seed", self.rng_seed, "an integer in [0, 2^63)")
        try:
            _parse_end(self.end)
        except ValueError as exc:
            raise ParamsError(f"end = {self.end!r}: {exc}") from None
        _check(self.days >= 7, "days", self.days, ">= 7")
        ring = self.stories.sybil_ring
        _check(
            ring.receipts * 2 <= self.traffic.receipts,
            "stories.sybil_ring.receipts",
            ring.receipts,
            "at most half of traffic.receipts",
        )
        _check(ring.start_day < self.days, "stories.sybil_ring.start_day", ring.start_day, "< days")
        _check(
            self.stories.reformed_node.bad_days < self.days,
            "stories.reformed_node.bad_days",
            self.stories.reformed_node.bad_days,
            "< days",
        )
        _check(
            self.stories.degrading_model.days < self.days,
            "stories.degrading_model.days",
            self.stories.degrading_model.days,
            "< days",
        )
        fault = self.stories.model_fault
        _check(
            self.population.models >= fault.provider_models + self.population.providers - 1,
            "population.models",
            self.population.models,
            ">= stories.model_fault.provider_models + population.providers - 1 "
            "(every other provider publishes at least one model)",
        )
        _check(
            self.stories.model_fault.popularity_rank <= self.population.models,
            "stories.model_fault.popularity_rank",
            self.stories.model_fault.popularity_rank,
            "<= population.models",
        )

    @property
    def end_ms(self) -> int:
        return _parse_end(self.end)

    @property
    def start_ms(self) -> int:
        return self.end_ms - self.days * MS_PER_DAY

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON data (tuples become lists) in declaration order."""
        data: dict[str, Any] = json.loads(json.dumps(asdict(self)))
        return data

    @classmethod
    def from_dict(cls, data: object) -> NetworkParams:
        """Inverse of :meth:`to_dict`; missing keys take defaults, unknown keys are errors."""
        return _build(cls, data, "")

    def digest(self) -> str:
        """Hex SHA-256 of the parameters and the generator version: the cache key."""
        payload = json.dumps(
            {"generator": GENERATOR_VERSION, "params": self.to_dict()},
            sort_keys=True,
            separators=(",", ":"),
        )
        return hashlib.sha256(payload.encode()).hexdigest()


def _parse_end(text: str) -> int:
    instant = datetime.fromisoformat(text)
    if instant.utcoffset() is None:
        raise ValueError("needs a timezone, e.g. 2026-11-01T00:00:00Z")
    return round(instant.timestamp() * 1000)


_D = TypeVar("_D")


def _build(cls: type[_D], data: object, where: str) -> _D:
    if not isinstance(data, dict):
        raise ParamsError(f"{where or 'parameters'}: expected a JSON object, got {data!r}")
    hints = typing.get_type_hints(cls)
    known = {f.name for f in fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(data) - known)
    if unknown:
        raise ParamsError(f"unknown parameter(s) {', '.join(where + k for k in unknown)}")
    values: dict[str, Any] = {}
    for name, value in data.items():
        values[name] = _convert(hints[name], value, f"{where}{name}")
    try:
        return cls(**values)
    except TypeError as exc:  # a wrong type that slipped past _convert
        raise ParamsError(f"{where or 'parameters'}: {exc}") from None


def _convert(hint: Any, value: Any, name: str) -> Any:
    if is_dataclass(hint) and isinstance(hint, type):
        return _build(hint, value, name + ".")
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ParamsError(f"{name} = {value!r}: must be an integer")
        return value
    if hint is float:
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            raise ParamsError(f"{name} = {value!r}: must be a finite number")
        return float(value)
    if hint is str:
        if not isinstance(value, str):
            raise ParamsError(f"{name} = {value!r}: must be a string")
        return value
    if typing.get_origin(hint) is tuple:
        if not isinstance(value, list | tuple):
            raise ParamsError(f"{name} = {value!r}: must be a list of numbers")
        return tuple(_convert(float, item, f"{name}[{i}]") for i, item in enumerate(value))
    raise AssertionError(f"unsupported parameter type {hint!r} for {name}")


def default_params_path() -> Path:
    return seed_data_dir() / "network.json"


def load_params(path: Path | None = None) -> NetworkParams:
    """Read parameters from ``path`` (default ``seed_data/network.json``)."""
    source = default_params_path() if path is None else path
    try:
        data = json.loads(source.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ParamsError(f"{source}: not valid JSON: {exc}") from None
    # Keys starting with "_" are comments, so the JSON file can explain itself.
    return NetworkParams.from_dict(_strip_comments(data))


def _strip_comments(data: object) -> object:
    if isinstance(data, dict):
        return {k: _strip_comments(v) for k, v in data.items() if not k.startswith("_")}
    return data
