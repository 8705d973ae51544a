"""The sparse crossentropy node's forward and backward passes as compiled loops (imported only when
numba is installed and the compiled kernels are on, the switch of ``_kernel_switch.py``).

Why. A training loop of the user's own (or a replayed ``tf.function``) runs this node at every
step on a small batch, where NumPy's ~10 calls each way cost far more than the arithmetic: at
batch 32 x 10 classes, ~37 us forward and ~63 us backward against ~2 us each compiled (measured
on this 2-core machine under load; bench/RESULTS.md). The NumPy forms in ``nn_composite.py`` stay
the fallback and the reference (``tests/test_loss_nodes.py`` holds the two together).

A label outside ``[0, classes)`` gives a loss of 0 and no gradient, as its all-zero one-hot vector
does in the composite.
"""
from __future__ import annotations

import numpy as np

from .._numba_jit import jit


@jit
def sparse_loss(output, labels, eps, from_logits, out):
    """``out[r] = -log p[r, labels[r]]`` of each row (softmax of logits, or probabilities
    normalized and clipped to ``[eps, 1 - eps]``)."""
    n, k = output.shape
    for r in range(n):
        label = labels[r]
        if label < 0 or label >= k:
            out[r] = 0
            continue
        if from_logits:
            top = output[r, 0]
            for c in range(1, k):
                top = max(top, output[r, c])
            total = output.dtype.type(0)
            for c in range(k):
                total += np.exp(output[r, c] - top)
            out[r] = -((output[r, label] - top) - np.log(total))
        else:
            total = output.dtype.type(0)
            for c in range(k):
                total += output[r, c]
            out[r] = -np.log(min(max(output[r, label] / total, eps), 1 - eps))


@jit
def sparse_loss_grad(g, output, labels, eps, from_logits, out):
    """The gradient of ``sum(g * sparse_loss(output))`` with respect to ``output``, into ``out``."""
    n, k = output.shape
    for r in range(n):
        label = labels[r]
        if label < 0 or label >= k:
            for c in range(k):
                out[r, c] = 0
            continue
        total = output.dtype.type(0)
        if from_logits:  # g (softmax - one_hot)
            top = output[r, 0]
            for c in range(1, k):
                top = max(top, output[r, c])
            for c in range(k):
                e = np.exp(output[r, c] - top)
                out[r, c] = e
                total += e
            for c in range(k):
                out[r, c] = out[r, c] * (g[r] / total)
            out[r, label] -= g[r]
            continue
        for c in range(k):
            total += output[r, c]
        q = output[r, label] / total
        scale = g[r] / total if eps < q < 1 - eps else output.dtype.type(0)  # the clip stops the gradient
        for c in range(k):
            out[r, c] = scale
        out[r, label] = scale * (1 - 1 / q) if scale != 0 else scale
