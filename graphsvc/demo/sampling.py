"""Random draws built from uniform doubles only.

NumPy documents that ``Generator`` methods such as ``choice`` or ``integers`` may change
their output between releases, while the PCG64 bit stream and ``random()`` are stable.
Every draw here is therefore derived from ``Generator.random`` with exact arithmetic
(sums, comparisons, floor), so a NumPy upgrade does not change the generated network.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]

# One independent stream per concern: editing one parameter (say the number of disputes)
# must not reshuffle unrelated parts of the network.
_STREAMS = {
    "names": 1,
    "models": 2,
    "nodes": 3,
    "cast": 4,
    "traffic": 5,
    "ring": 6,
    "faults": 7,
    "audits": 8,
    "disputes": 9,
}


def stream(seed: int, name: str) -> np.random.Generator:
    return np.random.default_rng([seed, _STREAMS[name]])


def categorical(u: Floats, weights: Floats) -> Ints:
    """Index drawn with probability proportional to ``weights``, for each uniform in ``u``."""
    cumulative = np.cumsum(weights, dtype=np.float64)
    picks = np.searchsorted(cumulative, u * cumulative[-1], side="right")
    # u * total can round up to total itself; that draw belongs to the last item.
    result: Ints = np.minimum(picks, len(weights) - 1).astype(np.int64)
    return result


def below(u: Floats, n: int) -> Ints:
    """Uniform integers in ``[0, n)``."""
    return np.minimum(np.floor(u * n), n - 1).astype(np.int64)


def distinct(rng: np.random.Generator, weights: Floats, k: int) -> list[int]:
    """``k`` distinct indices, each draw proportional to the remaining ``weights``."""
    remaining = np.array(weights, dtype=np.float64)
    chosen: list[int] = []
    for u in rng.random(k):
        if remaining.sum() <= 0.0:
            raise ValueError(f"cannot draw {k} distinct items from {len(weights)} with weight")
        index = int(categorical(np.array([u]), remaining)[0])
        chosen.append(index)
        remaining[index] = 0.0
    return chosen


def zipf_weights(n: int, exponent: float) -> Floats:
    """Weight of rank ``k`` (1-based) proportional to ``k ** -exponent``."""
    return np.arange(1, n + 1, dtype=np.float64) ** -exponent


def apportion(total: int, weights: Floats) -> Ints:
    """Split ``total`` into integer counts proportional to ``weights`` (largest remainder)."""
    exact = np.asarray(weights, dtype=np.float64) * (total / float(np.sum(weights)))
    counts = np.floor(exact).astype(np.int64)
    # Ties in the remainder go to the lower index: stable sort on the negated remainder.
    order = np.argsort(-(exact - counts), kind="stable")
    counts[order[: total - int(counts.sum())]] += 1
    return counts


def permutation(rng: np.random.Generator, n: int) -> Ints:
    """A uniform random permutation of ``range(n)`` (sorting uniforms; ties by index)."""
    return np.argsort(rng.random(n), kind="stable").astype(np.int64)
