"""The benchmarks' records: the demo network (``graphsvc.demo``) scaled, and cut into slices."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from graphsvc.demo import NetworkParams
from graphsvc.demo.network_params import Population
from graphsvc.domain import RecordType

Raw = dict[str, Any]
RECEIPT = RecordType.RECEIPT.value


def scaled_params(
    receipts: int, rng_seed: int, population: Population | None = None
) -> NetworkParams:
    """The demo's parameters with ``receipts`` receipts (at least the generator's 500);
    the stories that count records (the Sybil ring's receipts, the disputes) scale with
    the traffic. ``population`` replaces the demo's identities if given."""
    base = NetworkParams(rng_seed=rng_seed)
    receipts = max(receipts, 500)
    factor = receipts / base.traffic.receipts
    ring, disputes = base.stories.sybil_ring, base.stories.disputes
    stories = replace(
        base.stories,
        sybil_ring=replace(ring, receipts=max(1, round(ring.receipts * factor))),
        disputes=replace(
            disputes,
            upheld=int(disputes.upheld * factor),
            rejected=int(disputes.rejected * factor),
            serial=int(disputes.serial * factor),
        ),
    )
    traffic = replace(base.traffic, receipts=receipts)
    return replace(base, population=population or base.population, traffic=traffic, stories=stories)


def setup_and_stream(records: Sequence[Raw]) -> tuple[list[Raw], list[Raw]]:
    """The network's registrations and models (all before its first receipt), and the
    rest: its traffic in time order."""
    first = next(i for i, r in enumerate(records) if r["type"] == RECEIPT)
    return list(records[:first]), list(records[first:])


def cut(stream: Sequence[Raw], quotas: Sequence[int]) -> list[list[Raw]]:
    """Consecutive slices of ``stream`` with ``quotas[i]`` receipts each; a slice also
    takes the attestations and disputes up to the next slice's first receipt."""
    slices, position = [], 0
    for quota in quotas:
        start, taken = position, 0
        while quota and position < len(stream):
            if stream[position]["type"] == RECEIPT:
                if taken == quota:
                    break
                taken += 1
            position += 1
        slices.append(list(stream[start:position]))
    return slices


def receipts_in(records: Sequence[Raw]) -> int:
    return sum(1 for r in records if r["type"] == RECEIPT)
