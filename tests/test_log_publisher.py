"""The background checkpoint publisher: failures are logged and counted, never raised."""

from __future__ import annotations

import logging
from typing import cast

import pytest

from graphsvc.evidence_log.log import EvidenceLog
from graphsvc.evidence_log.publisher import CheckpointPublisher
from graphsvc.metrics import Metrics


class _BrokenLog:
    def publish(self) -> None:
        raise OSError("disk full")


def test_a_failed_publication_is_logged_and_counted(caplog: pytest.LogCaptureFixture) -> None:
    metrics = Metrics()
    publisher = CheckpointPublisher(cast(EvidenceLog, _BrokenLog()), 3600.0, metrics)
    with caplog.at_level(logging.ERROR):
        assert publisher.run_once() is False
        assert publisher.run_once() is False
    assert publisher.consecutive_failures == 2
    assert metrics.log_publications.labels("failed")._value.get() == 2
    assert "checkpoint publication failed (2 in a row): OSError: disk full" in caplog.text
    # It starts and stops cleanly, more than once (a server restarting its background).
    for _ in range(2):
        with publisher:
            pass
