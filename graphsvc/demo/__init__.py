"""The deterministic demo network: a realistic signed network with seven stories in it.

``generate(load_params())`` builds it; ``ensure_ndjson(data_dir)`` caches it as NDJSON in
the data directory, keyed by the parameters' digest. See ``seed_data/README.md``.
"""

from graphsvc.demo.cache import ensure_ndjson
from graphsvc.demo.generator import DemoNetwork, generate
from graphsvc.demo.network_params import GENERATOR_VERSION, NetworkParams, ParamsError, load_params
from graphsvc.demo.stories import StoryCast

__all__ = [
    "GENERATOR_VERSION",
    "DemoNetwork",
    "NetworkParams",
    "ParamsError",
    "StoryCast",
    "ensure_ndjson",
    "generate",
    "load_params",
]
