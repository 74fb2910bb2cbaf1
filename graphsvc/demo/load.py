"""`graphsvc serve --demo`: load the demo network into an empty store, as history.

The network is generated once per parameter set into the data directory (deterministic:
the same parameters give byte-identical records). It is ingested in time order and
scored at weekly checkpoints, so the demo has score history from its first minute.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from graphsvc.demo.cache import ensure_ndjson
from graphsvc.demo.enclave_story import EnclaveStory, enclave_story
from graphsvc.demo.network_params import load_params
from graphsvc.progress import Progress
from graphsvc.proofs import TrustedRoots, read_pem_roots
from graphsvc.reputation.maker import SeedSource
from graphsvc.services import Services

WEEK_MS = 7 * 86_400_000
CHUNK = 2_000

log = logging.getLogger(__name__)


def store_is_empty(services: Services) -> bool:
    return services.attribution.ingest_counter().records == 0


def read_ndjson(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


def load_demo(services: Services, *, progress: bool = True) -> bool:
    """Ingest and score the demo network if the store is empty; returns whether it did.

    Meanwhile ``services.loading`` tells ``/readyz`` how far it has got."""
    try:
        if not store_is_empty(services):
            log.info("the store is not empty; demo data not loaded")
            return False
        log.info("generating the demo network (once per parameter set)")
        records = read_ndjson(
            ensure_ndjson(
                services.settings.data / "demo", load_params(services.settings.demo_params)
            )
        )
        story = trusted_enclave_story(services, max(r["ts"] for r in records))
        total = len(records) + len(story.records)
        with Progress("loading demo", total, enabled=progress) as bar:
            services.loading = bar
            replay_history(services, records, progress=bar, last=story.records)
        return True
    finally:
        services.loading = None


def registered_witnesses(records: list[dict[str, Any]], until_ms: int | None = None) -> list[str]:
    """The witnesses ``records`` register (at or before ``until_ms``, if given)."""
    return [
        r["signer"]
        for r in records
        if r.get("type") == "register"
        and r.get("kind") == "witness"
        and (until_ms is None or r["ts"] <= until_ms)
    ]


def trusted_enclave_story(services: Services, end_ms: int) -> EnclaveStory:
    """The enclaves' story (graphsvc/demo/enclave_story.py) ending at ``end_ms``, its root
    trusted by this process's ingestor and kept beside the demo's records (to put in
    GRAPHSVC_TEE_ROOTS for a later process)."""
    story = enclave_story(end_ms)
    root_file = services.settings.data / "demo" / "demo-tee-root.pem"
    root_file.parent.mkdir(parents=True, exist_ok=True)
    root_file.write_bytes(story.root_pem)
    services.ingestor.trust(TrustedRoots(read_pem_roots(root_file)))
    return story


def replay_history(
    services: Services,
    records: list[dict[str, Any]],
    *,
    progress: Progress | None = None,
    last: list[dict[str, Any]] | None = None,
) -> list[int]:
    """Ingest chronological records, recomputing at weekly checkpoints and at the end;
    ``last`` (records of the final week, such as the enclave story) just before the end.

    Returns the checkpoint times. Snapshots are taken as the evidence arrives, because
    running sums cannot be wound back to score an earlier time afterwards. Unless an
    administrator set seeds, the witnesses the records register are named the trusted
    seeds (setSeeds) before each snapshot: the demo is the operator's own network, and
    the service trusts no witness it was not told to (docs/decisions/0070-standing.md).
    """
    if not records:
        return []
    start, end = records[0]["ts"], max(r["ts"] for r in records)
    # Weekly, counted back from the end, so the newest snapshot is the end itself.
    checkpoints = sorted(range(end, start, -WEEK_MS))
    position = 0
    counts = {"accepted": 0, "duplicate": 0, "rejected": 0}
    bar = progress or Progress("demo data", len(records), enabled=False)
    # The demo's own witnesses as seeds, unless an administrator named some.
    own_seeds: list[str] | None = None if services.scorer.seeds()[1] is SeedSource.ADMIN else []
    for checkpoint in checkpoints:
        chunks = []
        while position < len(records) and records[position]["ts"] <= checkpoint:
            chunk: list[dict[str, Any]] = []
            while (
                position < len(records)
                and records[position]["ts"] <= checkpoint
                and len(chunk) < CHUNK
            ):
                chunk.append(records[position])
                position += 1
            chunks.append(chunk)
        if last and checkpoint == end:
            chunks.append(last)
        for results in services.ingestor.submit_many(chunks):
            for result in results:
                counts[str(result.status)] += 1
            bar.update(len(results))
        if own_seeds is not None:
            witnesses = registered_witnesses(records, checkpoint)
            if witnesses != own_seeds:
                services.scorer.set_seeds(witnesses)
                own_seeds = witnesses
        services.scorer.recompute(checkpoint)
    if own_seeds:
        log.info("demo: its %d witnesses are the trusted seeds", len(own_seeds))
    summary = " ".join(f"{k}={v}" for k, v in counts.items())
    log.info("demo data %s, %d snapshots", summary, len(checkpoints))
    return checkpoints
