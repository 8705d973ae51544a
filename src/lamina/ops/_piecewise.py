"""Activations written in other ops (``where``, ``clip``...): piecewise ones, and ``glu``; the
tape differentiates them op by op. Split from ``nn.py``, which re-exports them."""
from __future__ import annotations

from collections.abc import Sequence

from .tensor import Tensor, TensorLike


def _ops():
    from .. import ops
    return ops


def hard_tanh(x: TensorLike) -> Tensor:
    """``x`` clipped to ``[-1, 1]``."""
    return _ops().clip(x, -1.0, 1.0)


def hard_shrink(x: TensorLike, threshold: float = 0.5) -> Tensor:
    """``x`` where ``|x| > threshold``, else 0."""
    ops = _ops()
    return ops.where(ops.abs(x) > threshold, x, 0.0)


def soft_shrink(x: TensorLike, threshold: float = 0.5) -> Tensor:
    """``x`` moved ``threshold`` towards 0, and 0 within ``threshold`` of it."""
    ops = _ops()
    return ops.where(x > threshold, ops.subtract(x, threshold), ops.where(x < -threshold, ops.add(x, threshold), 0.0))


def tanh_shrink(x: TensorLike) -> Tensor:
    """``x - tanh(x)``."""
    ops = _ops()
    return ops.subtract(x, ops.tanh(x))


def sparse_plus(x: TensorLike) -> Tensor:
    """0 below -1, ``x`` above 1, ``(x + 1)**2 / 4`` between."""
    ops = _ops()
    return ops.where(x <= -1, 0.0, ops.where(x >= 1, x, ops.square(ops.add(x, 1.0)) / 4.0))


def sparse_sigmoid(x: TensorLike) -> Tensor:
    """0 below -1, 1 above 1, ``(x + 1) / 2`` between."""
    ops = _ops()
    return ops.where(x <= -1, 0.0, ops.where(x >= 1, 1.0, ops.add(x, 1.0) / 2.0))


def squareplus(x: TensorLike, b: TensorLike = 4) -> Tensor:
    """``(x + sqrt(x**2 + b)) / 2``."""
    ops = _ops()
    return ops.add(x, ops.sqrt(ops.add(ops.square(x), float(b)))) / 2.0


def threshold(x: TensorLike, threshold, default_value) -> Tensor:
    """``x`` where ``x > threshold``, else ``default_value``."""
    ops = _ops()
    return ops.where(ops.greater(x, threshold), x, default_value)


def glu(x: TensorLike, axis: int | Sequence[int] | None = -1) -> Tensor:
    """The gated linear unit: ``a * sigmoid(b)`` for the two halves ``a, b`` of ``x`` along ``axis``."""
    ops = _ops()
    a, b = ops.split(x, 2, axis=axis)
    return ops.multiply(a, ops.sigmoid(b))
