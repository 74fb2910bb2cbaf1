"""Generate the demo network once per parameter set and keep it in the data directory."""

from __future__ import annotations

from pathlib import Path

from graphsvc.demo.generator import generate
from graphsvc.demo.network_params import NetworkParams, load_params


def cached_path(directory: Path, params: NetworkParams) -> Path:
    # The digest covers the parameters and the generator version: editing network.json
    # or upgrading graphsvc regenerates instead of loading a stale network.
    return directory / f"network-{params.digest()[:16]}.ndjson"


def ensure_ndjson(directory: Path, params: NetworkParams | None = None) -> Path:
    """The NDJSON file of the network for ``params`` (default ``seed_data/network.json``)
    in ``directory``, generated first if it is not there yet."""
    params = load_params() if params is None else params
    path = cached_path(directory, params)
    if not path.is_file():
        generate(params).write_ndjson(path)
    return path
