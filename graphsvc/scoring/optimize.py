"""Bounded minimisation of the few parameters the models fit (the risk prior's ``mu`` and
``s``, a Platt map's slope and intercept), on one BLAS thread.

scipy's L-BFGS-B makes a few BLAS calls per iteration on its tiny matrices, and each
wakes every OpenBLAS thread, which then spins on the other cores while the objective
(a sum over up to a quarter of a million events) is evaluated: on the 300k-rating
replay that doubled the CPU the fits cost. One thread gives the same iterates, so the
same result, bit for bit (docs/decisions/0087-replay-at-network-speed.md).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cache
from typing import Any

import numpy as np
from scipy.optimize import minimize
from threadpoolctl import ThreadpoolController

Objective = Callable[[np.ndarray], tuple[float, np.ndarray]]


def minimize_bounded(
    loss: Objective, start: np.ndarray, bounds: Sequence[tuple[float, float]]
) -> np.ndarray:
    """The minimiser L-BFGS-B finds for ``loss`` (value and gradient) from ``start``
    within ``bounds``, computed with BLAS on one thread."""
    with _thread_pools().limit(limits=1, user_api="blas"):
        result = minimize(loss, start, jac=True, method="L-BFGS-B", bounds=list(bounds))
    x: np.ndarray = result.x
    return x


@cache
def _thread_pools() -> Any:
    """The process's native thread pools, found once, when first needed (not at import)."""
    return ThreadpoolController()
