"""The fused groups of the compiled step (``replay_fusion.py`` finds them): each does what its
recorded primitives did, in fewer calls, into buffers of its own made once per shape of batch.

Each has ``forward(slots, residuals)`` and ``backward(slots, grads, residuals, learning_rate)``
(the ops of ``replay_ops.py``) and ``fresh``: the slots whose gradient it writes into a buffer
of its own (nobody else holds it, so the one consumer of that gradient may change it in place
when no other op adds to it: ``owns_gradient``).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..backend import config
from . import sgd_in_product
from .replay_ops import contribute


class Affine:
    """``matmul(a, w) + b`` with a 1-D ``b``: the product and the bias added into one buffer; back,
    ``a``'s gradient into a buffer, and ``w``'s and ``b``'s either into buffers (for the optimizer)
    or, under plain SGD, straight into the weights: ``w``'s inside its gradient's product
    (``sgd_in_product.py``), ``b``'s from the product of a row of ones with the output's gradient."""

    def __init__(self, a: int, w: int, b: int, out: int, kinds: list, needs: tuple, folds: tuple):
        self.a, self.w, self.b, self.out = a, w, b, out
        shape, dtype = kinds[out]
        self.buffer = np.empty(shape, dtype)
        need_a, need_w, need_b = needs
        self.fold_w, self.fold_b = folds  # the Variables updated inside their products, or None
        self.grad_a = np.empty(kinds[a][0], dtype) if need_a else None
        self.grad_w = np.empty(kinds[w][0], dtype) if need_w and self.fold_w is None else None
        self.grad_b = np.empty(kinds[b][0], dtype) if need_b and self.fold_b is None else None
        self.ones = np.ones((1, shape[0]), dtype)
        self.bias_step = np.empty((1, shape[1]), dtype)
        self.fresh = {slot for slot, grad in ((a, self.grad_a), (w, self.grad_w), (b, self.grad_b)) if grad is not None}
        self.targets = self.fresh

    def forward(self, slots: list, residuals: list) -> None:
        out = np.matmul(slots[self.a], slots[self.w], out=self.buffer)
        slots[self.out] = np.add(out, slots[self.b], out=out)  # NumPy's products: ctypes costs ~8 us a call

    def backward(self, slots: list, grads: list, residuals: list, learning_rate) -> None:
        g = grads[self.out]
        if g is None:
            return
        w, a = slots[self.w], slots[self.a]
        if self.grad_a is not None:  # from the weights before their update
            contribute(grads, self.a, np.matmul(g, w.T, out=self.grad_a))
        if self.fold_w is not None:
            sgd_in_product.update(a, g, self.fold_w, learning_rate)
        elif self.grad_w is not None:
            contribute(grads, self.w, np.matmul(a.T, g, out=self.grad_w))
        if self.fold_b is not None:  # the batch's sum as a product with a row of ones
            step = np.matmul(self.ones, g, out=self.bias_step)
            np.multiply(step, learning_rate, out=step)
            np.subtract(slots[self.b], step[0], out=slots[self.b])
        elif self.grad_b is not None:
            contribute(grads, self.b, np.add.reduce(g, axis=0, out=self.grad_b))


    def gradients_into(self, views: dict[int, np.ndarray]) -> None:
        """Write the gradients of ``w`` and ``b`` into these arrays (by slot) from now on."""
        for name, slot in (("grad_w", self.w), ("grad_b", self.b)):
            buffer, view = getattr(self, name), views.get(slot)
            if buffer is not None and view is not None and view.shape == buffer.shape and view.dtype == buffer.dtype:
                setattr(self, name, view)


class Relu:
    """``relu(z)`` into a buffer (numba's loop when the compiled kernels are on); back,
    ``g * (y > 0)``, in place when this op owns ``g`` (``owns_gradient``)."""

    def __init__(self, z: int, y: int, kinds: list, needs_z: bool, compiled: Any):
        self.z, self.y = z, y
        shape, dtype = kinds[y]
        self.buffer = np.empty(shape, dtype)
        self.grad = np.empty(shape, dtype) if needs_z else None
        two_d = compiled is not None and len(shape) == 2
        self.into = compiled.relu_into if two_d else _relu_into
        self.derivative_into = compiled.relu_derivative_into if two_d else _relu_derivative_into
        self.owns_gradient = False  # set by the fusion pass once every op is known
        self.fresh = self.targets = {z} if needs_z else set()

    def forward(self, slots: list, residuals: list) -> None:
        self.into(slots[self.z], self.buffer)  # into the buffer (the compiled loop returns nothing)
        slots[self.y] = self.buffer

    def backward(self, slots: list, grads: list, residuals: list, learning_rate) -> None:
        g = grads[self.y]
        if g is None or self.grad is None:
            return
        if self.owns_gradient:
            self.derivative_into(g, slots[self.y])  # in place
            contribute(grads, self.z, g)
        else:
            contribute(grads, self.z, np.multiply(g, slots[self.y] > 0, out=self.grad))


def _relu_into(z, out):
    return np.maximum(z, 0, out=out)


def _relu_derivative_into(dy, y):
    dy *= y > 0
    return dy


class SoftmaxCrossentropy:
    """``categorical_crossentropy(one_hot(labels), softmax(z))`` on probabilities: the softmax
    and each row's loss in one compiled pass, and back, ``g * (q - onehot)`` by rows (zero where
    the clip holds), which is what the two VJPs give (``_replay_kernels.py``)."""

    def __init__(self, z: int, labels: int, p: int, loss: int, kinds: list, needs_z: bool, compiled: Any):
        self.z, self.labels, self.p, self.loss = z, labels, p, loss
        self.kernels = compiled
        self.probabilities = np.empty(*kinds[p])
        self.losses = np.empty(*kinds[loss])
        self.grad = np.empty(*kinds[z]) if needs_z else None
        self.rows = kinds[loss][0]
        self.fresh = self.targets = {z} if needs_z else set()

    def forward(self, slots: list, residuals: list) -> None:
        p = self.probabilities
        eps = p.dtype.type(config.epsilon())
        self.kernels.softmax_crossentropy_rows(np.ascontiguousarray(slots[self.z]), self._labels(slots), p,
                                               self.losses, eps)
        slots[self.p], slots[self.loss] = p, self.losses

    def backward(self, slots: list, grads: list, residuals: list, learning_rate) -> None:
        g = grads[self.loss]
        if g is None or self.grad is None:
            return
        p = self.probabilities
        if g.shape != self.rows or g.dtype != p.dtype or not g.flags.c_contiguous:
            g = np.ascontiguousarray(np.broadcast_to(g, self.rows), p.dtype)
        self.kernels.softmax_crossentropy_grad(p, self._labels(slots), g, self.grad, p.dtype.type(config.epsilon()))
        contribute(grads, self.z, self.grad)

    def _labels(self, slots: list) -> np.ndarray:
        return np.asarray(slots[self.labels]).astype(np.int64, copy=False)  # as one_hot reads them


class MeanTail:
    """A loss's mean over the batch, ``mean(values)`` or ``divide_no_nan(sum(values), constant)``:
    the scalar in one expression, and back, ``g / divisor`` written over a buffer shaped like
    ``values``. ``wide``: the division's form, in float64 as the eager division by a float64
    constant (0 for a divisor of 0); else the mean's, in the values' dtype."""

    def __init__(self, values: int, out: int, kinds: list, needs_values: bool, divisor: float, wide: bool):
        self.values, self.out = values, out
        self.divisor, self.wide = divisor, wide  # a constant of the program: the same at every step
        self.shape, self.dtype = kinds[values]
        self.out_dtype = kinds[out][1]
        self.needs_values = needs_values
        self.spread = np.empty(self.shape, self.dtype)  # the gradient of every value: one number
        self.fresh = self.targets = {values} if needs_values else set()

    def forward(self, slots: list, residuals: list) -> None:
        total = np.add.reduce(slots[self.values], axis=None, dtype=self.dtype)
        slots[self.out] = np.asarray(self._divided(total), self.out_dtype)

    def backward(self, slots: list, grads: list, residuals: list, learning_rate) -> None:
        g = grads[self.out]
        if g is None or not self.needs_values:
            return
        self.spread.fill(self._divided(np.asarray(g, self.dtype)))
        contribute(grads, self.values, self.spread)

    def _divided(self, value):
        if not self.wide:
            return value / int(self.divisor)  # NumPy's mean: the values' dtype over the count
        return float(value) / self.divisor if self.divisor != 0 else 0.0
