"""Compiled passes of the compiled step's fused softmax + crossentropy (``replay_kernels.py``;
imported only when numba is installed and the compiled kernels are on, the switch of
``_kernel_switch.py``).

They compute what the eager ops compute (``ops.softmax``, then ``categorical_crossentropy`` of
``one_hot(labels)`` on probabilities, with its normalisation and its clip), row by row in one
pass instead of ~12 NumPy calls forward and ~15 back: a label out of range is a zero one-hot row
(loss 0, gradient 0), and a probability clipped by ``epsilon`` stops the row's gradient, as the
clip does in the eager VJP.
"""
from __future__ import annotations

import numpy as np

from .._numba_jit import jit
from ..losses._link_kernels import softmax_row


@jit
def softmax_crossentropy_rows(z, labels, p, loss, eps):
    """``p = softmax(z)`` by rows; ``loss[r] = -log(clip(q[r, label], eps, 1 - eps))`` where
    ``q = p / p.sum()`` (what the crossentropy on probabilities takes), 0 for a label out of range."""
    n, k = z.shape
    for r in range(n):
        softmax_row(z, p, r)
        label = labels[r]
        if label < 0 or label >= k:
            loss[r] = 0
            continue
        norm = p.dtype.type(0)
        for c in range(k):
            norm += p[r, c]
        q = p[r, label] / norm
        loss[r] = -np.log(min(max(q, eps), 1 - eps))


@jit
def softmax_crossentropy_grad(p, labels, g, dz, eps):
    """``dz[r] = g[r] * (q[r] - onehot[r])`` with ``q = p / p.sum()`` by rows; 0 for a row whose
    label is out of range or whose ``q[label]`` the clip holds (the eager VJP's ``inside``)."""
    n, k = p.shape
    for r in range(n):
        label = labels[r]
        norm = p.dtype.type(0)
        for c in range(k):
            norm += p[r, c]
        inside = False
        if 0 <= label < k:
            q = p[r, label] / norm
            inside = q > eps and q < 1 - eps
        if not inside:
            for c in range(k):
                dz[r, c] = 0
            continue
        for c in range(k):
            dz[r, c] = g[r] * (p[r, c] / norm)
        dz[r, label] -= g[r]
