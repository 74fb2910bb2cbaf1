"""What a verified attestation document says (any platform)."""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class AttestationReport:
    """What a verified document says, and which root vouched for it."""

    platform: str
    module_id: str
    timestamp_ms: int
    # Measurement registers by index (PCRs for Nitro), as the document gives them.
    measurements: Mapping[int, bytes]
    public_key: bytes | None
    user_data: bytes | None
    nonce: bytes | None
    root: str
    root_fingerprint: str
    # A debug-mode enclave: its image measurements are zero, so they prove nothing.
    debug: bool

    def image(self) -> dict[str, str]:
        """The image measurements (PCR0-2 for Nitro) as lowercase hex, by name."""
        return {f"PCR{i}": self.measurements[i].hex() for i in (0, 1, 2) if i in self.measurements}

    def as_json(self) -> dict[str, Any]:
        def b64(value: bytes | None) -> str | None:
            return None if value is None else base64.b64encode(value).decode("ascii")

        return {
            "platform": self.platform,
            "module_id": self.module_id,
            "timestamp_ms": self.timestamp_ms,
            "time": dt.datetime.fromtimestamp(self.timestamp_ms / 1000, tz=dt.UTC).isoformat(),
            "mode": "debug" if self.debug else "production",
            "pcrs": {str(i): value.hex() for i, value in sorted(self.measurements.items())},
            "public_key": b64(self.public_key),
            "user_data": b64(self.user_data),
            "nonce": b64(self.nonce),
            "root": {"name": self.root, "sha256": self.root_fingerprint},
        }
