"""Attestation documents by platform: one verifier per platform, one report for all.

A verifier takes the document's bytes and the trusted roots and returns an
:class:`AttestationReport`, or raises :class:`ProofFailure` naming the failed check. It
checks the document at its own time, so a document stays verifiable after its short-lived
certificates expire. A second platform (Intel TDX quotes next) is one more entry in
:data:`PLATFORMS`.
"""

from __future__ import annotations

from collections.abc import Callable

from graphsvc.proofs.errors import ProofFailure
from graphsvc.proofs.nitro import verify_nitro
from graphsvc.proofs.report import AttestationReport
from graphsvc.proofs.roots import TrustedRoots

Verifier = Callable[[bytes, TrustedRoots], AttestationReport]


# Platform name (as records spell it) -> its verifier.
PLATFORMS: dict[str, Verifier] = {"aws-nitro": verify_nitro}


def verify_attestation(platform: str, document: bytes, roots: TrustedRoots) -> AttestationReport:
    """Verify ``document`` as a ``platform`` attestation; :class:`ProofFailure` if not."""
    verifier = PLATFORMS.get(platform)
    if verifier is None:
        known = ", ".join(sorted(PLATFORMS))
        raise ProofFailure("platform", f"{platform!r} is not a known platform; known: {known}")
    return verifier(document, roots)


__all__ = ["PLATFORMS", "AttestationReport", "ProofFailure", "verify_attestation"]
