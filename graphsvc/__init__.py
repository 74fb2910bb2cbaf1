"""graphsvc: a reputation and attribution graph for verifiable AI inference networks."""

from importlib.metadata import PackageNotFoundError, version


def __getattr__(name: str) -> str:
    # ``graphsvc.__version__`` is the installed distribution's, set from git tags at build
    # time (pyproject.toml); read on first use so that importing the package reads nothing.
    if name != "__version__":
        raise AttributeError(f"module 'graphsvc' has no attribute {name!r}")
    try:
        return version("graphsvc")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown"
