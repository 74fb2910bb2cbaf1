"""Validating exploding GraphQL documents (issue 24): the fragment-doubling chain
(``fragment Fk on Query {...Fk-1 ...Fk-1}``) and a document of one field repeated.

Usage::

    .venv/bin/python bench/documents.py [--runs 5]

Each document is validated in this process (graphql-core ``validate`` with the standard
rules and the service's limit rule, no store), ``--runs`` times; the median is printed.
strawberry's own depth and alias rules, which the service used before issue 24, are
timed on the chain up to 18 levels (each level doubles their time).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from graphql import ASTValidationRule, parse, specified_rules, validate
from strawberry.extensions.max_aliases import create_validator as strawberry_alias_rule
from strawberry.extensions.query_depth_limiter import create_validator as strawberry_depth_rule

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from graphsvc.api.document_limits import bound_field_comparisons, document_limit_rule
from graphsvc.api.schema import build_schema
from graphsvc.settings import Settings


def chain(levels: int) -> str:
    parts = [f"query Chain {{ ...F{levels} }}", "fragment F0 on Query { a: seeds { ids } }"]
    parts += [f"fragment F{k} on Query{{...F{k - 1} ...F{k - 1}}}" for k in range(1, levels + 1)]
    return "\n".join(parts)


def median_ms(document: str, rules: Sequence[type[ASTValidationRule]], runs: int) -> float:
    schema = build_schema(Settings())._schema
    parsed = parse(document)
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        validate(schema, parsed, rules)
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    settings = Settings()
    bound_field_comparisons()
    ours = [*specified_rules, document_limit_rule(settings.max_query_depth, 30)]
    before = [
        *specified_rules,
        strawberry_depth_rule(settings.max_query_depth, None, None),
        strawberry_alias_rule(30),
    ]
    print("| document | bytes | strawberry's rules (ms) | the service's (ms) |")
    print("|---|---:|---:|---:|")
    for levels in (14, 16, 18, 40):
        document = chain(levels)
        old = f"{median_ms(document, before, args.runs):.1f}" if levels <= 18 else "(never ends)"
        new = median_ms(document, ours, args.runs)
        print(f"| chain, {levels} levels | {len(document)} | {old} | {new:.1f} |")
    repeated = "{" + "seeds { ids } " * 495 + "}"
    new = median_ms(repeated, ours, args.runs)
    print(f"| one field 495 times | {len(repeated)} | | {new:.1f} |")


if __name__ == "__main__":
    main()
