"""``python -m graphsvc.demo --out FILE [--params network.json]``: write the demo network."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path

from graphsvc.demo.generator import generate
from graphsvc.demo.network_params import ParamsError, load_params


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m graphsvc.demo", description="Write the demo network as NDJSON."
    )
    parser.add_argument("--out", type=Path, required=True, help="NDJSON file to write")
    parser.add_argument(
        "--params",
        type=Path,
        default=None,
        help="parameters JSON (default: seed_data/network.json)",
    )
    parser.add_argument("--cast", type=Path, default=None, help="also write the cast as JSON")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    try:
        network = generate(load_params(args.params))
    except (OSError, ParamsError) as exc:
        print(f"graphsvc.demo: {exc}", file=sys.stderr)
        return 2
    generated = time.perf_counter() - started
    digest = network.write_ndjson(args.out)
    total = time.perf_counter() - started
    if args.cast is not None:
        cast = network.stories.to_dict()
        cast["names"] = {
            entity: network.names[entity] for entity in _ids(cast) if entity in network.names
        }
        args.cast.write_text(json.dumps(cast, indent=2) + "\n")
    counts = Counter(r["type"] for r in network.records)
    summary = " ".join(f"{kind}={counts[kind]}" for kind in sorted(counts))
    print(
        f"wrote {len(network.records)} records ({summary}) to {args.out} "
        f"in {total:.1f} s (generation {generated:.1f} s); sha256={digest}",
        file=sys.stderr,
    )
    return 0


def _ids(cast: dict[str, object]) -> list[str]:
    found: list[str] = []
    for value in cast.values():
        if isinstance(value, str):
            found.append(value)
        elif isinstance(value, list):
            found += [item for item in value if isinstance(item, str)]
    return found


if __name__ == "__main__":
    sys.exit(main())
