"""graphsvc: a reputation and attribution graph for verifiable AI inference networks."""

__version__ = "0.1.0"
