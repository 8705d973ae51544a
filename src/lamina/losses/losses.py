"""Losses with Keras's names, formulas and reductions, each with its gradient.

A loss function (``sparse_categorical_crossentropy(y_true, y_pred)``) returns one value per
sample. A ``Loss`` object reduces them (``"sum_over_batch_size"``: the weighted sum divided by
the batch size) and gives the gradient of that reduced value with respect to ``y_pred``.
Every built-in function has a gradient beside it (``_GRADIENTS``), so a ``Loss`` built from it
differentiates exactly; any other callable gets a numerical gradient (``CustomLoss``).

>>> import numpy as np
>>> loss = SparseCategoricalCrossentropy()
>>> round(float(loss(np.array([0]), np.array([[0.5, 0.5]]))), 4)
0.6931
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from .. import backend
from .._resolve import UNRESOLVED, from_registry

__all__ = ['sparse_categorical_crossentropy', 'categorical_crossentropy', 'binary_crossentropy', 'binary_focal_crossentropy', 'categorical_focal_crossentropy', 'mean_squared_error', 'mean_absolute_error', 'mean_absolute_percentage_error', 'mean_squared_logarithmic_error', 'huber', 'log_cosh', 'kl_divergence', 'poisson', 'cosine_similarity', 'hinge', 'squared_hinge', 'categorical_hinge', 'Loss', 'LossFunctionWrapper', 'SparseCategoricalCrossentropy', 'CategoricalCrossentropy', 'BinaryCrossentropy', 'BinaryFocalCrossentropy', 'CategoricalFocalCrossentropy', 'MeanSquaredError', 'MeanAbsoluteError', 'MeanAbsolutePercentageError', 'MeanSquaredLogarithmicError', 'Huber', 'LogCosh', 'KLDivergence', 'Poisson', 'CosineSimilarity', 'Hinge', 'SquaredHinge', 'CategoricalHinge', 'CustomLoss', 'mse', 'MSE', 'mae', 'MAE', 'mape', 'MAPE', 'msle', 'MSLE', 'kld', 'KLD', 'bce', 'BCE', 'logcosh']

REDUCTIONS = ("sum_over_batch_size", "sum", "mean", "mean_with_sample_weight", "none", None)


def _eps():
    return backend.epsilon()


def _sigmoid(x):
    return np.exp(-np.logaddexp(0, -x))


def _softmax(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _align(y_true, y_pred):
    """``y_true`` in ``y_pred``'s dtype and shape (a missing or extra trailing 1 is fixed), as
    Keras's ``squeeze_or_expand_to_same_rank`` does for the element-wise losses."""
    y_pred = np.asarray(y_pred)
    y_true = np.asarray(y_true, dtype=y_pred.dtype)
    if y_true.shape != y_pred.shape and y_true.size == y_pred.size:
        y_true = y_true.reshape(y_pred.shape)
    return y_true, y_pred


def check_label_smoothing(owner: str, label_smoothing) -> None:
    if not 0 <= label_smoothing <= 1:
        raise ValueError(f"{owner} label_smoothing must be in [0, 1], got {label_smoothing}")


def check_sparse_labels(y_true, n_classes: int, what: str = "y", ignore_class=None) -> None:
    """A clear error for labels that are not integers in ``[0, n_classes)`` (``ignore_class``
    labels are allowed anywhere)."""
    labels = np.asarray(y_true)
    if ignore_class is not None:
        labels = labels[labels != ignore_class]
    if labels.size == 0:
        return
    if labels.dtype.kind == "f" and not np.array_equal(labels, np.floor(labels)):
        raise ValueError(f"Sparse categorical labels in {what} must be integers, got non-integer values")
    low, high = labels.min(), labels.max()
    if low < 0 or high >= n_classes:
        raise ValueError(f"Sparse categorical labels in {what} must be in [0, {n_classes}) for an output "
                         f"of {n_classes} units, got values from {low} to {high}")


# --- crossentropies ------------------------------------------------------------------------------
def _sparse_labels(y_true, y_pred, ignore_class=None):
    """Integer labels (a trailing 1 squeezed); ignored ones become 0 so they index safely."""
    labels = np.asarray(y_true)
    if labels.ndim == y_pred.ndim and labels.shape[-1] == 1:
        labels = labels[..., 0]
    if ignore_class is not None:
        labels = np.where(labels == ignore_class, 0, labels)
    return labels.astype(np.intp, copy=False)


def _valid_labels(y_true, y_pred, ignore_class):
    labels = np.asarray(y_true)
    if labels.ndim == y_pred.ndim and labels.shape[-1] == 1:
        labels = labels[..., 0]
    return labels != ignore_class


def _one_hot(labels, like):
    dense = np.zeros_like(like)
    np.put_along_axis(dense, labels[..., None], 1, axis=-1)
    return dense


def _log_probabilities(y_pred, from_logits):
    if from_logits:
        shifted = y_pred - y_pred.max(axis=-1, keepdims=True)
        return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    p = y_pred / y_pred.sum(axis=-1, keepdims=True)
    return np.log(np.clip(p, _eps(), 1 - _eps()))


def _crossentropy_grad(y_true_dense, y_pred, from_logits):
    """d(-sum(t * log q)) / d y_pred, with q = softmax(logits) or clip(p / sum p)."""
    if from_logits:
        return _softmax(y_pred) * y_true_dense.sum(axis=-1, keepdims=True) - y_true_dense
    total = y_pred.sum(axis=-1, keepdims=True)
    q = y_pred / total
    inside = (q > _eps()) & (q < 1 - _eps())  # the clip stops the gradient outside
    t = y_true_dense * inside
    return -t / np.where(inside, y_pred, 1) + t.sum(axis=-1, keepdims=True) / total


def _smooth_categorical(y_true, label_smoothing):
    if label_smoothing:
        return y_true * (1 - label_smoothing) + label_smoothing / y_true.shape[-1]
    return y_true


def _smooth_binary(y_true, label_smoothing):
    return y_true * (1 - label_smoothing) + 0.5 * label_smoothing if label_smoothing else y_true


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False, ignore_class=None, axis=-1):
    """``-log(p[label])`` per sample, after normalizing and clipping ``p`` as Keras does; samples
    labelled ``ignore_class`` give 0 (and a ``Loss`` leaves them out of the mean)."""
    y_pred = np.asarray(y_pred)
    labels = _sparse_labels(y_true, y_pred, ignore_class)
    per_sample = -np.take_along_axis(_log_probabilities(y_pred, from_logits), labels[..., None], axis=-1)[..., 0]
    if ignore_class is not None:
        per_sample = np.where(_valid_labels(y_true, y_pred, ignore_class), per_sample, 0.0)
    return per_sample


def _sparse_categorical_crossentropy_grad(y_true, y_pred, from_logits=False, ignore_class=None, axis=-1):
    dense = _one_hot(_sparse_labels(y_true, y_pred, ignore_class), y_pred)
    g = _crossentropy_grad(dense, y_pred, from_logits)
    if ignore_class is not None:
        g *= _valid_labels(y_true, y_pred, ignore_class)[..., None]
    return g


def categorical_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """``-sum(y_true * log(p))`` per sample (labels smoothed towards ``1 / classes``)."""
    y_pred = np.asarray(y_pred)
    y_true = _smooth_categorical(np.asarray(y_true, dtype=y_pred.dtype), label_smoothing)
    return -(y_true * _log_probabilities(y_pred, from_logits)).sum(axis=-1)


def _categorical_crossentropy_grad(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    y_true = _smooth_categorical(np.asarray(y_true, dtype=y_pred.dtype), label_smoothing)
    return _crossentropy_grad(y_true, y_pred, from_logits)


def binary_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """Mean over the last axis of ``-(y log p + (1-y) log(1-p))`` (labels smoothed towards 0.5)."""
    y_true, y_pred = _align(y_true, y_pred)
    y_true = _smooth_binary(y_true, label_smoothing)
    if from_logits:  # log(1 + exp(-|x|)) + max(x, 0) - x * y, stable for any x
        per_unit = np.logaddexp(0, -np.abs(y_pred)) + np.maximum(y_pred, 0) - y_pred * y_true
    else:
        p = np.clip(y_pred, _eps(), 1 - _eps())
        per_unit = -(y_true * np.log(p) + (1 - y_true) * np.log(1 - p))
    return per_unit.mean(axis=-1)


def _binary_crossentropy_grad(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    t, y_pred = _align(y_true, y_pred)
    t = _smooth_binary(t, label_smoothing)
    if from_logits:
        return (_sigmoid(y_pred) - t) / y_pred.shape[-1]
    inside = (y_pred > _eps()) & (y_pred < 1 - _eps())
    p = np.clip(y_pred, _eps(), 1 - _eps())
    return inside * (p - t) / (p * (1 - p)) / y_pred.shape[-1]


def binary_focal_crossentropy(y_true, y_pred, apply_class_balancing=False, alpha=0.25, gamma=2.0,
                              from_logits=False, label_smoothing=0.0, axis=-1):
    """Binary crossentropy scaled by ``(1 - p_t) ** gamma`` (and by ``alpha`` / ``1 - alpha`` for
    classes 1 / 0 with ``apply_class_balancing``), averaged over the last axis."""
    t, q = _binary_focal_parts(y_true, y_pred, from_logits, label_smoothing)
    c = np.clip(q, _eps(), 1 - _eps())
    bce = -(t * np.log(c) + (1 - t) * np.log(1 - c))
    focal = (1 - (t * q + (1 - t) * (1 - q))) ** gamma * bce
    if apply_class_balancing:
        focal = (t * alpha + (1 - t) * (1 - alpha)) * focal
    return focal.mean(axis=-1)


def _binary_focal_parts(y_true, y_pred, from_logits, label_smoothing):
    t, y_pred = _align(y_true, y_pred)
    return _smooth_binary(t, label_smoothing), (_sigmoid(y_pred) if from_logits else y_pred)


def _binary_focal_crossentropy_grad(y_true, y_pred, apply_class_balancing=False, alpha=0.25, gamma=2.0,
                                    from_logits=False, label_smoothing=0.0, axis=-1):
    t, q = _binary_focal_parts(y_true, y_pred, from_logits, label_smoothing)
    c = np.clip(q, _eps(), 1 - _eps())
    inside = (q > _eps()) & (q < 1 - _eps())
    bce = -(t * np.log(c) + (1 - t) * np.log(1 - c))
    d_bce = inside * (c - t) / (c * (1 - c))
    miss = 1 - (t * q + (1 - t) * (1 - q))  # 1 - p_t, whose derivative in q is 1 - 2t
    d_factor = gamma * _power(miss, gamma - 1) * (1 - 2 * t)
    g = d_factor * bce + miss ** gamma * d_bce
    if apply_class_balancing:
        g = (t * alpha + (1 - t) * (1 - alpha)) * g
    if from_logits:
        g = g * q * (1 - q)
    return g / q.shape[-1]


def _power(base, exponent):
    """``base ** exponent`` that is 0 (not inf) at ``base == 0``: only ever multiplied by 0 there."""
    return np.where(base > 0, np.power(np.maximum(base, _eps()), exponent), 0.0 if exponent > 0 else 1.0)


def categorical_focal_crossentropy(y_true, y_pred, alpha=0.25, gamma=2.0, from_logits=False,
                                   label_smoothing=0.0, axis=-1):
    """``sum(alpha * (1 - p) ** gamma * -y_true * log(p))`` over the classes, ``p`` normalized
    and clipped as in categorical crossentropy."""
    t, _, c, _ = _categorical_focal_parts(y_true, y_pred, from_logits, label_smoothing)
    return (np.asarray(alpha) * (1 - c) ** gamma * -t * np.log(c)).sum(axis=-1)


def _categorical_focal_parts(y_true, y_pred, from_logits, label_smoothing):
    y_pred = np.asarray(y_pred)
    t = _smooth_categorical(np.asarray(y_true, dtype=y_pred.dtype), label_smoothing)
    q = _softmax(y_pred) if from_logits else y_pred
    o = q / q.sum(axis=-1, keepdims=True)
    return t, q, np.clip(o, _eps(), 1 - _eps()), o


def _categorical_focal_crossentropy_grad(y_true, y_pred, alpha=0.25, gamma=2.0, from_logits=False,
                                         label_smoothing=0.0, axis=-1):
    t, q, c, o = _categorical_focal_parts(y_true, y_pred, from_logits, label_smoothing)
    alpha = np.asarray(alpha)
    d_c = alpha * (gamma * _power(1 - c, gamma - 1) * t * np.log(c) - (1 - c) ** gamma * t / c)
    d_o = d_c * ((o > _eps()) & (o < 1 - _eps()))
    total = q.sum(axis=-1, keepdims=True)  # o = q / total
    d_q = d_o / total - (d_o * q).sum(axis=-1, keepdims=True) / total ** 2
    if from_logits:
        return q * (d_q - (d_q * q).sum(axis=-1, keepdims=True))
    return d_q


# --- regression ----------------------------------------------------------------------------------
def mean_squared_error(y_true, y_pred):
    """``mean((y_true - y_pred)**2)`` over the last axis."""
    y_true, y_pred = _align(y_true, y_pred)
    return np.mean(np.square(y_pred - y_true), axis=-1)


def _mean_squared_error_grad(y_true, y_pred):
    y_true, y_pred = _align(y_true, y_pred)
    return 2 * (y_pred - y_true) / y_pred.shape[-1]


def mean_absolute_error(y_true, y_pred):
    """``mean(|y_true - y_pred|)`` over the last axis."""
    y_true, y_pred = _align(y_true, y_pred)
    return np.mean(np.abs(y_pred - y_true), axis=-1)


def _mean_absolute_error_grad(y_true, y_pred):
    y_true, y_pred = _align(y_true, y_pred)
    return np.sign(y_pred - y_true) / y_pred.shape[-1]


def mean_absolute_percentage_error(y_true, y_pred):
    """``100 * mean(|(y_true - y_pred) / max(|y_true|, epsilon)|)`` over the last axis."""
    y_true, y_pred = _align(y_true, y_pred)
    return 100 * np.mean(np.abs((y_true - y_pred) / np.maximum(np.abs(y_true), _eps())), axis=-1)


def _mean_absolute_percentage_error_grad(y_true, y_pred):
    y_true, y_pred = _align(y_true, y_pred)
    return 100 * np.sign(y_pred - y_true) / np.maximum(np.abs(y_true), _eps()) / y_pred.shape[-1]


def mean_squared_logarithmic_error(y_true, y_pred):
    """``mean((log(max(y_pred, eps) + 1) - log(max(y_true, eps) + 1))**2)`` over the last axis."""
    y_true, y_pred = _align(y_true, y_pred)
    diff = np.log(np.maximum(y_pred, _eps()) + 1) - np.log(np.maximum(y_true, _eps()) + 1)
    return np.mean(np.square(diff), axis=-1)


def _mean_squared_logarithmic_error_grad(y_true, y_pred):
    y_true, y_pred = _align(y_true, y_pred)
    diff = np.log(np.maximum(y_pred, _eps()) + 1) - np.log(np.maximum(y_true, _eps()) + 1)
    return 2 * diff * (y_pred > _eps()) / (np.maximum(y_pred, _eps()) + 1) / y_pred.shape[-1]


def huber(y_true, y_pred, delta=1.0):
    """Mean over the last axis of ``0.5 * e**2`` where ``|e| <= delta``, else
    ``delta * |e| - 0.5 * delta**2`` (``e = y_pred - y_true``)."""
    y_true, y_pred = _align(y_true, y_pred)
    error = np.abs(y_pred - y_true)
    return np.mean(np.where(error <= delta, 0.5 * error ** 2, delta * error - 0.5 * delta ** 2), axis=-1)


def _huber_grad(y_true, y_pred, delta=1.0):
    y_true, y_pred = _align(y_true, y_pred)
    return np.clip(y_pred - y_true, -delta, delta) / y_pred.shape[-1]


def log_cosh(y_true, y_pred):
    """``mean(log(cosh(y_pred - y_true)))`` over the last axis, computed without overflow."""
    y_true, y_pred = _align(y_true, y_pred)
    x = y_pred - y_true
    return np.mean(x + np.logaddexp(0, -2 * x) - np.log(2.0), axis=-1)


def _log_cosh_grad(y_true, y_pred):
    y_true, y_pred = _align(y_true, y_pred)
    return np.tanh(y_pred - y_true) / y_pred.shape[-1]


def kl_divergence(y_true, y_pred):
    """``sum(y_true * log(y_true / y_pred))`` with both clipped to ``[epsilon, 1]``."""
    y_true, y_pred = _align(y_true, y_pred)
    t, p = np.clip(y_true, _eps(), 1), np.clip(y_pred, _eps(), 1)
    return np.sum(t * np.log(t / p), axis=-1)


def _kl_divergence_grad(y_true, y_pred):
    y_true, y_pred = _align(y_true, y_pred)
    t, p = np.clip(y_true, _eps(), 1), np.clip(y_pred, _eps(), 1)
    return -t / p * ((y_pred > _eps()) & (y_pred < 1))


def poisson(y_true, y_pred):
    """``mean(y_pred - y_true * log(y_pred + epsilon))`` over the last axis."""
    y_true, y_pred = _align(y_true, y_pred)
    return np.mean(y_pred - y_true * np.log(y_pred + _eps()), axis=-1)


def _poisson_grad(y_true, y_pred):
    y_true, y_pred = _align(y_true, y_pred)
    return (1 - y_true / (y_pred + _eps())) / y_pred.shape[-1]


def _l2_normalize(x, axis):
    norm = np.sqrt(np.sum(np.square(x), axis=axis, keepdims=True))
    return x / np.maximum(norm, _eps()), norm


def cosine_similarity(y_true, y_pred, axis=-1):
    """``-sum(l2_normalize(y_true) * l2_normalize(y_pred))``: -1 for the same direction, so that
    minimizing it makes the vectors point alike."""
    y_true, y_pred = _align(y_true, y_pred)
    return -np.sum(_l2_normalize(y_true, axis)[0] * _l2_normalize(y_pred, axis)[0], axis=axis)


def _cosine_similarity_grad(y_true, y_pred, axis=-1):
    y_true, y_pred = _align(y_true, y_pred)
    t = _l2_normalize(y_true, axis)[0]
    unit, norm = _l2_normalize(y_pred, axis)
    scale = np.maximum(norm, _eps())
    along = np.where(norm > _eps(), np.sum(t * unit, axis=axis, keepdims=True), 0.0)
    return -(t - along * unit) / scale


def _hinge_labels(y_true):
    """Labels in {0, 1} become {-1, 1}, as Keras converts them for the hinge losses."""
    binary = np.all((y_true == 0) | (y_true == 1))
    return 2 * y_true - 1 if binary else y_true


def hinge(y_true, y_pred):
    """``mean(max(1 - y_true * y_pred, 0))`` over the last axis, labels in {-1, 1}."""
    y_true, y_pred = _align(y_true, y_pred)
    return np.mean(np.maximum(1 - _hinge_labels(y_true) * y_pred, 0), axis=-1)


def _hinge_grad(y_true, y_pred):
    y_true, y_pred = _align(y_true, y_pred)
    t = _hinge_labels(y_true)
    return -t * (1 - t * y_pred > 0) / y_pred.shape[-1]


def squared_hinge(y_true, y_pred):
    """``mean(max(1 - y_true * y_pred, 0)**2)`` over the last axis, labels in {-1, 1}."""
    y_true, y_pred = _align(y_true, y_pred)
    return np.mean(np.square(np.maximum(1 - _hinge_labels(y_true) * y_pred, 0)), axis=-1)


def _squared_hinge_grad(y_true, y_pred):
    y_true, y_pred = _align(y_true, y_pred)
    t = _hinge_labels(y_true)
    return -2 * t * np.maximum(1 - t * y_pred, 0) / y_pred.shape[-1]


def categorical_hinge(y_true, y_pred):
    """``max(neg - pos + 1, 0)`` with ``pos = sum(y_true * y_pred)``, ``neg = max((1 - y_true) * y_pred)``."""
    y_true, y_pred = _align(y_true, y_pred)
    pos = np.sum(y_true * y_pred, axis=-1)
    neg = np.max((1 - y_true) * y_pred, axis=-1)
    return np.maximum(neg - pos + 1, 0)


def _categorical_hinge_grad(y_true, y_pred):
    y_true, y_pred = _align(y_true, y_pred)
    others = (1 - y_true) * y_pred
    pos = np.sum(y_true * y_pred, axis=-1, keepdims=True)
    neg = np.max(others, axis=-1, keepdims=True)
    top = _one_hot(others.argmax(axis=-1), y_pred)
    return (neg - pos + 1 > 0) * (top * (1 - y_true) - y_true)


# --- Loss objects --------------------------------------------------------------------------------
class Loss:
    """Base class: ``call`` gives per-sample losses, ``grad`` their derivatives.

    ``fused_activation`` names the output activation whose derivative cancels against this
    loss's (softmax for crossentropy, sigmoid for binary crossentropy): the gradient with
    respect to the pre-activation is then ``fused_grad``, simply ``p - y``, with no Jacobian.

    >>> import numpy as np
    >>> class Quartic(Loss):
    ...     def call(self, y_true, y_pred):
    ...         return np.mean((y_pred - y_true) ** 4, axis=-1)
    ...     def grad(self, y_true, y_pred):
    ...         return 4 * (y_pred - y_true) ** 3 / y_pred.shape[-1]
    >>> float(Quartic()(np.zeros((2, 1)), np.ones((2, 1))))
    1.0
    """

    fused_activation: str | None = None
    reductions = REDUCTIONS

    def __init__(self, name: str | None = None, reduction: str | None = "sum_over_batch_size", dtype=None):
        if reduction not in self.reductions:
            raise ValueError(f"{type(self).__name__} reduction must be one of {self.reductions}, got {reduction!r}")
        self.name = name or backend.snake_case(type(self).__name__)
        self.reduction = reduction
        self.dtype = dtype

    def call(self, y_true, y_pred):
        raise TypeError(f"{type(self).__name__} must implement call(y_true, y_pred)")

    def grad(self, y_true, y_pred):
        raise TypeError(f"{type(self).__name__} has no gradient: implement grad(y_true, y_pred)")

    def fused_grad(self, y_true, y_pred):
        raise TypeError(f"{type(self).__name__} has no fused gradient")

    def mask(self, y_true, y_pred):
        """Which samples count (``None``: all); Keras's mask on the per-sample losses."""
        return None

    def _weights(self, y_true, y_pred, per_sample_shape, sample_weight):
        """Sample weights merged with the mask, shaped to broadcast against the per-sample losses.

        As Keras does, a mask under a mean is rescaled by ``total / valid`` so that the mean
        runs over the valid samples only."""
        weights = None
        if sample_weight is not None:
            weights = np.asarray(sample_weight, dtype=y_pred.dtype)
            if weights.ndim == len(per_sample_shape) + 1 and weights.shape[-1] == 1:
                weights = weights[..., 0]
            weights = weights.reshape(weights.shape + (1,) * (len(per_sample_shape) - weights.ndim))
        mask = self.mask(y_true, y_pred)
        if mask is not None:
            mask = mask.astype(y_pred.dtype)
            if self.reduction in ("sum_over_batch_size", "mean"):
                mask = mask * (mask.size / (mask.sum() + _eps()))
            weights = mask if weights is None else weights * mask
        return weights

    def _divisor(self, size, weights):
        if self.reduction == "sum":
            return 1.0
        if self.reduction == "mean_with_sample_weight" and weights is not None:
            return float(np.sum(weights))
        return float(size)

    def __call__(self, y_true, y_pred, sample_weight=None):
        y_pred = np.asarray(y_pred)
        per_sample = np.asarray(self.call(y_true, y_pred))
        weights = self._weights(y_true, y_pred, per_sample.shape, sample_weight)
        if weights is not None:
            per_sample = per_sample * weights
        if self.reduction in ("none", None) or per_sample.ndim == 0 or per_sample.size == 0:
            return per_sample
        divisor = self._divisor(per_sample.size, weights)
        return per_sample.sum() / divisor if divisor else per_sample.sum() * 0

    def gradient(self, y_true, y_pred, sample_weight=None, fused=False):
        """The gradient of the reduced loss with respect to ``y_pred`` (with ``fused``, with
        respect to the pre-activation of ``fused_activation``); ``"none"`` differentiates the mean."""
        y_pred = np.asarray(y_pred)
        g = self.fused_grad(y_true, y_pred) if fused else self.grad(y_true, y_pred)
        per_sample_shape = y_pred.shape[:-1]
        weights = self._weights(y_true, y_pred, per_sample_shape, sample_weight)
        if weights is not None:
            g = g * np.broadcast_to(weights, per_sample_shape)[..., None]
        size = int(np.prod(per_sample_shape))
        divisor = size if self.reduction in ("none", None) else self._divisor(size, weights)
        return g / divisor if divisor else g * 0

    def get_config(self) -> dict:
        return {"name": self.name, "reduction": self.reduction}

    @classmethod
    def from_config(cls, config: dict):
        return cls(**config)


class LossFunctionWrapper(Loss):
    """A ``Loss`` around a per-sample function; its keyword arguments are passed on each call.

    >>> import numpy as np
    >>> loss = LossFunctionWrapper(huber, name="huber_loss", delta=0.5)
    >>> float(loss(np.array([[0.0]]), np.array([[2.0]])))
    0.875
    """

    def __init__(self, fn: Callable, reduction="sum_over_batch_size", name=None, dtype=None, **kwargs):
        super().__init__(name or fn.__name__, reduction, dtype)
        self.fn, self.kwargs = fn, kwargs

    def call(self, y_true, y_pred):
        return self.fn(y_true, y_pred, **self.kwargs)

    def grad(self, y_true, y_pred):
        if self.fn not in _GRADIENTS:
            return CustomLoss(lambda t, p: self.fn(t, p, **self.kwargs)).grad(y_true, y_pred)
        return _GRADIENTS[self.fn](y_true, y_pred, **self.kwargs)

    def get_config(self) -> dict:
        return {**super().get_config(), **self.kwargs}


class SparseCategoricalCrossentropy(LossFunctionWrapper):
    """Crossentropy between integer labels and predicted class probabilities (or logits).

    >>> import numpy as np
    >>> loss = SparseCategoricalCrossentropy(ignore_class=-1)
    >>> round(float(loss(np.array([0, -1]), np.array([[0.5, 0.5], [0.9, 0.1]]))), 4)
    0.6931
    """

    def __init__(self, from_logits=False, ignore_class=None, reduction="sum_over_batch_size",
                 name="sparse_categorical_crossentropy", dtype=None):
        super().__init__(sparse_categorical_crossentropy, reduction, name, dtype,
                         from_logits=from_logits, ignore_class=ignore_class)
        self.from_logits, self.ignore_class = from_logits, ignore_class
        self.fused_activation = None if from_logits else "softmax"

    def mask(self, y_true, y_pred):
        return None if self.ignore_class is None else _valid_labels(y_true, y_pred, self.ignore_class)

    def fused_grad(self, y_true, y_pred):
        return y_pred - _one_hot(_sparse_labels(y_true, y_pred, self.ignore_class), y_pred)

    def get_config(self) -> dict:
        return {**Loss.get_config(self), "from_logits": self.from_logits, "ignore_class": self.ignore_class}


class CategoricalCrossentropy(LossFunctionWrapper):
    """Crossentropy between one-hot (or soft) labels and predicted class probabilities."""

    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1, reduction="sum_over_batch_size",
                 name="categorical_crossentropy", dtype=None):
        check_label_smoothing("CategoricalCrossentropy", label_smoothing)
        super().__init__(categorical_crossentropy, reduction, name, dtype, from_logits=from_logits,
                         label_smoothing=label_smoothing, axis=axis)
        self.from_logits, self.label_smoothing, self.axis = from_logits, label_smoothing, axis
        self.fused_activation = None if from_logits else "softmax"

    def fused_grad(self, y_true, y_pred):
        t = _smooth_categorical(np.asarray(y_true, y_pred.dtype), self.label_smoothing)
        return y_pred * t.sum(axis=-1, keepdims=True) - t


class BinaryCrossentropy(LossFunctionWrapper):
    """Crossentropy between 0/1 labels and predicted probabilities (or logits), per output unit."""

    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1, reduction="sum_over_batch_size",
                 name="binary_crossentropy", dtype=None):
        check_label_smoothing("BinaryCrossentropy", label_smoothing)
        super().__init__(binary_crossentropy, reduction, name, dtype, from_logits=from_logits,
                         label_smoothing=label_smoothing, axis=axis)
        self.from_logits, self.label_smoothing, self.axis = from_logits, label_smoothing, axis
        self.fused_activation = None if from_logits else "sigmoid"

    def fused_grad(self, y_true, y_pred):
        t, y_pred = _align(y_true, y_pred)
        return (y_pred - _smooth_binary(t, self.label_smoothing)) / y_pred.shape[-1]


class BinaryFocalCrossentropy(LossFunctionWrapper):
    """Binary crossentropy that down-weights easy examples by ``(1 - p_t) ** gamma``.

    >>> import numpy as np
    >>> loss = BinaryFocalCrossentropy(gamma=2.0, from_logits=True)
    >>> round(float(loss(np.array([0, 1, 0, 0]), np.array([-18.6, 0.51, 2.94, -12.8]))), 3)
    0.691
    """

    def __init__(self, apply_class_balancing=False, alpha=0.25, gamma=2.0, from_logits=False, label_smoothing=0.0,
                 axis=-1, reduction="sum_over_batch_size", name="binary_focal_crossentropy", dtype=None):
        check_label_smoothing("BinaryFocalCrossentropy", label_smoothing)
        _check_gamma("BinaryFocalCrossentropy", gamma)
        super().__init__(binary_focal_crossentropy, reduction, name, dtype,
                         apply_class_balancing=apply_class_balancing, alpha=alpha, gamma=gamma,
                         from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)
        self.apply_class_balancing, self.alpha, self.gamma = apply_class_balancing, alpha, gamma
        self.from_logits, self.label_smoothing, self.axis = from_logits, label_smoothing, axis


class CategoricalFocalCrossentropy(LossFunctionWrapper):
    """Categorical crossentropy weighted by ``alpha * (1 - p) ** gamma`` per class."""

    def __init__(self, alpha=0.25, gamma=2.0, from_logits=False, label_smoothing=0.0, axis=-1,
                 reduction="sum_over_batch_size", name="categorical_focal_crossentropy", dtype=None):
        check_label_smoothing("CategoricalFocalCrossentropy", label_smoothing)
        _check_gamma("CategoricalFocalCrossentropy", gamma)
        super().__init__(categorical_focal_crossentropy, reduction, name, dtype, alpha=alpha, gamma=gamma,
                         from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)
        self.alpha, self.gamma = alpha, gamma
        self.from_logits, self.label_smoothing, self.axis = from_logits, label_smoothing, axis


def _check_gamma(owner, gamma):
    if gamma < 0:
        raise ValueError(f"{owner} gamma must be >= 0, got {gamma}")


class MeanSquaredError(LossFunctionWrapper):
    """``mean((y_true - y_pred)**2)`` per sample."""

    def __init__(self, reduction="sum_over_batch_size", name="mean_squared_error", dtype=None):
        super().__init__(mean_squared_error, reduction, name, dtype)


class MeanAbsoluteError(LossFunctionWrapper):
    """``mean(|y_true - y_pred|)`` per sample."""

    def __init__(self, reduction="sum_over_batch_size", name="mean_absolute_error", dtype=None):
        super().__init__(mean_absolute_error, reduction, name, dtype)


class MeanAbsolutePercentageError(LossFunctionWrapper):
    """``100 * mean(|(y_true - y_pred) / y_true|)`` per sample."""

    def __init__(self, reduction="sum_over_batch_size", name="mean_absolute_percentage_error", dtype=None):
        super().__init__(mean_absolute_percentage_error, reduction, name, dtype)


class MeanSquaredLogarithmicError(LossFunctionWrapper):
    """``mean((log(y_true + 1) - log(y_pred + 1))**2)`` per sample."""

    def __init__(self, reduction="sum_over_batch_size", name="mean_squared_logarithmic_error", dtype=None):
        super().__init__(mean_squared_logarithmic_error, reduction, name, dtype)


class Huber(LossFunctionWrapper):
    """Quadratic for errors up to ``delta``, linear beyond."""

    def __init__(self, delta=1.0, reduction="sum_over_batch_size", name="huber_loss", dtype=None):
        if not delta > 0:
            raise ValueError(f"Huber delta must be a positive number, got {delta}")
        super().__init__(huber, reduction, name, dtype, delta=delta)
        self.delta = delta


class LogCosh(LossFunctionWrapper):
    """``mean(log(cosh(y_pred - y_true)))`` per sample."""

    def __init__(self, reduction="sum_over_batch_size", name="log_cosh", dtype=None):
        super().__init__(log_cosh, reduction, name, dtype)


class KLDivergence(LossFunctionWrapper):
    """Kullback-Leibler divergence ``sum(y_true * log(y_true / y_pred))`` per sample."""

    def __init__(self, reduction="sum_over_batch_size", name="kl_divergence", dtype=None):
        super().__init__(kl_divergence, reduction, name, dtype)


class Poisson(LossFunctionWrapper):
    """``mean(y_pred - y_true * log(y_pred))`` per sample."""

    def __init__(self, reduction="sum_over_batch_size", name="poisson", dtype=None):
        super().__init__(poisson, reduction, name, dtype)


class CosineSimilarity(LossFunctionWrapper):
    """Negative cosine similarity along ``axis`` (-1 when the vectors point the same way)."""

    def __init__(self, axis=-1, reduction="sum_over_batch_size", name="cosine_similarity", dtype=None):
        super().__init__(cosine_similarity, reduction, name, dtype, axis=axis)
        self.axis = axis


class Hinge(LossFunctionWrapper):
    """``mean(max(1 - y_true * y_pred, 0))`` per sample; 0/1 labels become -1/1."""

    def __init__(self, reduction="sum_over_batch_size", name="hinge", dtype=None):
        super().__init__(hinge, reduction, name, dtype)


class SquaredHinge(LossFunctionWrapper):
    """``mean(max(1 - y_true * y_pred, 0)**2)`` per sample; 0/1 labels become -1/1."""

    def __init__(self, reduction="sum_over_batch_size", name="squared_hinge", dtype=None):
        super().__init__(squared_hinge, reduction, name, dtype)


class CategoricalHinge(LossFunctionWrapper):
    """``max(max_other - true_score + 1, 0)`` per sample, for one-hot labels."""

    def __init__(self, reduction="sum_over_batch_size", name="categorical_hinge", dtype=None):
        super().__init__(categorical_hinge, reduction, name, dtype)


class CustomLoss(Loss):
    """A user's ``(y_true, y_pred) -> per-sample losses`` function; its gradient is taken
    numerically by central differences, one output unit at a time (correct, not fast).

    >>> import numpy as np
    >>> loss = CustomLoss(lambda t, p: np.abs(p - t).sum(axis=-1))
    >>> loss.grad(np.zeros((1, 2)), np.array([[1.0, -1.0]])).round(3).tolist()
    [[1.0, -1.0]]
    """

    def __init__(self, fn: Callable, reduction="sum_over_batch_size", name=None):
        super().__init__(name or getattr(fn, "__name__", "custom_loss"), reduction)
        self.fn = fn

    def call(self, y_true, y_pred):
        return np.asarray(self.fn(y_true, y_pred), dtype=y_pred.dtype)

    def grad(self, y_true, y_pred):
        y64 = y_pred.astype(np.float64)
        grad = np.empty_like(y64)
        step = 1e-6 if y_pred.dtype == np.float64 else 1e-3
        flat = y64.reshape(len(y64), -1)
        for j in range(flat.shape[1]):
            plus, minus = flat.copy(), flat.copy()
            plus[:, j] += step
            minus[:, j] -= step
            diff = (np.asarray(self.fn(y_true, plus.reshape(y64.shape)), np.float64)
                    - np.asarray(self.fn(y_true, minus.reshape(y64.shape)), np.float64))
            grad.reshape(len(y64), -1)[:, j] = diff.reshape(len(y64), -1).sum(axis=1) / (2 * step)
        return grad.astype(y_pred.dtype)


# --- names ---------------------------------------------------------------------------------------
_GRADIENTS = {
    sparse_categorical_crossentropy: _sparse_categorical_crossentropy_grad,
    categorical_crossentropy: _categorical_crossentropy_grad,
    binary_crossentropy: _binary_crossentropy_grad,
    binary_focal_crossentropy: _binary_focal_crossentropy_grad,
    categorical_focal_crossentropy: _categorical_focal_crossentropy_grad,
    mean_squared_error: _mean_squared_error_grad,
    mean_absolute_error: _mean_absolute_error_grad,
    mean_absolute_percentage_error: _mean_absolute_percentage_error_grad,
    mean_squared_logarithmic_error: _mean_squared_logarithmic_error_grad,
    huber: _huber_grad,
    log_cosh: _log_cosh_grad,
    kl_divergence: _kl_divergence_grad,
    poisson: _poisson_grad,
    cosine_similarity: _cosine_similarity_grad,
    hinge: _hinge_grad,
    squared_hinge: _squared_hinge_grad,
    categorical_hinge: _categorical_hinge_grad,
}
_FUNCTION_CLASSES = {
    sparse_categorical_crossentropy: SparseCategoricalCrossentropy,
    categorical_crossentropy: CategoricalCrossentropy,
    binary_crossentropy: BinaryCrossentropy,
    binary_focal_crossentropy: BinaryFocalCrossentropy,
    categorical_focal_crossentropy: CategoricalFocalCrossentropy,
    mean_squared_error: MeanSquaredError,
    mean_absolute_error: MeanAbsoluteError,
    mean_absolute_percentage_error: MeanAbsolutePercentageError,
    mean_squared_logarithmic_error: MeanSquaredLogarithmicError,
    huber: Huber,
    log_cosh: LogCosh,
    kl_divergence: KLDivergence,
    poisson: Poisson,
    cosine_similarity: CosineSimilarity,
    hinge: Hinge,
    squared_hinge: SquaredHinge,
    categorical_hinge: CategoricalHinge,
}
mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error
mape = MAPE = mean_absolute_percentage_error
msle = MSLE = mean_squared_logarithmic_error
kld = KLD = kl_divergence
bce = BCE = binary_crossentropy
logcosh = log_cosh
_ALIASES = {"mse": mse, "MSE": mse, "mae": mae, "MAE": mae, "mape": mape, "MAPE": mape, "msle": msle,
            "MSLE": msle, "kld": kld, "KLD": kld, "bce": bce, "BCE": bce, "logcosh": log_cosh}
_REGISTRY = ({fn.__name__: cls for fn, cls in _FUNCTION_CLASSES.items()}
             | {cls.__name__: cls for cls in _FUNCTION_CLASSES.values()}
             | {alias: _FUNCTION_CLASSES[fn] for alias, fn in _ALIASES.items()})


def register(name: str, cls: type, function: Callable | None = None) -> None:
    """Make a ``Loss`` class resolvable by name (and its per-sample function, if any)."""
    _REGISTRY[name] = _REGISTRY[cls.__name__] = cls
    if function is not None:
        _FUNCTION_CLASSES[function] = cls


def get(identifier) -> Loss:
    """Resolve a name (``"mse"``), a loss function, a class, a config dict or a ``Loss``.

    >>> type(get("sparse_categorical_crossentropy")).__name__
    'SparseCategoricalCrossentropy'
    """
    resolved = from_registry(identifier, Loss, _REGISTRY, "loss")
    if resolved is not UNRESOLVED:
        return resolved
    if callable(identifier):
        if identifier in _FUNCTION_CLASSES:
            return _FUNCTION_CLASSES[identifier]()
        return CustomLoss(identifier)
    raise TypeError(f"loss must be a name, a function or a Loss, got {identifier!r}")
