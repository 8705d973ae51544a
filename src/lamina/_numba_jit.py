"""numba's ``njit`` as lamina's compiled kernels use it (imported only by those kernel modules,
which load only when numba is installed and the compiled kernels are on)."""
from __future__ import annotations

from typing import Callable

import numba


def jit(function: Callable) -> Callable:
    """``function`` compiled in NumPy's error model (division by zero gives inf, not an exception:
    the loops vectorize), without the GIL, cached on disk where numba may write its cache."""
    try:
        return numba.njit(error_model="numpy", nogil=True, cache=True)(function)
    except RuntimeError:  # no folder numba may write its cache to: compile in each process
        return numba.njit(error_model="numpy", nogil=True)(function)
