"""Scoring benchmark (bench/RESULTS.md#targets): engine vs networkx vs a raw scipy power iteration.

Usage::

    .venv/bin/python bench/scoring.py [--sizes 100k,1m,10m] [--rng-seed 7]

For each size a seeded synthetic evidence graph shaped like the product is generated
once and saved to a temporary ``.npz``: requesters -> (model, node) COSIGN rows,
witnesses -> (node, model) ATTEST rows, model <-> provider structural links, about 1%
fault rows, ~10 edge rows per entity (10M edges ~ 1M entities). Each case then runs in
its own subprocess that loads the arrays, so its peak RSS (``VmHWM``) is its own:

- ``engine``: ``compute_scores`` from the Evidence arrays in memory (everything: checks,
  digest, decay, personalization, propagation, ranking);
- ``networkx``: building a ``DiGraph`` of the decayed edges plus ``networkx.pagerank``
  with the engine's personalization (100k and 1M only: at 10M it needs tens of GB and
  many minutes, so it is skipped);
- ``scipy``: decay, a full CSR of the transposed transition matrix and a plain power
  iteration over all entities (what one would write without the engine's folding of
  source entities).

All three stop at the same L1 accuracy (the engine's ``tol``; networkx's ``tol`` is per
entity, so it gets ``tol / N``). ``peak`` is the subprocess's peak RSS, including the
interpreter, the libraries and the evidence arrays themselves; ``+peak`` is that minus
the RSS just before the case started (the arrays already loaded).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from harness.accounting import peak_rss_bytes, reset_peak_rss, rss_bytes
from harness.report import table

from graphsvc.scoring.evidence import KIND_CODES, Channel, Evidence, FaultCause
from graphsvc.scoring.params import ScoringParams

DAY_MS = 86_400_000
AS_OF_MS = 1_800_000_000_000
SIZES = {"100k": 100_000, "1m": 1_000_000, "10m": 10_000_000}


def synthetic_evidence(edges: int, seed: int) -> Evidence:
    """A seeded product-shaped evidence graph with about ``edges`` edge rows."""
    rng = np.random.default_rng(seed)
    n = max(edges // 10, 100)
    counts = {
        "provider": max(n // 1000, 2),
        "model": max(n // 200, 4),
        "node": max(n // 50, 8),
        "witness": max(n // 500, 4),
    }
    counts["requester"] = n - sum(counts.values())
    codes = np.concatenate([np.full(c, KIND_CODES[k]) for k, c in counts.items()])  # type: ignore[index]
    kinds = rng.permutation(codes).astype(np.int64)  # ids are random-looking: kinds interleave
    by_kind = {k: np.flatnonzero(kinds == KIND_CODES[k]) for k in counts}  # type: ignore[index]
    ids = tuple(f"ed25519:{i:09d}" for i in range(n))

    # Every model has one provider; heavy-tailed popularity of models and nodes.
    models, nodes = by_kind["model"], by_kind["node"]
    providers = by_kind["provider"]
    model_provider = providers[rng.integers(0, len(providers), len(models))]
    model_pop = rng.pareto(1.2, len(models)) + 1
    node_pop = rng.pareto(1.2, len(nodes)) + 1

    witness_rows = edges // 10  # witnesses: 10% of the rows, half to nodes half to models
    requester_rows = edges - witness_rows
    req = by_kind["requester"]
    # Requester rows come in (model, node) pairs, one pair per aggregated usage.
    pairs = requester_rows // 2
    r_src = req[rng.integers(0, len(req), pairs)]
    r_model = models[rng.choice(len(models), pairs, p=model_pop / model_pop.sum())]
    r_node = nodes[rng.choice(len(nodes), pairs, p=node_pop / node_pop.sum())]
    wit = by_kind["witness"]
    w_src = wit[rng.integers(0, len(wit), witness_rows)]
    half = witness_rows // 2
    w_dst = np.concatenate(
        (
            nodes[rng.integers(0, len(nodes), half)],
            models[rng.integers(0, len(models), witness_rows - half)],
        )
    )
    src = np.concatenate((r_src, r_src, w_src))
    dst = np.concatenate((r_model, r_node, w_dst))
    channel = np.concatenate(
        (np.full(2 * pairs, Channel.COSIGN), np.full(witness_rows, Channel.ATTEST))
    ).astype(np.int64)
    total = len(src)
    ref = AS_OF_MS - rng.integers(0, 120 * DAY_MS, total)
    amount = rng.choice(np.array([0.5, 1.0]), total) * rng.integers(1, 20, total)
    order = np.lexsort((dst, src))  # a store would read rows in a stable order too
    rows = {"src": src, "dst": dst, "channel": channel, "ref_ms": ref, "amount": amount}

    faults = max(total // 100, 1)
    party = np.concatenate((nodes, models))[rng.integers(0, len(nodes) + len(models), faults)]
    blame = {
        "party": party,
        "source": wit[rng.integers(0, len(wit), faults)],
        "cause": np.full(faults, FaultCause.ATTESTED_INVALID),
        "ref_ms": AS_OF_MS - rng.integers(0, 120 * DAY_MS, faults),
    }
    columns: dict[str, np.ndarray] = {f"edge_{n}": column[order] for n, column in rows.items()}
    columns |= {f"fault_{name}": column.astype(np.int64) for name, column in blame.items()}
    columns |= {
        "entity_kinds": kinds,
        "struct_src": np.concatenate((models, model_provider)).astype(np.int64),
        "struct_dst": np.concatenate((model_provider, models)).astype(np.int64),
        "fault_amount": np.ones(faults),
        # The witnesses are the trusted seeds (with none, nobody has standing).
        "seeds": np.sort(wit).astype(np.int64),
    }
    return Evidence(entity_ids=ids, **columns)


_ARRAY_FIELDS = (
    "entity_kinds",
    "edge_src",
    "edge_dst",
    "edge_channel",
    "edge_ref_ms",
    "edge_amount",
    "struct_src",
    "struct_dst",
    "fault_party",
    "fault_source",
    "fault_cause",
    "fault_ref_ms",
    "fault_amount",
    "seeds",
)


def save(evidence: Evidence, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name in _ARRAY_FIELDS:
        np.save(folder / f"{name}.npy", getattr(evidence, name))


def load(folder: Path) -> Evidence:
    # Plain .npy files are read straight into their arrays: loading peaks at the arrays'
    # own size, so the RSS just after loading is a fair baseline for the case.
    arrays = {name: np.load(folder / f"{name}.npy") for name in _ARRAY_FIELDS}
    n = len(arrays["entity_kinds"])
    return Evidence(entity_ids=tuple(f"ed25519:{i:09d}" for i in range(n)), **arrays)


def _decayed(ev: Evidence, params: ScoringParams) -> np.ndarray:
    from graphsvc.scoring.engine import decayed_weights

    return decayed_weights(ev.edge_amount, ev.edge_ref_ms, AS_OF_MS, params.half_life_ms)


def run_case(case: str, path: Path) -> dict[str, float]:
    """Run one case in this process; returns seconds and memory figures."""
    from graphsvc.scoring.engine import compute_scores
    from graphsvc.scoring.personalization import personalization_vector, usage_gate, usage_volume
    from graphsvc.scoring.standing import seed_credibility

    params = ScoringParams()
    ev = load(path)
    n = ev.entity_count
    p = np.zeros(0)
    if case != "engine":  # personalization is input to the baselines, not timed
        w = _decayed(ev, params)
        gate = usage_gate(ev, seed_credibility(ev))
        p = personalization_vector(ev, params, usage_volume(ev, w, gate, np.empty_like(w)))
        del w
    reset_peak_rss()
    base = rss_bytes()
    start = time.perf_counter()
    if case == "engine":
        scores = compute_scores(ev, params, AS_OF_MS)
        extra: dict[str, float] = {"iterations": scores.iterations}
    elif case == "networkx":
        extra = _networkx(ev, params, p)
    elif case == "scipy":
        extra = _scipy(ev, params, p)
    else:
        raise ValueError(case)
    seconds = time.perf_counter() - start
    peak = peak_rss_bytes()
    return {"seconds": seconds, "peak": peak, "delta": max(peak - base, 0), "n": n, **extra}


def _networkx(ev: Evidence, params: ScoringParams, p: np.ndarray) -> dict[str, float]:
    import networkx as nx

    w = _decayed(ev, params)
    # Duplicate rows add up, like in the engine; numpy does the summing so that the
    # networkx side is timed at its best, not at a Python loop over rows.
    n = ev.entity_count
    keys, inverse = np.unique(ev.edge_src * n + ev.edge_dst, return_inverse=True)
    sums = np.bincount(inverse, weights=w, minlength=len(keys))
    g = nx.DiGraph()
    g.add_nodes_from(range(n))
    g.add_weighted_edges_from(
        zip((keys // n).tolist(), (keys % n).tolist(), sums.tolist(), strict=True)
    )
    g.add_weighted_edges_from(
        (u, v, params.structural_weight)
        for u, v in zip(ev.struct_src.tolist(), ev.struct_dst.tolist(), strict=True)
    )
    pers = {i: float(p[i]) for i in np.flatnonzero(p)}
    nx.pagerank(
        g,
        alpha=params.alpha,
        personalization=pers,
        dangling=pers,
        tol=params.tol / ev.entity_count,
        max_iter=10_000,
        weight="weight",
    )
    return {}


def _scipy(ev: Evidence, params: ScoringParams, p: np.ndarray) -> dict[str, float]:
    import scipy.sparse as sp

    n = ev.entity_count
    w = _decayed(ev, params)
    rows = np.concatenate((ev.edge_dst, ev.struct_dst))
    cols = np.concatenate((ev.edge_src, ev.struct_src))
    data = np.concatenate((w, np.full(len(ev.struct_src), params.structural_weight)))
    out = np.bincount(cols, weights=data, minlength=n)
    data /= out[cols]
    m = sp.csr_array((data, (rows, cols)), shape=(n, n))
    dangling = out == 0
    x = p.copy()
    alpha = params.alpha
    for iteration in range(1, params.max_iter + 1):
        x_new = alpha * (m @ x) + (alpha * x[dangling].sum() + 1 - alpha) * p
        err = np.abs(x_new - x).sum()
        x = x_new
        if err < params.tol:
            return {"iterations": iteration}
    raise RuntimeError("scipy baseline did not converge")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="100k,1m,10m", help="comma list of 100k, 1m, 10m")
    parser.add_argument("--rng-seed", type=int, default=7, help="seed of the synthetic graphs")
    parser.add_argument("--case", help=argparse.SUPPRESS)  # internal: subprocess mode
    parser.add_argument("--path", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.case:
        print(json.dumps(run_case(args.case, Path(args.path))))
        return

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for label in args.sizes.split(","):
            edges = SIZES[label.strip().lower()]
            path = Path(tmp) / f"evidence-{label}"
            save(synthetic_evidence(edges, args.rng_seed), path)
            cases = ["engine", "scipy"] + (["networkx"] if edges <= 1_000_000 else [])
            results = {}
            for case in cases:
                proc = subprocess.run(
                    [sys.executable, __file__, "--case", case, "--path", str(path)],
                    check=True,
                    capture_output=True,
                    text=True,
                )
                results[case] = json.loads(proc.stdout.strip().splitlines()[-1])
            rows.append((label, edges, results))
            shutil.rmtree(path)
    _print_table(rows)


def _print_table(rows: list[tuple[str, int, dict[str, dict[str, float]]]]) -> None:
    columns = [
        "edges", "entities", "case", "time (s)", "peak RSS (MB)", "+peak (MB)", "iterations",
        "engine speed-up",
    ]  # fmt: skip
    cells: list[list[object]] = []
    for _label, edges, results in rows:
        engine = results["engine"]["seconds"]
        for case in ("engine", "scipy", "networkx"):
            if case not in results:
                skipped = "skipped (too slow / too large at this size)"
                cells.append([f"{edges:,}", "", case, skipped, "", "", "", ""])
                continue
            r = results[case]
            cells.append(
                [
                    f"{edges:,}", f"{int(r['n']):,}", case, f"{r['seconds']:.3f}",
                    f"{r['peak'] / 2**20:.0f}", f"{r['delta'] / 2**20:.0f}",
                    int(r["iterations"]) if "iterations" in r else "n/a",
                    "1x" if case == "engine" else f"{r['seconds'] / engine:.1f}x",
                ]
            )  # fmt: skip
    table(columns, cells)


if __name__ == "__main__":
    main()
