"""The `graphsvc` command line against the session's embedded store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from graphsvc.cli import main
from graphsvc.records import validate_record
from graphsvc.store.endpoint import BoltEndpoint
from tests.network import T0, Network, signed_network


@pytest.fixture
def store_env(
    embedded_endpoint: BoltEndpoint,
    clean_graph: None,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("GRAPHSVC_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("GRAPHSVC_NEO4J_URI", embedded_endpoint.uri)
    monkeypatch.setenv("GRAPHSVC_NEO4J_USER", embedded_endpoint.user)
    monkeypatch.setenv("GRAPHSVC_NEO4J_PASSWORD", embedded_endpoint.password)
    monkeypatch.setenv("GRAPHSVC_NEO4J_DATABASE", embedded_endpoint.database or "")


def test_keygen_and_sign_make_records_that_validate(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key = tmp_path / "node.key"
    assert main(["keygen", "--out", str(key)]) == 0
    signer = capsys.readouterr().out.strip()
    assert signer.startswith("ed25519:") and key.stat().st_mode & 0o777 == 0o600
    assert main(["keygen", "--out", str(key)]) == 2  # never overwrites an identity
    assert "refusing to overwrite existing key file" in capsys.readouterr().err

    requester = tmp_path / "alice.key"
    main(["keygen", "--out", str(requester)])
    capsys.readouterr()
    unsigned = tmp_path / "receipt.json"
    unsigned.write_text(
        json.dumps(
            {
                "type": "receipt",
                "ts": T0,
                "model": "acme/m@1",
                "input_hash": "sha256:" + "1" * 64,
                "output_hash": "sha256:" + "2" * 64,
                "proof": {"type": "tee"},
            }
        )
    )
    assert main(["sign", "--key", str(key), "--cosign", str(requester), str(unsigned)]) == 0
    signed = json.loads(capsys.readouterr().out)
    record = validate_record(signed, now_ms=T0)
    assert record.signer == signer and "requester_sig" in signed


def test_ingest_reports_each_rejection_and_exits_1(
    store_env: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    net = Network()
    good = tmp_path / "good.ndjson"
    # Receipts before the records they refer to: ingest orders by dependency.
    good.write_text("\n".join(json.dumps(r) for r in [net.receipt(), *net.basics()]) + "\n")
    assert main(["ingest", "--quiet", str(good)]) == 0
    assert capsys.readouterr().out.strip().splitlines()[-1] == ("accepted=8 duplicate=0 rejected=0")

    mixed = tmp_path / "mixed.json"
    tampered = dict(net.receipt(1), model="acme/other@1")
    mixed.write_text(json.dumps([net.receipt(), tampered, {"type": "register"}]))
    assert main(["ingest", "--quiet", str(mixed), str(good)]) == 1
    out, err = capsys.readouterr()
    assert out.strip().splitlines()[-1] == "accepted=0 duplicate=9 rejected=2"
    assert f"{mixed}[1]: rejected (sha256:" in err and "signature does not verify" in err
    assert f"{mixed}[2]: rejected (" in err and "field `" in err

    assert main(["ingest", str(tmp_path / "missing.json")]) == 2
    assert "no such file" in capsys.readouterr().err


def test_score_reproduce_and_export(
    store_env: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    records = tmp_path / "net.ndjson"
    records.write_text("\n".join(json.dumps(r) for r in signed_network(9).records))
    assert main(["ingest", "--quiet", str(records)]) == 0
    as_of = str(T0 + 40 * 86_400_000)
    capsys.readouterr()
    assert main(["score", "--as-of", as_of]) == 0
    first = capsys.readouterr().out
    assert first.startswith(f"snapshot {as_of}-") and "entities=19" in first
    assert main(["score", "--as-of", "2026-02-10T00:00:00Z"]) == 0
    assert "reproduced bit for bit" in capsys.readouterr().out

    assert main(["export-evidence", "--out", str(tmp_path / "audit"), "--as-of", as_of]) == 0
    params = json.loads((tmp_path / "audit" / "params.json").read_text())
    assert params["alpha"] == 0.85 and params["as_of_ms"] == int(as_of)
    with pytest.raises(SystemExit):
        main(["score", "--as-of", "yesterday"])
    assert "neither milliseconds nor an ISO 8601 time" in capsys.readouterr().err


def test_bad_configuration_is_named(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GRAPHSVC_SCORING__ALPHA", "2")
    assert main(["score"]) == 2
    assert "invalid configuration: GRAPHSVC_SCORING: " in capsys.readouterr().err
    monkeypatch.delenv("GRAPHSVC_SCORING__ALPHA")
    monkeypatch.setenv("GRAPHSVC_PORT", "abc")
    assert main(["serve"]) == 2
    assert "GRAPHSVC_PORT: Input should be a valid integer" in capsys.readouterr().err
