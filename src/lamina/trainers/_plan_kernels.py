"""Compiled relu passes for the fused plan (imported only when numba is installed and the compiled
kernels are wanted, the switch of ``optimizers/kernels.py``).

NumPy's ``maximum(z, 0, out=z)`` and ``dy *= y > 0`` on the plan's column-slice buffers take ~2x
the time of one compiled loop (the derivative's NumPy form also builds a boolean temporary):
measured, the lesson's epoch at batch 1024 ran 4% faster with these, 1% at batch 32
(bench/RESULTS.md). Both keep NumPy's results exactly, NaN included.
"""
from __future__ import annotations

from .._numba_jit import jit




@jit
def relu_into(z, out):
    """``out = max(z, 0)``, NaN kept (as ``np.maximum``)."""
    for i in range(z.shape[0]):
        for j in range(z.shape[1]):
            v = z[i, j]
            out[i, j] = 0 if v < 0 else v
    return out


@jit
def relu_derivative_into(dy, y):
    """``dy *= y > 0`` in place."""
    for i in range(dy.shape[0]):
        for j in range(dy.shape[1]):
            dy[i, j] *= y[i, j] > 0
    return dy
