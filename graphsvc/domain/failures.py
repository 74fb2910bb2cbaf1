"""Failures every layer may name: the store being out of reach is one the API answers
with its own code (503, ``STORE_UNAVAILABLE``), so it lives below both."""

from __future__ import annotations


class StoreUnavailable(RuntimeError):
    """The graph database did not answer in time, cannot be reached, or refused the
    connection. Nothing of the call that raised it was acknowledged; retry later."""


class DiskFull(StoreUnavailable):
    """A write found no space left on the store's disk. Nothing of it was acknowledged;
    retry once space is freed (the service needs no restart)."""
