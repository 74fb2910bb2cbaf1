"""The schema as a contract (docs/decisions/0047-schema-is-a-contract.md):
schema/schema.graphql is generated from the code and must not drift, and everything a
client sees is described."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

from graphql import get_introspection_query, parse, validate

from graphsvc.api.breakdown_types import EvidenceChannel, FaultCause
from graphsvc.api.scalars import EntityKind
from graphsvc.api.schema import build_schema
from graphsvc.api.sdl import schema_sdl, sdl_path
from graphsvc.scoring.explain import CAUSES, CHANNELS
from graphsvc.settings import Settings


def test_the_committed_sdl_is_the_schema_the_code_serves() -> None:
    committed = sdl_path().read_text(encoding="utf-8")
    assert committed == schema_sdl(), (
        "schema/schema.graphql differs from the code: regenerate it with "
        "`.venv/bin/python -m graphsvc.api.sdl` and review the diff"
    )


def undescribed(introspected: dict[str, Any]) -> list[str]:
    """Every type, field, argument, input field and enum value without a description."""
    missing = []
    for t in introspected["__schema"]["types"]:
        if t["name"].startswith("__"):
            continue
        if not t.get("description"):
            missing.append(t["name"])
        for f in t.get("fields") or []:
            if not f.get("description"):
                missing.append(f"{t['name']}.{f['name']}")
            missing += [
                f"{t['name']}.{f['name']}({a['name']})"
                for a in f["args"]
                if not a.get("description")
            ]
        missing += [
            f"{t['name']}.{f['name']}"
            for f in t.get("inputFields") or []
            if not f.get("description")
        ]
        missing += [
            f"{t['name']}.{v['name']}"
            for v in t.get("enumValues") or []
            if not v.get("description")
        ]
    return missing


def test_every_type_field_argument_and_enum_value_is_described() -> None:
    schema = build_schema(Settings())
    query = get_introspection_query(descriptions=True, input_value_deprecation=True)
    result = asyncio.run(schema.execute(query))
    assert result.errors is None and result.data is not None
    assert undescribed(result.data) == []
    # The walk sees what it should: it would name an undescribed value of a real enum.
    kinds = next(t for t in result.data["__schema"]["types"] if t["name"] == "EntityKind")
    kinds["enumValues"][0]["description"] = None
    assert undescribed(result.data) == [f"EntityKind.{next(iter(EntityKind)).name}"]


def test_breakdown_enums_name_every_channel_and_cause_the_model_explains() -> None:
    assert sorted(c.value for c in EvidenceChannel) == CHANNELS
    assert sorted(c.value for c in FaultCause) == CAUSES


STATIC = Path(__file__).resolve().parents[1] / "graphsvc" / "web" / "static"


def dashboard_documents() -> dict[str, str]:
    """The GraphQL documents the dashboard sends as written (template literals that start
    with an operation keyword and interpolate nothing), by file and position."""
    found = {}
    for path in sorted(STATIC.rglob("*.js")):
        if "vendor" in path.parts:
            continue
        text = path.read_text(encoding="utf-8")
        for match in re.finditer(r"`((?:query|subscription|mutation)\b[^`]*)`", text):
            if "${" not in match.group(1):
                found[f"{path.relative_to(STATIC)}:{match.start()}"] = match.group(1)
    return found


def test_every_dashboard_query_is_valid_against_the_schema() -> None:
    schema = build_schema(Settings())._schema
    documents = dashboard_documents()
    assert len(documents) >= 10
    invalid = {
        where: [e.message for e in validate(schema, parse(text))]
        for where, text in documents.items()
    }
    assert {where: errors for where, errors in invalid.items() if errors} == {}
