"""The `graphsvc` command line against the session's embedded store."""

from __future__ import annotations

import fcntl
import json
import logging
import re
import socket
from collections.abc import Iterator
from importlib.metadata import version
from pathlib import Path

import pytest

import graphsvc
from graphsvc.api.app import create_app
from graphsvc.cli import build_parser, main, settings_from_args
from graphsvc.records import validate_record
from graphsvc.services import running_services
from graphsvc.settings import Settings
from graphsvc.store.endpoint import BoltEndpoint
from graphsvc.store.graph_store import GraphStore
from tests.live_server import http_server
from tests.network import T0, Network, signed_network


@pytest.fixture(autouse=True)
def _root_logging_restored() -> Iterator[None]:
    """`serve` configures the process's logging (to the stream standard error was then);
    later tests must not write to a stream captured by an earlier one."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


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

    # Parsed as strictly as a server parses: a duplicate key is a rejected line.
    twice = tmp_path / "twice.ndjson"
    line = json.dumps(net.receipt(2))
    twice.write_text(line[:-1] + ', "model": "acme/other@1"}\n' + json.dumps(net.receipt(3)) + "\n")
    assert main(["ingest", "--quiet", str(twice)]) == 1
    out, err = capsys.readouterr()
    assert out.strip().splitlines()[-1] == "accepted=1 duplicate=0 rejected=1"
    assert f"{twice}:1: rejected" in err and "line has a duplicate key 'model'" in err


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
    assert params["alpha"] == 0.85 and params["as_of_ms"] == int(as_of)  # exact: as given
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


def one_line_failure(capsys: pytest.CaptureFixture[str], argv: list[str]) -> str:
    """Run a command that must fail: exit 2, one line on stderr, no traceback."""
    assert main(argv) == 2, argv
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("graphsvc: "), err
    assert "Traceback" not in err
    return err.strip()


def test_every_expected_failure_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    key = tmp_path / "node.key"
    assert main(["keygen", "--out", str(key)]) == 0
    capsys.readouterr()
    bad_key = tmp_path / "bad.key"
    bad_key.write_text("not a key\n")
    receipt = tmp_path / "receipt.json"
    receipt.write_text(json.dumps({"type": "receipt", "ts": T0, "proof": {"type": "tee"}}))
    missing = str(tmp_path / "missing.json")

    failures = {
        "sign: missing key": (
            ["sign", "--key", str(tmp_path / "none.key"), str(receipt)],
            "none.key: No such file",
        ),
        "sign: malformed key": (
            ["sign", "--key", str(bad_key), str(receipt)],
            "--key: malformed key file",
        ),
        "sign: malformed co-signer key": (
            ["sign", "--key", str(key), "--cosign", str(bad_key), str(receipt)],
            "--cosign: malformed key file",
        ),
        "sign: missing record": (
            ["sign", "--key", str(key), missing],
            "missing.json: No such file",
        ),
        "sign: invalid record": (
            ["sign", "--key", str(key), str(receipt)],
            "not signed, the record is invalid: field `model`",
        ),
        "keygen: no such directory": (
            ["keygen", "--out", str(tmp_path / "no" / "k.key")],
            "No such file or directory",
        ),
        "keygen: existing key": (["keygen", "--out", str(key)], "refusing to overwrite"),
        "ingest: missing file": (["ingest", missing], "no such file"),
        "ingest: no server at the URL": (
            ["ingest", "--url", "http://127.0.0.1:9", str(receipt)],
            "cannot connect",
        ),
        "verify: missing key file": (
            ["verify", "--key", missing + "+abc", "--saved", missing],
            "--key:",
        ),
        "replay: missing file": (["replay", missing], "missing.json"),
    }
    for case, (argv, expected) in failures.items():
        assert expected in one_line_failure(capsys, argv), case
    assert key.read_text()  # the refused overwrite left the key alone

    # A store that does not answer: every command that needs it says so in one line.
    monkeypatch.setenv("GRAPHSVC_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("GRAPHSVC_NEO4J_URI", "bolt://127.0.0.1:9")
    monkeypatch.setenv("GRAPHSVC_STORE_CONNECT_TIMEOUT", "2")
    for command in (
        ["score"],
        ["check-evidence"],
        ["audit"],
        ["ingest", str(receipt)],
        ["export-evidence", "--out", str(tmp_path / "out")],
        ["serve"],
    ):
        assert "the graph store does not answer" in one_line_failure(capsys, command), command


def test_serve_on_a_port_in_use_says_so_in_one_line(
    store_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = str(taken.getsockname()[1])
        assert "Address already in use" in one_line_failure(capsys, ["serve", "--port", port])


def test_a_data_directory_held_by_a_server_points_to_url(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    records = tmp_path / "r.ndjson"
    records.write_text(json.dumps(Network().registrations()[0]) + "\n")
    monkeypatch.delenv("GRAPHSVC_NEO4J_URI", raising=False)
    # Hold the data directory's lock the way a running embedded server does.
    with (data / "arcadedb.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        ingest = one_line_failure(capsys, ["ingest", "--data", str(data), str(records)])
        score = one_line_failure(capsys, ["--data", str(data), "score"])
        audit = one_line_failure(capsys, ["--data", str(data), "audit"])
    assert f"data directory {data} is in use" in ingest and "graphsvc ingest --url" in ingest
    # Each names what to do instead: the API call that does it, or stopping the server.
    assert f"data directory {data} is in use" in score and "mutation `recompute" in score
    assert f"data directory {data} is in use" in audit and "stop it first" in audit
    assert "ask it over its API" not in score + audit


def test_global_flags_after_the_subcommand_and_version(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    parser_args = build_parser().parse_args(["score", "--data", str(tmp_path)])
    assert settings_from_args(parser_args).data == tmp_path
    before = build_parser().parse_args(["--data", str(tmp_path), "serve", "--port", "9"])
    assert settings_from_args(before).data == tmp_path
    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out.strip() == f"graphsvc {version('graphsvc')}"
    # The version comes from git (pyproject.toml: hatch-vcs), never a number typed in.
    assert graphsvc.__version__ == version("graphsvc")
    assert re.fullmatch(r"\d+\.\d+(\.\d+)?((\.dev|rc|a|b)\d+)?(\+[\w.]+)?", graphsvc.__version__)
    with pytest.raises(AttributeError, match="no attribute 'missing'"):
        _ = graphsvc.missing  # type: ignore[attr-defined]


def test_ingest_to_a_running_server_over_its_url(
    embedded_endpoint: BoltEndpoint,
    clean_graph: None,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    net = Network()
    good = tmp_path / "good.ndjson"
    good.write_text("\n".join(json.dumps(r) for r in [net.receipt(), *net.basics()]) + "\n")
    mixed = tmp_path / "mixed.json"
    tampered = dict(net.receipt(1), model="acme/other@1")
    mixed.write_text(json.dumps([net.receipt(), tampered]))
    settings = Settings(snapshot_refresh=0)
    with (
        GraphStore(embedded_endpoint) as store,
        running_services(settings, store=store, clock=lambda: T0 + 10**9) as services,
        http_server(create_app(services)) as url,
    ):
        assert main(["ingest", "--quiet", "--url", url, str(good)]) == 0
        assert capsys.readouterr().out.strip() == "accepted=8 duplicate=0 rejected=0"
        assert main(["ingest", "--quiet", "--url", url + "/", str(mixed)]) == 1
        out, err = capsys.readouterr()
        assert services.attribution.ingest_counter().records == 8
    assert out.strip() == "accepted=0 duplicate=1 rejected=1"
    assert f"{mixed}[1]: rejected (sha256:" in err and "signature does not verify" in err
