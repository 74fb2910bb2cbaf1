"""Locate the data files shipped beside the code (schemas, seed data).

In a wheel they are packaged under ``graphsvc/_schema`` and ``graphsvc/_seed_data``; in a
source checkout (editable install, tests) they are the top-level ``schema/`` and
``seed_data/`` folders.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def _find(packaged: str, in_checkout: str) -> Path:
    for candidate in (_PACKAGE / packaged, _PACKAGE.parent / in_checkout):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"graphsvc data folder {in_checkout!r} is missing from the install")


def schema_dir() -> Path:
    return _find("_schema", "schema")


def seed_data_dir() -> Path:
    return _find("_seed_data", "seed_data")
