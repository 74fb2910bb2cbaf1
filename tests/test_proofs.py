"""Attestation documents (graphsvc.proofs): real AWS Nitro documents verified at their own
time (tests/data/README.md has their provenance), and each kind of edit refused for its
own reason."""

from __future__ import annotations

import base64
import datetime as dt
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from graphsvc.cli import main
from graphsvc.demo.enclave_pki import EnclavePki, nitriding_user_data
from graphsvc.proofs import (
    KeyBinding,
    ProofFailure,
    TrustedRoot,
    TrustedRoots,
    aws_nitro_root,
    bind_key,
    enclave_id,
    read_pem_roots,
    verify_attestation,
)

EPOCH = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)

DATA = Path(__file__).parent / "data" / "nitro"
AWS = TrustedRoots((aws_nitro_root(),))


def _real(name: str) -> bytes:
    return base64.b64decode((DATA / f"{name}.b64").read_text())


def _refused(document: bytes, roots: TrustedRoots = AWS) -> ProofFailure:
    with pytest.raises(ProofFailure) as caught:
        verify_attestation("aws-nitro", document, roots)
    return caught.value


def _rsa_der() -> bytes:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
    return key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def test_the_pinned_root_is_the_published_aws_root() -> None:
    assert aws_nitro_root().fingerprint == (
        "641a0321a3e244efe456463195d606317ed7cdcc3c1756e09893f3c68f79bb5b"
    )


@pytest.mark.parametrize(
    ("name", "module_id", "timestamp", "debug"),
    [
        ("constella-production", "i-01cb32373b80ebb6e-enc0195059ceed67d5b", 1739558598687, False),
        ("eternis-example", "i-0bbf1bfe232b8c2ce-enc0191ba35c9d1b77a", 1725911352400, True),
        ("eternis-lib", "i-0bbf1bfe232b8c2ce-enc019201afdaee4f17", 1726606030288, True),
    ],
)
def test_real_documents_verify_at_their_own_time(
    name: str, module_id: str, timestamp: int, debug: bool
) -> None:
    report = verify_attestation("aws-nitro", _real(name), AWS)
    assert (report.module_id, report.timestamp_ms, report.debug) == (module_id, timestamp, debug)
    assert report.root == "aws-nitro-enclaves-root-g1"
    assert all(len(value) == 48 for value in report.measurements.values())


def test_a_production_document_reports_its_image_and_its_nitriding_user_data() -> None:
    report = verify_attestation("aws-nitro", _real("constella-production"), AWS)
    assert report.image()["PCR0"].startswith("294e8442cb9eccf0")
    assert report.user_data is not None and report.user_data[:2] == b"\x12\x20"


def test_a_document_published_as_invalid_is_refused_by_its_signature() -> None:
    assert _refused(_real("eternis-invalid")).check == "signature"


def test_a_changed_payload_byte_is_refused_by_the_signature() -> None:
    document = bytearray(_real("constella-production"))
    at = document.index(bytes.fromhex("294e8442cb9eccf0"))  # inside PCR0
    document[at] ^= 0x01
    assert _refused(bytes(document)).check == "signature"


def test_a_changed_signature_byte_is_refused() -> None:
    document = bytearray(_real("constella-production"))
    document[-1] ^= 0x01  # the signature is the last item
    assert _refused(bytes(document)).check == "signature"


def test_truncated_cbor_is_refused() -> None:
    assert _refused(_real("constella-production")[:-40]).check == "cbor"


def test_an_unknown_root_is_refused() -> None:
    assert _refused(_real("constella-production"), TrustedRoots(())).check == "root"
    pki = EnclavePki(start=EPOCH)
    assert _refused(pki.document()).check == "root"  # signed, but not under AWS


def test_a_document_after_its_certificate_expired_is_refused() -> None:
    pki = EnclavePki(start=EPOCH, leaf_hours=3)
    roots = TrustedRoots((TrustedRoot.of("test", pki.root),))
    verify_attestation("aws-nitro", pki.document(at=pki.start + dt.timedelta(hours=2)), roots)
    late = pki.document(at=pki.start + dt.timedelta(hours=4))
    failure = _refused(late, roots)
    assert failure.check == "validity" and "expired" in failure.reason


def test_the_wrong_algorithm_is_refused() -> None:
    pki = EnclavePki(start=EPOCH)
    roots = TrustedRoots((TrustedRoot.of("test", pki.root),))
    assert _refused(pki.document(algorithm=-7), roots).check == "algorithm"  # ES256


def test_pcrs_of_the_wrong_length_are_refused() -> None:
    pki = EnclavePki(start=EPOCH)
    roots = TrustedRoots((TrustedRoot.of("test", pki.root),))
    assert _refused(pki.document(pcrs={0: bytes(32)}), roots).check == "pcrs"


def test_a_key_is_bound_by_public_key_or_by_its_hash_in_user_data() -> None:
    pki = EnclavePki(start=EPOCH)
    roots = TrustedRoots((TrustedRoot.of("test", pki.root),))
    key = _rsa_der()
    direct = verify_attestation("aws-nitro", pki.document(public_key=key), roots)
    assert bind_key(direct, key) is KeyBinding.PUBLIC_KEY
    hashed = verify_attestation(
        "aws-nitro", pki.document(user_data=nitriding_user_data(key)), roots
    )
    assert bind_key(hashed, key) is KeyBinding.USER_DATA
    with pytest.raises(ProofFailure) as caught:
        bind_key(hashed, _rsa_der())
    assert caught.value.check == "binding"


def test_the_enclave_id_is_keccak256_of_the_key() -> None:
    # keccak256 of the empty string, a published constant (Ethereum Yellow Paper).
    assert enclave_id(b"") == ("0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470")


def test_an_unknown_platform_is_refused() -> None:
    with pytest.raises(ProofFailure) as caught:
        verify_attestation("intel-tdx", b"", AWS)
    assert caught.value.check == "platform"


def test_extra_roots_come_from_a_pem_file(tmp_path: Path) -> None:
    pki = EnclavePki(start=EPOCH)
    pem = tmp_path / "roots.pem"
    pem.write_bytes(pki.root_pem())
    roots = TrustedRoots.default(pem)
    assert verify_attestation("aws-nitro", pki.document(), roots).root == "roots.pem#0"
    assert len(read_pem_roots(pem)) == 1


def test_the_cli_prints_a_report_or_names_the_failed_check(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["attestation", str(DATA / "constella-production.b64")]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["module_id"] == "i-01cb32373b80ebb6e-enc0195059ceed67d5b"
    assert report["mode"] == "production" and report["root"]["name"].startswith("aws-nitro")
    raw = tmp_path / "doc.cbor"
    raw.write_bytes(_real("eternis-example"))
    assert main(["attestation", str(raw)]) == 0
    assert json.loads(capsys.readouterr().out)["mode"] == "debug"
    assert main(["attestation", str(DATA / "eternis-invalid.b64")]) == 1
    assert "signature" in capsys.readouterr().err
