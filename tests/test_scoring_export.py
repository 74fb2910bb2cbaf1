"""The evidence export round trip: networkx on the files (no faults), numpy reproducer (faults)."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np

from graphsvc.scoring.engine import compute_scores
from graphsvc.scoring.evidence import FaultCause
from graphsvc.scoring.export import FILES, write_evidence_export
from graphsvc.scoring.params import ScoringParams
from tests.doc_blocks import AUDITORS_DOC, python_block
from tests.scoring_factories import T0, product


def reproduce_mass(folder: str | Path) -> dict[str, float]:
    """docs/auditors.md's numpy reproducer ("Recompute mass yourself"), run as written."""
    namespace: dict[str, Any] = {}
    exec(python_block(AUDITORS_DOC, "reproduce_mass"), namespace)
    result: dict[str, float] = namespace["reproduce_mass"](folder)
    return result


def _read_scores(folder: Path) -> dict[str, dict[str, str]]:
    with open(folder / "scores.csv") as f:
        return {r["entity"]: r for r in csv.DictReader(f)}


def test_networkx_on_exported_files_reproduces_raw_mass(tmp_path: Path) -> None:
    net = product(seed=11, requesters=40, receipts=500)
    scores = compute_scores(net.builder.build(), ScoringParams(), T0)
    paths = write_evidence_export(tmp_path, scores)
    assert sorted(paths) == sorted(FILES)

    g = nx.DiGraph()
    exported = _read_scores(tmp_path)
    g.add_nodes_from(exported)
    with open(tmp_path / "edges.csv") as f:
        for r in csv.DictReader(f):
            g.add_edge(r["source"], r["target"], weight=float(r["weight"]))
    with open(tmp_path / "personalization.csv") as f:
        p = {r["entity"]: float(r["weight"]) for r in csv.DictReader(f) if float(r["weight"]) > 0}
    alpha = json.loads((tmp_path / "params.json").read_text())["alpha"]
    pr = nx.pagerank(
        g, alpha=alpha, personalization=p, dangling=p, weight="weight", tol=1e-13, max_iter=10_000
    )
    diff = max(abs(pr[e] - float(r["raw_mass"])) for e, r in exported.items())
    assert diff < 1e-9
    assert all(  # exact: the export writes each figure so that it reads back bit for bit
        float(r["raw_mass"]) == scores.raw_mass[scores.index_of(e)] for e, r in exported.items()
    )


def test_numpy_reproducer_matches_mass_with_faults(tmp_path: Path) -> None:
    net = product(seed=5, requesters=40, receipts=500)
    b = net.builder
    # Faults of every kind: a node, a model, a witness (minority), a requester (dispute).
    b.fault(net.nodes[0], net.witnesses[0], FaultCause.ATTESTED_INVALID, T0 - 10 * 86_400_000, 3)
    b.fault(net.models[1], net.witnesses[1], FaultCause.ATTESTED_INVALID, T0 - 5 * 86_400_000, 2)
    b.fault(net.witnesses[2], net.witnesses[2], FaultCause.WITNESS_MINORITY, T0 - 1000, 1)
    b.fault(net.requesters[3], net.requesters[3], FaultCause.REJECTED_DISPUTE, T0, 0.5)
    scores = compute_scores(b.build(), ScoringParams(), T0)
    assert np.any(scores.phi < 1)
    write_evidence_export(tmp_path, scores)
    mass = reproduce_mass(tmp_path)
    diff = max(abs(mass[e] - scores.mass[i]) for i, e in enumerate(scores.entity_ids))
    assert diff < 1e-9
    meta = json.loads((tmp_path / "params.json").read_text())
    assert meta["evidence_digest"] == scores.evidence_digest
    assert meta["as_of_ms"] == T0
    assert ScoringParams.from_dict({k: meta[k] for k in ScoringParams().to_dict()}) == (
        scores.params
    )
    assert _read_scores(tmp_path)[net.nodes[0]]["kind"] == "node"
