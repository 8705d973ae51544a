"""The ``Loss`` base class and Keras's reductions.

A loss's ``call(y_true, y_pred)`` returns one value per sample, written in ``lamina.ops``; the
base class weights them (``sample_weight``, and a mask such as ``ignore_class``'s) and reduces
them: ``"sum_over_batch_size"`` (the default: the weighted sum divided by the number of values),
``"sum"``, ``"mean"`` (as sum_over_batch_size), ``"mean_with_sample_weight"`` (divided by the sum
of the weights) or ``"none"``. Everything stays a tensor, so a tape differentiates it.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from .. import backend, ops
from ..ops.tensor import Tensor

REDUCTIONS = ("sum_over_batch_size", "sum", "mean", "mean_with_sample_weight", "none", None)
# loss function -> which of its values count: what Keras marks with a mask on a function's output
# (circle's samples without a pair), so that a LossFunctionWrapper of the function leaves them out
OUTPUT_MASKS: dict[Callable, Callable] = {}


def squeeze_or_expand_to_same_rank(x1, x2, expand_rank_1: bool = True):
    """``x1`` and ``x2`` with a trailing axis of 1 removed (or added) so their ranks match."""
    r1, r2 = ops.ndim(x1), ops.ndim(x2)
    if r1 == r2:
        return x1, x2
    if r1 == r2 + 1 and ops.shape(x1)[-1] == 1:
        return ops.squeeze(x1, axis=-1), x2
    if r2 == r1 + 1 and ops.shape(x2)[-1] == 1:
        return x1, ops.squeeze(x2, axis=-1)
    if expand_rank_1 and r1 == 1 and r2 > 1:
        return ops.expand_dims(x1, -1), x2
    if expand_rank_1 and r2 == 1 and r1 > 1:
        return x1, ops.expand_dims(x2, -1)
    return x1, x2


def reduce_values(values, sample_weight=None, reduction="sum_over_batch_size") -> Tensor:
    """Keras's ``reduce_values``: the sum, divided as ``reduction`` says."""
    if reduction in ("none", None) or values.ndim == 0:
        return values
    if values.size and (reduction in ("sum_over_batch_size", "mean") or sample_weight is None
                        and reduction == "mean_with_sample_weight"):
        return ops.mean(values)  # the sum over the count, as one node (a training loop pays per op)
    loss = ops.sum(values)
    if reduction in ("sum_over_batch_size", "mean", "mean_with_sample_weight"):
        divisor: Tensor | float
        if reduction == "mean_with_sample_weight" and sample_weight is not None:
            divisor = ops.cast(ops.sum(sample_weight), loss.dtype)
        else:
            divisor = float(np.prod(values.shape))
        loss = ops.divide_no_nan(loss, divisor)
    return loss


def reduce_weighted_values(values, sample_weight=None, mask=None, reduction="sum_over_batch_size",
                           dtype=None) -> Tensor:
    """Weight ``values`` by ``sample_weight`` and ``mask`` (a mask under a mean is rescaled so
    the mean runs over the valid values), then reduce them."""
    values = ops.convert_to_tensor(values, dtype)
    if mask is not None:
        valid = ops.cast(mask, values.dtype)
        if reduction in ("sum_over_batch_size", "mean"):
            valid = valid * (float(np.prod(valid.shape)) / (ops.sum(valid) + backend.epsilon()))
        sample_weight = valid if sample_weight is None else valid * ops.cast(sample_weight, values.dtype)
    if sample_weight is None:
        return reduce_values(values, None, reduction)
    sample_weight = ops.cast(sample_weight, values.dtype)
    values, sample_weight = squeeze_or_expand_to_same_rank(values, sample_weight)
    values = values * sample_weight
    if reduction in ("none", None):
        return values
    return reduce_values(values, sample_weight, reduction)


class Loss:
    """Base class: subclasses write ``call(y_true, y_pred)`` in ops (one value per sample).

    >>> import numpy as np
    >>> from lamina import ops
    >>> class Quartic(Loss):
    ...     def call(self, y_true, y_pred):
    ...         return ops.mean((y_pred - y_true) ** 4, axis=-1)
    >>> float(Quartic()(np.zeros((2, 1)), np.ones((2, 1))))
    1.0
    """

    reductions = REDUCTIONS

    def __init__(self, name: str | None = None, reduction: str | None = "sum_over_batch_size",
                 dtype: str | np.dtype | None = None):
        if reduction == "auto":  # tf.keras 2's Reduction.AUTO: sum_over_batch_size outside a distribution strategy
            reduction = "sum_over_batch_size"
        if reduction not in self.reductions:
            raise ValueError(f"{type(self).__name__} reduction must be one of {self.reductions}, got {reduction!r}")
        self.name = name or backend.snake_case(type(self).__name__)
        self.reduction = reduction
        self.dtype = dtype

    def call(self, y_true, y_pred):
        raise TypeError(f"{type(self).__name__} must implement call(y_true, y_pred)")

    def mask(self, y_true, y_pred):
        """Which samples count (None: all), as Keras's mask on the per-sample losses."""
        return None

    def output_mask(self, values):
        """Which of the per-sample ``values`` count (None: all), decided from the values themselves."""
        return None

    def canonical_link(self, activation: str):
        """The link this loss has with the output ``activation`` (see ``links.py``), or None."""
        return None

    def __call__(self, y_true, y_pred, sample_weight=None):
        dtype = self.dtype or backend.floatx()
        y_pred = _as_tensor(y_pred, dtype)
        y_true = _as_tensor(y_true, dtype)
        values = self.call(y_true, y_pred)
        mask, produced = self.mask(y_true, y_pred), self.output_mask(values)
        if produced is not None:
            mask = produced if mask is None else ops.logical_and(mask, produced)
        return reduce_weighted_values(values, sample_weight, mask, self.reduction, dtype)

    def get_config(self) -> dict:
        return {"name": self.name, "reduction": self.reduction}

    @classmethod
    def from_config(cls, config: dict):
        return cls(**config)


def _as_tensor(value, dtype):
    if isinstance(value, Tensor):
        return value if value.dtype == dtype or value._value.dtype.kind != "f" else ops.cast(value, dtype)
    return ops.convert_to_tensor(value, dtype)


class LossFunctionWrapper(Loss):
    """A ``Loss`` around a per-sample function; its keyword arguments are passed on each call.

    >>> import numpy as np
    >>> from lamina.losses import huber
    >>> loss = LossFunctionWrapper(huber, name="huber_loss", delta=0.5)
    >>> float(loss(np.array([[0.0]]), np.array([[2.0]])))
    0.875
    """

    def __init__(self, fn: Callable, reduction: str | None = "sum_over_batch_size", name: str | None = None,
                 dtype: str | np.dtype | None = None, **kwargs):
        super().__init__(name or getattr(fn, "__name__", "loss"), reduction, dtype)
        self.fn, self.kwargs = fn, kwargs

    def call(self, y_true, y_pred):
        return self.fn(y_true, y_pred, **self.kwargs)

    def output_mask(self, values):
        masking = OUTPUT_MASKS.get(self.fn)
        return None if masking is None else masking(values)

    def get_config(self) -> dict:
        return {**super().get_config(), **self.kwargs}
