"""The compiled output head of the fused training step (imported only when numba is installed and
the compiled kernels are wanted, the switch of ``_kernel_switch.py``).

``softmax_sparse_loss`` does in one pass over the batch's logits what ``links.SparseSoftmax``
does in NumPy as ~8 calls (max, subtract, exp, sum, divide, pick, clip, log, sum): measured at
batch 32, ~2 us against ~12 us; at batch 1024, ~110 us against ~185 us (bench/RESULTS.md).
``sparse_gradient`` turns the probabilities into ``p - onehot`` in place: ~1.1 us at batch 32
against ~4.4 us for ``p[rows, y] -= 1``.
"""
from __future__ import annotations

from .._numba_jit import jit
import numpy as np




@jit
def softmax_row(z, p, r):
    """``p[r] = softmax(z[r])`` (``p`` may be ``z``): the row's max subtracted, exponentials, their sum."""
    k = z.shape[1]
    top = z[r, 0]
    for c in range(1, k):
        top = max(top, z[r, c])
    total = p.dtype.type(0)
    for c in range(k):
        e = np.exp(z[r, c] - top)
        p[r, c] = e
        total += e
    for c in range(k):
        p[r, c] /= total


@jit
def softmax_sparse_loss(z, y, eps):
    """Softmax of each row of ``z`` in place; the summed ``-log(clip(p[row, y[row]]))``; -1 with
    ``z`` untouched when a label is out of range (numba does not check indices)."""
    loss = 0.0
    n, k = z.shape
    for r in range(n):
        if y[r] < 0 or y[r] >= k:
            return -1.0
    for r in range(n):
        softmax_row(z, z, r)
        loss -= np.log(min(max(z[r, y[r]], eps), 1 - eps))
    return loss


@jit
def sparse_gradient(p, y):
    """``p[row, y[row]] -= 1`` for every row; False with ``p`` untouched when a label is out of
    range (the NumPy form then raises its IndexError)."""
    n, k = p.shape
    for r in range(n):
        if y[r] < 0 or y[r] >= k:
            return False
    for r in range(n):
        p[r, y[r]] -= 1
    return True
