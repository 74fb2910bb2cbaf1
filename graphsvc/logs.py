"""How the service's log lines look: one event a line, each with the id of the request it
belongs to (``-`` outside requests), as JSON objects for collectors or as text for people.

``configure_logging`` is called once by ``graphsvc serve``; importing this module changes
nothing. uvicorn's own loggers (errors, access lines) go through the same handler.
"""

from __future__ import annotations

import logging
import sys
from typing import IO, Literal

from asgi_correlation_id import CorrelationIdFilter
from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter

LogFormat = Literal["auto", "json", "text"]

# The field a request's id is kept under on log records (set by CorrelationIdFilter).
REQUEST_ID_FIELD = "correlation_id"
TEXT_FORMAT = "%(asctime)s %(levelname)s [%(correlation_id)s] %(name)s: %(message)s"
JSON_FIELDS = "%(levelname)s %(name)s %(message)s %(correlation_id)s"
# uvicorn repeats each message with terminal colours for its own formatter.
_NOT_FIELDS = [*RESERVED_ATTRS, "color_message"]


def uses_json(log_format: LogFormat, stream: IO[str]) -> bool:
    if log_format == "auto":
        return not stream.isatty()
    return log_format == "json"


def configure_logging(log_format: LogFormat, *, stream: IO[str] | None = None) -> None:
    """Send every logger's INFO and above to ``stream`` (standard error) in one format."""
    stream = stream or sys.stderr
    handler = logging.StreamHandler(stream)
    handler.addFilter(CorrelationIdFilter(default_value="-"))
    if uses_json(log_format, stream):
        handler.setFormatter(
            JsonFormatter(
                JSON_FIELDS,
                rename_fields={
                    "levelname": "level",
                    "name": "logger",
                    REQUEST_ID_FIELD: "request_id",
                },
                reserved_attrs=_NOT_FIELDS,
                timestamp="time",  # ISO 8601, UTC
            )
        )
    else:
        handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    # uvicorn's loggers keep no handlers of their own (its log_config is None): they
    # reach the root handler above, with the request id.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True
