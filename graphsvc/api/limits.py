"""What the public API refuses, in words meant for the caller: list sizes over the cap,
and any other error a resolver raises as a ``ClientError`` (never masked)."""

from __future__ import annotations

from strawberry.types import Info

from graphsvc.api.context import Context


class ClientError(Exception):
    """An error whose message is meant for the caller (not masked)."""


def page_size(info: Info[Context, None], first: int) -> int:
    limit = info.context.services.settings.max_page_size
    if not 0 <= first <= limit:
        raise ClientError(f"first must be between 0 and {limit}")
    return first
