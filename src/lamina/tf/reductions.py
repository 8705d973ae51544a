"""TensorFlow's reductions: ``reduce_sum`` ... ``reduce_logsumexp`` (``axis``, ``keepdims``),
``argmax``/``argmin``, ``count_nonzero``, ``top_k``, ``in_top_k``, ``cumsum``, ``confusion_matrix``,
on ``lamina.ops`` (so a ``GradientTape`` differentiates them).

TensorFlow's rules kept here: ``reduce_mean`` of integers is an integer (the sum divided by the
count, rounded towards zero); ``reduce_std`` and ``reduce_variance`` are the population forms and
refuse integer input; ``argmax``/``argmin`` default to ``axis=0`` and return int64; ``top_k`` puts
the lower index first among equal values.

>>> import lamina as tf
>>> x = tf.constant([[1.0, 2.0], [3.0, 6.0]])
>>> tf.reduce_sum(x, axis=1).numpy().tolist(), float(tf.reduce_std(tf.constant([1.0, 3.0])))
([3.0, 9.0], 1.0)
>>> int(tf.reduce_mean(tf.constant([1, 2])))
1
>>> tf.argmax(x).numpy().tolist()
[1, 1]
"""
from __future__ import annotations

import collections

import numpy as np

from .. import ops
from ..ops.dtypes import standardize_dtype
from ..ops.tensor import Tensor
from ._convert import axes, tensor


def _reduce(name: str, fn, doc: str):
    def op(input_tensor, axis=None, keepdims=False, name=None) -> Tensor:
        return fn(tensor(input_tensor), axes(axis), bool(keepdims))
    op.__name__ = op.__qualname__ = name
    op.__doc__ = doc
    return op


def _sum(x, axis, keepdims):
    return ops.sum(x, axis=axis, keepdims=keepdims)


def _mean(x, axis, keepdims):
    if x.dtype.kind not in "iu":
        return ops.mean(x, axis=axis, keepdims=keepdims)
    total = ops.sum(x, axis=axis, keepdims=keepdims)._value.astype(np.int64)
    count = max(x.size // max(total.size, 1), 1) if x.size else 1
    quotient = np.sign(total) * (np.abs(total) // count)  # TensorFlow's integer division: towards zero
    return Tensor(quotient.astype(x.dtype.name))


def _float_only(op: str, x):
    if x.dtype.kind != "f":
        raise TypeError(f"{op} expects a floating-point tensor, got dtype {x.dtype}; use "
                        f"tf.cast(x, tf.float32) first")


def _variance(x, axis, keepdims):
    _float_only("reduce_variance", x)
    return ops.var(x, axis=axis, keepdims=keepdims)


def _std(x, axis, keepdims):
    _float_only("reduce_std", x)
    return ops.std(x, axis=axis, keepdims=keepdims)


def _euclidean(x, axis, keepdims):
    return ops.sqrt(ops.sum(ops.square(x), axis=axis, keepdims=keepdims))


reduce_sum = _reduce("reduce_sum", _sum, "The sum over ``axis`` (every axis when None).")
reduce_mean = _reduce("reduce_mean", _mean, "The mean over ``axis``; of integers, an integer rounded towards zero.")
reduce_max = _reduce("reduce_max", lambda x, a, k: ops.max(x, axis=a, keepdims=k), "The largest value over ``axis``.")
reduce_min = _reduce("reduce_min", lambda x, a, k: ops.min(x, axis=a, keepdims=k), "The smallest value over ``axis``.")
reduce_prod = _reduce("reduce_prod", lambda x, a, k: ops.prod(x, axis=a, keepdims=k), "The product over ``axis``.")
reduce_std = _reduce("reduce_std", _std, "The population standard deviation over ``axis`` (floats only).")
reduce_variance = _reduce("reduce_variance", _variance, "The population variance over ``axis`` (floats only).")
reduce_logsumexp = _reduce("reduce_logsumexp", lambda x, a, k: ops.logsumexp(x, axis=a, keepdims=k),
                           "``log(sum(exp(x)))`` over ``axis``, computed without overflow.")
reduce_any = _reduce("reduce_any", lambda x, a, k: ops.any(x, axis=a, keepdims=k), "Whether any element over "
                     "``axis`` is true.")
reduce_all = _reduce("reduce_all", lambda x, a, k: ops.all(x, axis=a, keepdims=k), "Whether every element over "
                     "``axis`` is true.")
reduce_euclidean_norm = _reduce("reduce_euclidean_norm", _euclidean, "``sqrt(sum(x ** 2))`` over ``axis``.")


def _arg(op: str, fn, input, axis, output_type) -> Tensor:  # noqa: A002
    x = tensor(input)
    axis = 0 if axis is None else int(axis)
    if x.ndim == 0:
        raise ValueError(f"{op} expects a tensor of rank >= 1, got a scalar")
    return ops.cast(fn(x, axis=axis), standardize_dtype(output_type))


def argmax(input, axis=None, output_type="int64", name=None) -> Tensor:  # noqa: A002
    """The index of the largest value along ``axis`` (0 when None, as TensorFlow), as int64; the
    first one among equals."""
    return _arg("argmax", ops.argmax, input, axis, output_type)


def argmin(input, axis=None, output_type="int64", name=None) -> Tensor:  # noqa: A002
    """The index of the smallest value along ``axis`` (0 when None), as int64."""
    return _arg("argmin", ops.argmin, input, axis, output_type)


def count_nonzero(input, axis=None, keepdims=None, dtype="int64", name=None) -> Tensor:  # noqa: A002
    """How many elements over ``axis`` are non-zero, as int64."""
    raw = tensor(input)._value
    out = np.count_nonzero(raw, axis=axes(axis), keepdims=bool(keepdims))
    return Tensor(np.asarray(out).astype(standardize_dtype(dtype)))


TopKV2 = collections.namedtuple("TopKV2", ["values", "indices"])


def top_k(input, k=1, sorted=True, index_type="int32", name=None) -> TopKV2:  # noqa: A002
    """The ``k`` largest entries of the last axis, largest first, and their indices (the lower index
    first among equal values); the values carry the gradient back to their positions."""
    x = tensor(input)
    k = int(k)
    if not 0 <= k <= x.shape[-1]:
        raise ValueError(f"top_k: k={k} must be in [0, {x.shape[-1]}] for a last axis of length {x.shape[-1]}")
    order = np.argsort(-x._value.astype(np.float64), axis=-1, kind="stable")[..., :k]
    indices = Tensor(order.astype(standardize_dtype(index_type)))
    return TopKV2(ops.take_along_axis(x, order, axis=-1), indices)


def in_top_k(targets, predictions, k, name=None) -> Tensor:
    """Per row of ``predictions`` (batch, classes): whether the ``targets`` class is among the ``k``
    largest, equal values at the boundary counting in; a non-finite prediction gives False."""
    scores, labels = tensor(predictions)._value, tensor(targets)._value
    if scores.ndim != 2 or labels.shape != scores.shape[:1]:
        raise ValueError(f"in_top_k expects predictions of shape (batch, classes) and targets of shape (batch,), "
                         f"got {scores.shape} and {labels.shape}")
    if labels.size and (labels.min() < 0 or labels.max() >= scores.shape[1]):
        raise ValueError(f"in_top_k: targets must be in [0, {scores.shape[1]}), got {labels.tolist()}")
    own = scores[np.arange(len(labels)), labels]
    above = np.sum(scores > own[:, None], axis=1)
    return Tensor((above < int(k)) & np.isfinite(own) & np.all(np.isfinite(scores), axis=1))


def _running(fn, identity, x, axis, exclusive, reverse):
    x = tensor(x)
    axis = int(axis) % max(x.ndim, 1)
    if reverse:
        x = ops.flip(x, axis)
    if exclusive:
        first = ops.full_like(ops.take(x, [0], axis=axis), identity)
        x = ops.concatenate([first, ops.take(x, list(range(x.shape[axis] - 1)), axis=axis)], axis=axis)
    out = fn(x, axis=axis)
    if out.dtype != x.dtype and x.dtype.kind in "iu":  # integers keep their width, as in TensorFlow
        out = ops.cast(out, x.dtype)
    return ops.flip(out, axis) if reverse else out


def cumsum(x, axis=0, exclusive=False, reverse=False, name=None) -> Tensor:
    """Running sums along ``axis``; ``exclusive`` leaves each element out of its own sum, ``reverse``
    runs from the end."""
    return _running(ops.cumsum, 0, x, axis, exclusive, reverse)


def cumprod(x, axis=0, exclusive=False, reverse=False, name=None) -> Tensor:
    """Running products along ``axis`` (``exclusive`` and ``reverse`` as in ``cumsum``)."""
    return _running(ops.cumprod, 1, x, axis, exclusive, reverse)


def confusion_matrix(labels, predictions, num_classes=None, weights=None, dtype="int32", name=None) -> Tensor:
    """Counts of (label, prediction) pairs: rows are the true labels, columns the predictions."""
    truth = np.asarray(tensor(labels)._value).reshape(-1).astype(np.int64)
    guess = np.asarray(tensor(predictions)._value).reshape(-1).astype(np.int64)
    if truth.shape != guess.shape:
        raise ValueError(f"confusion_matrix: labels and predictions differ in length ({truth.size} vs {guess.size})")
    if truth.size and min(truth.min(), guess.min()) < 0:
        raise ValueError("confusion_matrix: labels and predictions must be non-negative")
    n = int(num_classes) if num_classes is not None else int(max(truth.max(initial=-1), guess.max(initial=-1)) + 1)
    if truth.size and max(truth.max(), guess.max()) >= n:
        raise ValueError(f"confusion_matrix: a label or prediction is >= num_classes={n}")
    counts = np.zeros((n, n), standardize_dtype(dtype))
    np.add.at(counts, (truth, guess), 1 if weights is None else np.asarray(tensor(weights)._value).reshape(-1))
    return Tensor(counts)


def segment_sum(data, segment_ids, name=None) -> Tensor:
    """Sums of ``data``'s rows that share a (sorted) segment id; ``max(id) + 1`` segments."""
    return ops.segment_sum(tensor(data), tensor(segment_ids), sorted=True)


def unsorted_segment_sum(data, segment_ids, num_segments, name=None) -> Tensor:
    """Sums of ``data``'s rows per segment id, ``num_segments`` of them (ids in any order)."""
    return ops.segment_sum(tensor(data), tensor(segment_ids), num_segments=int(num_segments))
