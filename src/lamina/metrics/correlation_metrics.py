"""Correlation between labels and predictions, per sample along an axis, then averaged over the
samples seen: ``pearson_correlation`` / ``PearsonCorrelation`` and ``concordance_correlation`` /
``ConcordanceCorrelation``, as Keras 3 computes them.

>>> import numpy as np
>>> y_true = np.array([[0, 1, 0.5], [1, 1, 0.2]])
>>> y_pred = np.array([[0.1, 0.9, 0.5], [1, 0.9, 0.2]])
>>> [round(float(v), 4) for v in pearson_correlation(y_true, y_pred)]
[1.0, 0.9934]
"""
from __future__ import annotations

from .. import backend, ops
from ..losses import squeeze_or_expand_to_same_rank
from ..ops.tensor import Tensor, TensorLike
from .metric import MeanMetricWrapper


def _aligned(y_true, y_pred):
    """Both as tensors of ``y_pred``'s dtype, with a trailing axis of 1 matched (Keras's order)."""
    y_pred = ops.convert_to_tensor(y_pred)
    y_true = ops.convert_to_tensor(y_true, dtype=y_pred.dtype)
    return squeeze_or_expand_to_same_rank(y_true, y_pred)


def pearson_correlation(y_true: TensorLike, y_pred: TensorLike, axis: int = -1) -> Tensor:
    """The Pearson correlation of ``y_true`` and ``y_pred`` along ``axis``: the mean product of
    the two, each centred and divided by its (population) standard deviation. A constant row has
    no spread and gives nan, as in Keras."""
    y_true, y_pred = _aligned(y_true, y_pred)
    t = y_true - ops.mean(y_true, axis=axis, keepdims=True)
    p = y_pred - ops.mean(y_pred, axis=axis, keepdims=True)
    t = t / ops.std(t, axis=axis, keepdims=True)
    p = p / ops.std(p, axis=axis, keepdims=True)
    return ops.mean(t * p, axis=axis)


def concordance_correlation(y_true: TensorLike, y_pred: TensorLike, axis: int = -1) -> Tensor:
    """Lin's concordance correlation along ``axis``: ``2 * covariance / (var(y_true) +
    var(y_pred) + (mean(y_true) - mean(y_pred))**2)``, with ``epsilon`` in the denominator."""
    y_true, y_pred = _aligned(y_true, y_pred)
    true_mean = ops.mean(y_true, axis=axis, keepdims=True)
    pred_mean = ops.mean(y_pred, axis=axis, keepdims=True)
    true_var = ops.var(y_true - true_mean, axis=axis, keepdims=True)
    pred_var = ops.var(y_pred - pred_mean, axis=axis, keepdims=True)
    covariance = (y_true - true_mean) * (y_pred - pred_mean)
    spread = true_var + pred_var + ops.square(true_mean - pred_mean)
    return ops.mean(2 * covariance / (spread + backend.epsilon()), axis=axis)


class PearsonCorrelation(MeanMetricWrapper):
    """The mean over the samples of ``pearson_correlation`` (1: a perfect linear relation,
    0: none, -1: a perfect inverse one).

    >>> import numpy as np
    >>> m = PearsonCorrelation()
    >>> m.update_state(np.array([[0, 1, 0.5], [1, 1, 0.2]]), np.array([[0.1, 0.9, 0.5], [1, 0.9, 0.2]]))
    >>> round(float(m.result()), 4)
    0.9967
    """

    def __init__(self, name: str | None = "pearson_correlation", dtype: str | None = None, axis: int = -1):
        super().__init__(pearson_correlation, name, dtype, axis=axis)
        self.axis = axis


class ConcordanceCorrelation(MeanMetricWrapper):
    """The mean over the samples of ``concordance_correlation`` (1: perfect agreement).

    >>> import numpy as np
    >>> m = ConcordanceCorrelation()
    >>> m.update_state(np.array([[0, 1, 0.5], [1, 1, 0.2]]), np.array([[0.1, 0.9, 0.5], [1, 0.9, 0.2]]))
    >>> round(float(m.result()), 4)
    0.9816
    """

    def __init__(self, name: str | None = "concordance_correlation", dtype: str | None = None, axis: int = -1):
        super().__init__(concordance_correlation, name, dtype, axis=axis)
        self.axis = axis
