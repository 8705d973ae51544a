"""The per-sample loss functions of ``keras.losses`` (``mean_squared_error`` ...), in ``lamina.ops``:
each returns one value per sample (the last axis reduced) and the tape differentiates it."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .. import backend, ops
from ..backend.keras_tensor import any_symbolic
from ..ops.primitive import Primitive
from ..ops.tensor import Tensor, TensorLike
from .loss import OUTPUT_MASKS, squeeze_or_expand_to_same_rank


def _eps():
    return backend.epsilon()


def _align(y_true, y_pred):
    """Both as tensors, ``y_true`` in ``y_pred``'s dtype, a missing or extra trailing 1 fixed."""
    y_pred = ops.convert_to_tensor(y_pred)
    y_true = ops.cast(y_true, y_pred.dtype)
    return squeeze_or_expand_to_same_rank(y_true, y_pred)


def check_label_smoothing(owner: str, label_smoothing) -> None:
    """A ValueError naming ``owner`` unless ``label_smoothing`` is in [0, 1]."""
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
def _smooth_categorical(y_true, label_smoothing):
    if label_smoothing:
        return y_true * (1 - label_smoothing) + label_smoothing / y_true.shape[-1]
    return y_true


def sparse_categorical_crossentropy(y_true: TensorLike, y_pred: TensorLike, from_logits: bool = False,
                                    ignore_class=None, axis: int = -1) -> Tensor:
    """``-log(p[label])`` per sample, after normalizing and clipping ``p`` as Keras does; samples
    labelled ``ignore_class`` give 0 (and a ``Loss`` leaves them out of the mean)."""
    y_pred = ops.convert_to_tensor(y_pred)
    # in ops, not NumPy: a compiled step's trace must see what the labels become
    labels = ops.convert_to_tensor(y_true)
    if labels.ndim == y_pred.ndim and labels.shape[-1] == 1:
        labels = ops.squeeze(labels, axis=-1)
    valid = None
    if ignore_class is not None:
        valid = ops.not_equal(labels, ignore_class)
        labels = ops.where(valid, labels, 0)
    out = ops.sparse_categorical_crossentropy(ops.cast(labels, "int64"), y_pred, from_logits=from_logits, axis=axis)
    return out if valid is None else ops.where(valid, out, 0.0)


def categorical_crossentropy(y_true: TensorLike, y_pred: TensorLike, from_logits: bool = False,
                             label_smoothing: float = 0.0, axis: int | Sequence[int] | None = -1) -> Tensor:
    """``-sum(y_true * log(p))`` over ``axis`` (labels smoothed towards uniform)."""
    y_pred = ops.convert_to_tensor(y_pred)
    y_true = _smooth_categorical(ops.cast(y_true, y_pred.dtype), label_smoothing)
    return ops.categorical_crossentropy(y_true, y_pred, from_logits=from_logits, axis=axis)


def binary_crossentropy(y_true: TensorLike, y_pred: TensorLike, from_logits: bool = False,
                        label_smoothing: float = 0.0, axis: int | Sequence[int] | None = -1) -> Tensor:
    """Mean over the last axis of ``-(y log p + (1-y) log(1-p))`` (labels smoothed towards 0.5)."""
    y_true, y_pred = _align(y_true, y_pred)
    if label_smoothing:
        y_true = y_true * (1 - label_smoothing) + 0.5 * label_smoothing
    return ops.mean(ops.binary_crossentropy(y_true, y_pred, from_logits=from_logits), axis=axis)


def binary_focal_crossentropy(y_true: TensorLike, y_pred: TensorLike, apply_class_balancing: bool = False,
                              alpha: float = 0.25, gamma: float = 2.0, from_logits: bool = False,
                              label_smoothing: float = 0.0, axis: int | Sequence[int] | None = -1) -> Tensor:
    """Binary crossentropy scaled by ``(1 - p_t) ** gamma`` (and by ``alpha`` / ``1 - alpha`` for
    classes 1 / 0 with ``apply_class_balancing``), averaged over the last axis."""
    y_true, y_pred = _align(y_true, y_pred)
    if label_smoothing:
        y_true = y_true * (1 - label_smoothing) + 0.5 * label_smoothing
    q = ops.sigmoid(y_pred) if from_logits else y_pred
    bce = ops.binary_crossentropy(y_true, y_pred, from_logits=from_logits)
    p_t = y_true * q + (1 - y_true) * (1 - q)
    focal = ops.power(1.0 - p_t, gamma) * bce
    if apply_class_balancing:
        focal = (y_true * alpha + (1 - y_true) * (1 - alpha)) * focal
    return ops.mean(focal, axis=axis)


def categorical_focal_crossentropy(y_true: TensorLike, y_pred: TensorLike, alpha: float = 0.25, gamma: float = 2.0,
                                   from_logits: bool = False, label_smoothing: float = 0.0,
                                   axis: int | Sequence[int] | None = -1) -> Tensor:
    """``sum(alpha * (1 - p) ** gamma * -y_true * log(p))`` over the classes, ``p`` normalized
    and clipped as in categorical crossentropy."""
    y_pred = ops.convert_to_tensor(y_pred)
    y_true = _smooth_categorical(ops.cast(y_true, y_pred.dtype), label_smoothing)
    q = ops.softmax(y_pred, axis=axis) if from_logits else y_pred
    p = ops.clip(q / ops.sum(q, axis=axis, keepdims=True), _eps(), 1 - _eps())
    return ops.sum(alpha * ops.power(1.0 - p, gamma) * -y_true * ops.log(p), axis=axis)


# --- regression ----------------------------------------------------------------------------------
def _mse_forward(y_true, y_pred):
    difference = np.subtract(y_pred, y_true)
    return np.mean(difference * difference, axis=-1), difference


def _mse_vjp(g, out, difference, y_true, y_pred, needs=(True, True)):
    d_pred = difference * (np.asarray(g)[..., None] * (2.0 / difference.shape[-1]))
    return (-d_pred if needs[0] else None), d_pred


def _mse_composite(y_true, y_pred):
    return ops.mean(ops.square(y_true - y_pred), axis=-1)


# One node with a hand-written backward, where three ops (subtract, square, mean) and their VJPs
# cost a small model's step more than the arithmetic (the wide-and-deep regression's two losses)
_MSE = Primitive("mean_squared_error", _mse_forward, raw_vjp=_mse_vjp, composite=_mse_composite, saves=True,
                 takes_needs=True)


def mean_squared_error(y_true: TensorLike, y_pred: TensorLike) -> Tensor:
    """``mean((y_true - y_pred)**2)`` over the last axis."""
    y_true, y_pred = _align(y_true, y_pred)
    if any_symbolic((y_true, y_pred)):  # on Input(...) tensors: the ops record the graph's nodes
        return _mse_composite(y_true, y_pred)
    return _MSE(y_true, y_pred)


def mean_absolute_error(y_true: TensorLike, y_pred: TensorLike) -> Tensor:
    """``mean(|y_true - y_pred|)`` over the last axis."""
    y_true, y_pred = _align(y_true, y_pred)
    return ops.mean(ops.abs(y_true - y_pred), axis=-1)


def mean_absolute_percentage_error(y_true: TensorLike, y_pred: TensorLike) -> Tensor:
    """``100 * mean(|(y_true - y_pred) / max(|y_true|, epsilon)|)`` over the last axis."""
    y_true, y_pred = _align(y_true, y_pred)
    return 100.0 * ops.mean(ops.abs((y_true - y_pred) / ops.maximum(ops.abs(y_true), _eps())), axis=-1)


def mean_squared_logarithmic_error(y_true: TensorLike, y_pred: TensorLike) -> Tensor:
    """``mean((log(max(y_pred, eps) + 1) - log(max(y_true, eps) + 1))**2)`` over the last axis."""
    y_true, y_pred = _align(y_true, y_pred)
    first = ops.log(ops.maximum(y_pred, _eps()) + 1.0)
    second = ops.log(ops.maximum(y_true, _eps()) + 1.0)
    return ops.mean(ops.square(first - second), axis=-1)


def huber(y_true: TensorLike, y_pred: TensorLike, delta: float = 1.0) -> Tensor:
    """Mean over the last axis of ``0.5 * e**2`` where ``|e| <= delta``, else
    ``delta * |e| - 0.5 * delta**2`` (``e = y_pred - y_true``)."""
    y_true, y_pred = _align(y_true, y_pred)
    error = y_pred - y_true
    absolute = ops.abs(error)
    return ops.mean(ops.where(absolute <= delta, 0.5 * ops.square(error), delta * absolute - 0.5 * delta ** 2),
                    axis=-1)


def log_cosh(y_true: TensorLike, y_pred: TensorLike) -> Tensor:
    """``mean(log(cosh(y_pred - y_true)))`` over the last axis, computed without overflow."""
    y_true, y_pred = _align(y_true, y_pred)
    x = y_pred - y_true
    return ops.mean(x + ops.softplus(-2.0 * x) - float(np.log(2.0)), axis=-1)


def kl_divergence(y_true: TensorLike, y_pred: TensorLike) -> Tensor:
    """``sum(y_true * log(y_true / y_pred))`` with both clipped to ``[epsilon, 1]``."""
    y_true, y_pred = _align(y_true, y_pred)
    t, p = ops.clip(y_true, _eps(), 1.0), ops.clip(y_pred, _eps(), 1.0)
    return ops.sum(t * ops.log(t / p), axis=-1)


def poisson(y_true: TensorLike, y_pred: TensorLike) -> Tensor:
    """``mean(y_pred - y_true * log(y_pred + epsilon))`` over the last axis."""
    y_true, y_pred = _align(y_true, y_pred)
    return ops.mean(y_pred - y_true * ops.log(y_pred + _eps()), axis=-1)


def cosine_similarity(y_true: TensorLike, y_pred: TensorLike, axis: int | Sequence[int] | None = -1) -> Tensor:
    """``-sum(l2_normalize(y_true) * l2_normalize(y_pred))``: -1 for the same direction, so that
    minimizing it makes the vectors point alike."""
    y_true, y_pred = _align(y_true, y_pred)
    return -ops.sum(ops.normalize(y_true, axis=axis) * ops.normalize(y_pred, axis=axis), axis=axis)


def _hinge_labels(y_true):
    """Labels in {0, 1} become {-1, 1}, as Keras converts them for the hinge losses."""
    raw = ops.convert_to_numpy(y_true)
    return 2.0 * y_true - 1.0 if np.all((raw == 0) | (raw == 1)) else y_true


def hinge(y_true: TensorLike, y_pred: TensorLike) -> Tensor:
    """``mean(max(1 - y_true * y_pred, 0))`` over the last axis, labels in {-1, 1}."""
    y_true, y_pred = _align(y_true, y_pred)
    return ops.mean(ops.maximum(1.0 - _hinge_labels(y_true) * y_pred, 0.0), axis=-1)


def squared_hinge(y_true: TensorLike, y_pred: TensorLike) -> Tensor:
    """``mean(max(1 - y_true * y_pred, 0)**2)`` over the last axis, labels in {-1, 1}."""
    y_true, y_pred = _align(y_true, y_pred)
    return ops.mean(ops.square(ops.maximum(1.0 - _hinge_labels(y_true) * y_pred, 0.0)), axis=-1)


def categorical_hinge(y_true: TensorLike, y_pred: TensorLike) -> Tensor:
    """``max(neg - pos + 1, 0)`` with ``pos = sum(y_true * y_pred)``, ``neg = max((1 - y_true) * y_pred)``."""
    y_true, y_pred = _align(y_true, y_pred)
    pos = ops.sum(y_true * y_pred, axis=-1)
    neg = ops.max((1.0 - y_true) * y_pred, axis=-1)
    return ops.maximum(neg - pos + 1.0, 0.0)


# --- overlap (segmentation), embedding pairs, noise-robust classification ------------------------
def dice(y_true: TensorLike, y_pred: TensorLike, axis: int | Sequence[int] | None = None) -> Tensor:
    """``1 - 2 * sum(y_true * y_pred) / (sum(y_true) + sum(y_pred) + epsilon)`` over ``axis``; the
    default (None) sums over every axis, the batch's included, so the batch gets one value."""
    y_pred = ops.convert_to_tensor(y_pred)
    y_true = ops.cast(y_true, y_pred.dtype)
    overlap = ops.sum(y_true * y_pred, axis=axis)
    total = ops.sum(y_true, axis=axis) + ops.sum(y_pred, axis=axis)
    return 1.0 - 2.0 * overlap / (total + _eps())


def tversky(y_true: TensorLike, y_pred: TensorLike, alpha: float = 0.5, beta: float = 0.5,
            axis: int | Sequence[int] | None = None) -> Tensor:
    """``1 - tp / (tp + alpha * sum(y_true * (1 - y_pred)) + beta * sum((1 - y_true) * y_pred) + epsilon)``
    with ``tp = sum(y_true * y_pred)`` over ``axis`` (None: every axis); ``alpha = beta = 0.5`` is
    the Dice loss. The weights sit where Keras's formula puts them: ``alpha`` on the positives the
    prediction misses, ``beta`` on the ones it adds."""
    y_pred = ops.convert_to_tensor(y_pred)
    y_true = ops.cast(y_true, y_pred.dtype)
    hits = ops.sum(y_true * y_pred, axis=axis)
    missed = ops.sum(y_true * (1.0 - y_pred), axis=axis)
    added = ops.sum((1.0 - y_true) * y_pred, axis=axis)
    return 1.0 - hits / (hits + alpha * missed + beta * added + _eps())


def _pair_masks(labels, ref_labels, remove_diagonal: bool):
    """``positive[i, j]``: sample ``i`` and reference ``j`` share a label (not ``i == j`` with
    ``remove_diagonal``); ``negative``: they do not."""
    if labels.ndim == 1:
        labels = ops.reshape(labels, (-1, 1))
    if ref_labels.ndim == 1:
        ref_labels = ops.reshape(ref_labels, (-1, 1))
    positive = ops.equal(labels, ops.transpose(ref_labels))
    negative = ops.logical_not(positive)
    if remove_diagonal:
        n, m = int(np.prod(labels.shape)), int(np.prod(ref_labels.shape))
        positive = ops.logical_and(positive, ops.logical_not(ops.eye(n, m, dtype="bool")))
    return positive, negative


def circle(y_true: TensorLike, y_pred: TensorLike, ref_labels: TensorLike | None = None,
           ref_embeddings: TensorLike | None = None, remove_diagonal: bool = True, gamma: float = 80.0,
           margin: float = 0.4) -> Tensor:
    """Circle loss of L2-normalized embeddings ``y_pred`` with integer labels ``y_true``, against
    the references (default: the batch itself): ``softplus(logsumexp(positive scores) +
    logsumexp(negative scores))`` per sample, the scores being the pairs' cosine distances
    weighted as Sun et al. (2020) and Keras weigh them. A sample with no positive (or no
    negative) pair gives 0, and a ``Loss`` leaves it out of the mean, as Keras's mask does."""
    y_pred = ops.convert_to_tensor(y_pred)
    labels = ops.cast(y_true, "int32")
    references = y_pred if ref_embeddings is None else ops.convert_to_tensor(ref_embeddings)
    ref_labels = labels if ref_labels is None else ops.cast(ref_labels, "int32")
    distances = ops.maximum(1.0 - ops.matmul(y_pred, ops.transpose(references)), 0.0)
    positive, negative = _pair_masks(labels, ref_labels, remove_diagonal)
    pos_weights = ops.maximum((margin + distances) * ops.cast(positive, distances.dtype), 0.0)
    neg_weights = ops.maximum((1.0 + margin - distances) * ops.cast(negative, distances.dtype), 0.0)
    pos_scores = -gamma * pos_weights * (margin - distances)
    neg_scores = gamma * neg_weights * ((1.0 - margin) - distances)
    # Keras fills the pairs left out with -inf; a finite floor gives the same values (its exp is 0)
    # without the NaN that an all -inf row's logsumexp puts into the backward pass
    floor = float(np.finfo(distances.dtype).min) / 4
    pos_loss = ops.logsumexp(ops.where(positive, pos_scores, floor), axis=1)
    neg_loss = ops.logsumexp(ops.where(negative, neg_scores, floor), axis=1)
    return ops.softplus(pos_loss + neg_loss)


def circle_mask(values: Tensor) -> Tensor:
    """The samples ``circle`` counts: those whose loss is above 0 (Keras's mask on its output)."""
    return ops.greater(values, 0.0)


OUTPUT_MASKS[circle] = circle_mask


def categorical_generalized_cross_entropy(y_true: TensorLike, y_pred: TensorLike, q: float) -> Tensor:
    """``(1 - p ** q) / q`` per sample, ``p`` the predicted probability of the integer label
    (labels of shape ``(batch,)`` or ``(batch, 1)``; a label outside the classes gives ``p = 0``)."""
    y_pred = ops.convert_to_tensor(y_pred)
    labels = ops.convert_to_tensor(y_true)
    # Keras one-hot encodes a (batch, 1) label array as it is and broadcasts it against the
    # predictions into a (batch, batch) loss; the documented (batch, 1) form means one label each
    if labels.ndim == y_pred.ndim and labels.shape[-1] == 1:
        labels = ops.squeeze(labels, axis=-1)
    one_hot = ops.one_hot(ops.cast(labels, "int32"), y_pred.shape[-1], dtype=y_pred.dtype)
    p = ops.sum(y_pred * one_hot, axis=-1)
    return (1.0 - ops.power(p, q)) / q
