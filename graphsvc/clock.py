"""Wall-clock time in the unit records use: integer milliseconds since the Unix epoch.

Every service takes a ``Clock`` so tests and replays can fix time.
"""

from __future__ import annotations

import time
from collections.abc import Callable

Clock = Callable[[], int]


def now_ms() -> int:
    return time.time_ns() // 1_000_000
