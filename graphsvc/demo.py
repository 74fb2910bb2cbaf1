"""`graphsvc serve --demo`: load the seed network into an empty store."""

from __future__ import annotations

import json
import sys

from graphsvc.api.context import Services
from graphsvc.resources import seed_data_dir
from graphsvc.store import cypher
from graphsvc.store.bulk import ingest_records


def store_is_empty(services: Services) -> bool:
    rows = services.store.read(cypher.INGEST_COUNTER)
    return not rows or not rows[0]["records"]


def load_demo(services: Services) -> bool:
    """Ingest ``seed_data/*.ndjson`` if the store is empty; returns whether it did."""
    if not store_is_empty(services):
        print("graphsvc: store is not empty; demo data not loaded", file=sys.stderr)
        return False
    records: list[object] = []
    for path in sorted(seed_data_dir().glob("*.ndjson")):
        with path.open(encoding="utf-8") as lines:
            records.extend(json.loads(line) for line in lines if line.strip())
    summary = ingest_records(services.ingestor, records, description="demo data")
    print(f"graphsvc: demo data {summary.line()}", file=sys.stderr)
    return True
