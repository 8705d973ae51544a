"""``tf.nn``: activations, ``dropout``, ``moments``, ``l2_normalize`` and the
``*_cross_entropy_with_logits`` losses, with TensorFlow's argument names (``features``, ``logits``,
``labels``...), on ``lamina.ops`` (so a ``GradientTape`` differentiates them).

The cross-entropies return one loss per example (no mean), as TensorFlow's; the gradient of
``softmax_cross_entropy_with_logits`` also flows into ``labels``.

>>> import lamina as tf
>>> logits = tf.constant([[2.0, 0.0, -1.0]])
>>> loss = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=[0], logits=logits)
>>> round(float(loss[0]), 5)
0.16985
>>> tf.nn.relu([-1.0, 2.0]).numpy().tolist()
[0.0, 2.0]
"""
from __future__ import annotations

import numpy as np

from .. import ops
from ..ops.tensor import Tensor
from ._convert import axes, tensor


def relu(features, name=None) -> Tensor:
    """``max(features, 0)``."""
    return ops.relu(tensor(features))


def relu6(features, name=None) -> Tensor:
    """``min(max(features, 0), 6)``."""
    return ops.relu6(tensor(features))


def elu(features, name=None) -> Tensor:
    """``features`` where positive, else ``exp(features) - 1``."""
    return ops.elu(tensor(features))


def selu(features, name=None) -> Tensor:
    """The scaled ELU (``scale * elu(x, alpha)`` with the self-normalizing constants)."""
    return ops.selu(tensor(features))


def gelu(features, approximate=False, name=None) -> Tensor:
    """``x * P(X <= x)`` for a unit normal ``X``: exact by default (TensorFlow's default), the tanh
    approximation with ``approximate=True``."""
    return ops.gelu(tensor(features), approximate=bool(approximate))


def silu(features, beta=1.0) -> Tensor:
    """``features * sigmoid(beta * features)`` (also called swish)."""
    x = tensor(features)
    return ops.silu(x) if beta == 1.0 else x * ops.sigmoid(x * beta)


swish = silu


def leaky_relu(features, alpha=0.2, name=None) -> Tensor:
    """``features`` where positive, else ``alpha * features``."""
    return ops.leaky_relu(tensor(features), negative_slope=alpha)


def sigmoid(x, name=None) -> Tensor:
    """``1 / (1 + exp(-x))``."""
    return ops.sigmoid(tensor(x))


def tanh(x, name=None) -> Tensor:
    """The hyperbolic tangent."""
    return ops.tanh(tensor(x))


def softplus(features, name=None) -> Tensor:
    """``log(exp(features) + 1)``."""
    return ops.softplus(tensor(features))


def softsign(features, name=None) -> Tensor:
    """``features / (abs(features) + 1)``."""
    return ops.softsign(tensor(features))


def softmax(logits, axis=None, name=None) -> Tensor:
    """``exp(logits) / sum(exp(logits))`` along ``axis`` (the last when None)."""
    return ops.softmax(tensor(logits), axis=-1 if axis is None else int(axis))


def log_softmax(logits, axis=None, name=None) -> Tensor:
    """``logits - logsumexp(logits)`` along ``axis`` (the last when None)."""
    return ops.log_softmax(tensor(logits), axis=-1 if axis is None else int(axis))


def dropout(x, rate, noise_shape=None, seed=None, name=None) -> Tensor:
    """``x`` with each element zeroed with probability ``rate`` and the rest scaled by
    ``1 / (1 - rate)``; always applied (there is no training flag here, as in TensorFlow)."""
    from .. import random
    return random.dropout(tensor(x), rate, noise_shape=noise_shape, seed=seed)


def moments(x, axes, shift=None, keepdims=False, name=None) -> tuple:
    """``(mean, variance)`` of ``x`` over ``axes`` (a list of axes)."""
    return ops.moments(tensor(x), _axes_list(axes), keepdims=bool(keepdims))


def _axes_list(value) -> list:
    chosen = axes(value)
    return [chosen] if isinstance(chosen, int) else list(chosen)


def l2_normalize(x, axis=None, epsilon=1e-12, name=None, dim=None) -> Tensor:
    """``x / sqrt(max(sum(x ** 2), epsilon))`` over ``axis`` (every axis when None)."""
    x = tensor(x)
    chosen = axes(dim if axis is None else axis)
    squares = ops.sum(ops.square(x), axis=chosen, keepdims=True)
    return x * ops.rsqrt(ops.maximum(squares, epsilon))


def _same_shape(op: str, labels: Tensor, logits: Tensor) -> None:
    if labels.shape != logits.shape:
        raise ValueError(f"{op}: labels and logits must have the same shape, got {labels.shape} and {logits.shape}")


def softmax_cross_entropy_with_logits(labels, logits, axis=-1, name=None) -> Tensor:
    """``-sum(labels * log_softmax(logits), axis)``, one value per example; ``labels`` are
    probabilities (each row summing to 1) of ``logits``' shape."""
    labels, logits = tensor(labels), tensor(logits)
    _same_shape("softmax_cross_entropy_with_logits", labels, logits)
    return -ops.sum(ops.cast(labels, logits.dtype) * ops.log_softmax(logits, axis=int(axis)), axis=int(axis))


def sparse_softmax_cross_entropy_with_logits(labels, logits, name=None) -> Tensor:
    """``logsumexp(logits) - logits[label]`` per example: ``labels`` are class indices with
    ``logits``' shape minus its last axis, each in ``[0, classes)``."""
    labels, logits = tensor(labels), tensor(logits)
    if labels.dtype.kind not in "iu":
        raise TypeError(f"sparse_softmax_cross_entropy_with_logits expects integer labels, got dtype {labels.dtype}")
    if labels.shape != logits.shape[:-1]:
        raise ValueError(f"sparse_softmax_cross_entropy_with_logits: labels of shape {labels.shape} must have the "
                         f"shape of logits {logits.shape} without its last axis")
    classes = logits.shape[-1]
    if labels.size and (labels._value.min() < 0 or labels._value.max() >= classes):
        raise ValueError(f"sparse_softmax_cross_entropy_with_logits: labels must be in [0, {classes}), got values "
                         f"from {labels._value.min()} to {labels._value.max()}")
    picked = ops.take_along_axis(ops.log_softmax(logits, axis=-1), labels._value[..., None], axis=-1)
    return -ops.squeeze(picked, axis=-1)


def sigmoid_cross_entropy_with_logits(labels=None, logits=None, name=None) -> Tensor:
    """``max(x, 0) - x * z + log(1 + exp(-|x|))`` element-wise, for logits ``x`` and labels ``z`` of
    one shape (stable for large ``|x|``)."""
    if labels is None or logits is None:
        raise ValueError("sigmoid_cross_entropy_with_logits needs both labels= and logits=")
    labels, logits = tensor(labels), tensor(logits)
    _same_shape("sigmoid_cross_entropy_with_logits", labels, logits)
    z = ops.cast(labels, logits.dtype)
    return ops.relu(logits) - logits * z + ops.log1p(ops.exp(-ops.abs(logits)))


def weighted_cross_entropy_with_logits(labels, logits, pos_weight, name=None) -> Tensor:
    """``sigmoid_cross_entropy_with_logits`` with the positive term weighted by ``pos_weight``."""
    labels, logits = tensor(labels), tensor(logits)
    _same_shape("weighted_cross_entropy_with_logits", labels, logits)
    z = ops.cast(labels, logits.dtype)
    log_weight = 1.0 + (pos_weight - 1.0) * z
    return (1.0 - z) * logits + log_weight * (ops.log1p(ops.exp(-ops.abs(logits))) + ops.relu(-logits))


def l2_loss(t, name=None) -> Tensor:
    """``sum(t ** 2) / 2``."""
    return ops.sum(ops.square(tensor(t))) / 2.0


def bias_add(value, bias, data_format=None, name=None) -> Tensor:
    """``value + bias`` with the 1-D ``bias`` on the last axis (``"NC..."`` formats: the second)."""
    value, bias = tensor(value), tensor(bias)
    channel = 1 if data_format is not None and str(data_format).startswith("NC") else -1
    if bias.ndim != 1 or bias.shape[0] != value.shape[channel]:
        raise ValueError(f"bias_add: bias of shape {bias.shape} must be 1-D with the size of axis {channel} of "
                         f"value {value.shape}")
    if channel == 1:
        bias = ops.reshape(bias, (-1,) + (1,) * (value.ndim - 2))
    return value + bias


def batch_normalization(x, mean, variance, offset, scale, variance_epsilon, name=None) -> Tensor:
    """``(x - mean) / sqrt(variance + variance_epsilon) * scale + offset`` (all broadcast; ``offset``
    and ``scale`` may be None)."""
    out = (tensor(x) - mean) * ops.rsqrt(tensor(variance) + variance_epsilon)
    if scale is not None:
        out = out * scale
    return out if offset is None else out + offset


def embedding_lookup(params, ids, max_norm=None, name=None) -> Tensor:
    """The rows of ``params`` at ``ids`` (rows scaled down to L2 norm ``max_norm`` when given)."""
    from .array_ops import gather
    rows = gather(params, ids)
    if max_norm is None:
        return rows
    from .math_ops import clip_by_norm
    return clip_by_norm(rows, max_norm, axes=[-1])


def compute_average_loss(per_example_loss, sample_weight=None, global_batch_size=None) -> Tensor:
    """The summed (weighted) per-example loss divided by the batch size (``global_batch_size``, or the
    first axis of ``per_example_loss``): one device, one replica."""
    loss = tensor(per_example_loss)
    if sample_weight is not None:
        loss = loss * sample_weight
    size = loss.shape[0] if global_batch_size is None and loss.ndim else (global_batch_size or 1)
    return ops.sum(loss) / float(size)


def scale_regularization_loss(regularization_loss) -> Tensor:
    """The summed regularization loss (divided by the replicas: one here)."""
    return ops.sum(tensor(regularization_loss))


def zero_fraction(value, name=None) -> Tensor:
    """The fraction of ``value``'s elements that are 0."""
    raw = tensor(value)._value
    return Tensor(np.asarray(np.mean(raw == 0) if raw.size else 0.0, np.float32))
