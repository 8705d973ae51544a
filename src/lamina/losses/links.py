"""Canonical links: an output activation and a loss whose derivatives cancel, so the gradient
with respect to the pre-activation is simply ``p - y`` (scaled). A loss declares the link it
has with an activation (``Loss.canonical_link``); the fused training plan uses one when the
model's last Dense layer and the loss have it, and never names a loss class itself.

Each link scores a batch (the summed loss, computed from the probabilities the step already
has) and turns the probabilities into the pre-activation gradient, in place.
"""
from __future__ import annotations

import numpy as np

from .. import _kernel_switch, backend


class Link:
    """``kind``: the name the metrics' shortcuts know (``"sparse"``, ``"categorical"``, ...)."""

    kind = ""

    def labels(self, y: np.ndarray) -> np.ndarray:
        """The targets as the link wants them (integer labels for the sparse link)."""
        return y

    def loss_sum(self, p: np.ndarray, rows: np.ndarray, y: np.ndarray) -> float:
        raise TypeError(f"{type(self).__name__} must implement loss_sum")

    def into_gradient(self, p: np.ndarray, rows: np.ndarray, y: np.ndarray) -> float:
        """Overwrite ``p`` with ``p - y``; return the scale that makes it the mean loss's gradient."""
        raise TypeError(f"{type(self).__name__} must implement into_gradient")

    def activate_and_loss(self, z: np.ndarray, rows: np.ndarray, y: np.ndarray) -> float | None:
        """Apply the output activation to the pre-activations ``z`` in place and return
        ``loss_sum``, in one compiled pass; None (the default, or numba missing): the caller
        applies the activation and calls ``loss_sum`` itself, with nothing changed."""
        return None


def _head_kernels():
    """The compiled head (``_link_kernels``) when the optimizers' compiled kernels are on, else None."""
    return _kernel_switch.compiled_module("lamina.losses._link_kernels")


def _clipped(p):
    eps = backend.epsilon()
    return np.clip(p, eps, 1 - eps)


class SparseSoftmax(Link):
    """Softmax with sparse categorical crossentropy."""

    kind = "sparse"

    def labels(self, y):
        y = np.asarray(y)
        if y.ndim == 2 and y.shape[1] == 1:
            y = y[:, 0]
        return y.astype(np.intp, copy=False)

    def loss_sum(self, p, rows, y):
        return -float(np.log(_clipped(p[rows, y])).sum())

    def into_gradient(self, p, rows, y):
        kernels = _head_kernels()
        if kernels is not None and p.flags.c_contiguous and y.dtype == np.intp and y.ndim == 1 \
                and kernels.sparse_gradient(p, y):
            return 1.0 / len(p)  # 1.1 us against 4.4 us at batch 32 (two-array fancy indexing)
        p[rows, y] -= 1
        return 1.0 / len(p)

    def activate_and_loss(self, z, rows, y):
        kernels = _head_kernels()
        if kernels is None or z.dtype.kind != "f" or not z.flags.c_contiguous or y.dtype != np.intp or y.ndim != 1:
            return None
        if not kernels.shift_rows(z, y):
            return None  # a label out of range: the NumPy form raises the IndexError
        np.exp(z, out=z)
        return float(kernels.normalize_sparse_loss(z, y, z.dtype.type(backend.epsilon())))


class CategoricalSoftmax(Link):
    """Softmax with categorical crossentropy (one-hot or soft labels)."""

    kind = "categorical"

    def loss_sum(self, p, rows, y):
        return -float((y * np.log(_clipped(p))).sum())

    def into_gradient(self, p, rows, y):
        p *= y.sum(axis=1, keepdims=True)
        p -= y
        return 1.0 / len(p)


class BinarySigmoid(Link):
    """Sigmoid with binary crossentropy (the mean over the units, as Keras)."""

    kind = "binary"

    def loss_sum(self, p, rows, y):
        q = _clipped(p)
        t = y.reshape(p.shape)
        return -float((t * np.log(q) + (1 - t) * np.log(1 - q)).sum()) / p.shape[1]

    def into_gradient(self, p, rows, y):
        p -= y.reshape(p.shape)
        return 1.0 / p.size


class SquaredLinear(Link):
    """A linear output with mean squared error."""

    kind = "squared"

    def loss_sum(self, p, rows, y):
        return float(np.square(p - y.reshape(p.shape)).sum()) / p.shape[1]

    def into_gradient(self, p, rows, y):
        p -= y.reshape(p.shape)
        return 2.0 / p.size
