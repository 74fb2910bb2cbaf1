"""The GraphQL schema as SDL, the API's contract (docs/decisions/0047-schema-is-a-contract.md).

``schema/schema.graphql`` is this text, generated from the code; a test fails when the
two differ. After changing a type, field or argument, regenerate it::

    .venv/bin/python -m graphsvc.api.sdl
"""

from __future__ import annotations

from pathlib import Path

from graphsvc.api.schema import build_schema
from graphsvc.resources import schema_dir
from graphsvc.settings import Settings

SDL_FILE = "schema.graphql"


def schema_sdl() -> str:
    """The SDL of the served schema (settings change limits, never the types)."""
    return build_schema(Settings()).as_str() + "\n"


def sdl_path() -> Path:
    return schema_dir() / SDL_FILE


def main() -> None:
    path = sdl_path()
    path.write_text(schema_sdl(), encoding="utf-8")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
