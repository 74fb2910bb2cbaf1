"""The one failure every proof check raises: which check failed, and why."""

from __future__ import annotations


class ProofFailure(ValueError):
    """Evidence that is present but does not verify.

    ``check`` names the failed check (``cbor``, ``structure``, ``algorithm``,
    ``signature``, ``root``, ``chain``, ``validity``, ``digest``, ``pcrs``, ``binding``,
    ``platform``, ``request_hash``, ``output_hash``, ...), so a caller can tell a
    changed payload from an unknown root without parsing prose.
    """

    def __init__(self, check: str, reason: str) -> None:
        self.check = check
        self.reason = reason
        super().__init__(f"{check}: {reason}")
