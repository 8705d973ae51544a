"""A batch's rows copied from the user's array into the fused plan's input buffer, cast as they go.

The rows of a shuffled batch sit at random places in the user's array (the lesson's are 6 KB of
float64 each), so the copy waits on the memory at each new row: ~1 us a row where a contiguous
block of the same size takes ~0.35 us (bench/RESULTS.md). With numba the copy is a loop that asks
for the next row's cache lines while it copies one (``_plan_kernels.gather_rows``); without, or
for arrays it does not take, NumPy's fancy indexing and a cast (faster than ``np.take`` into a
staging array). Both give the same values, NumPy's cast.
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np

# the user's dtypes the compiled loop takes (each compiled once, cached on disk); others go through NumPy
COMPILED_DTYPES = frozenset(map(np.dtype, (np.float32, np.float64, np.uint8, np.int8, np.uint16, np.int16,
                                           np.uint32, np.int32, np.uint64, np.int64)))
# an ndarray subclass of the user's own may read its rows its own way (its __getitem__): NumPy's form
COMPILED_TYPES = (np.ndarray, np.memmap)


def compiled_takes(x2d, index) -> bool:
    """Whether the compiled loop can copy rows ``index`` of ``x2d``: a C-contiguous plain array of
    a dtype above, indices as one ``intp`` array (not a slice)."""
    return (type(x2d) in COMPILED_TYPES and x2d.dtype in COMPILED_DTYPES and x2d.flags.c_contiguous
            and isinstance(index, np.ndarray) and index.dtype == np.intp and index.ndim == 1)


def gather(x2d: np.ndarray, index, out: np.ndarray, compiled: Callable | None = None) -> None:
    """Rows ``index`` (indices or a slice) of ``x2d`` into ``out``, cast to its dtype: through
    ``compiled`` (``_plan_kernels.gather_rows``, or None) when it takes the arrays, else NumPy,
    which also raises or wraps out-of-range indices as NumPy does (the loop declines them)."""
    if compiled is not None and compiled_takes(x2d, index) and compiled(x2d, index, out):
        return
    np.copyto(out, x2d[index], casting="unsafe")
