"""The rest of ``keras.ops.nn``, written in other ops (so the tape differentiates them step by
step): encodings, the three crossentropies, moments and the normalizations."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .. import _kernel_switch
from ..backend import config
from . import convert
from .primitive import Primitive
from .tensor import Tensor, TensorLike


def _ops():
    from .. import ops
    return ops


def _one_hot_forward(labels, num_classes, axis, dtype):
    classes = np.arange(num_classes)
    out = (np.asarray(labels).astype(np.int64)[..., None] == classes).astype(dtype)
    return out if axis == -1 else np.moveaxis(out, -1, axis)


# no gradient (integer labels), but a primitive, so that a step trace sees the labels' encoding
_ONE_HOT = Primitive("one_hot", _one_hot_forward)


def one_hot(x: TensorLike, num_classes, axis: int = -1, dtype: str | np.dtype | None = None,
            sparse: bool = False) -> Tensor:
    """Integer labels ``x`` as one-hot vectors of ``num_classes`` along ``axis`` (a label out of
    range gives a zero vector)."""
    if sparse:
        raise ValueError("one_hot(sparse=True) is not supported: lamina has no sparse tensors")
    return _ONE_HOT(x, num_classes=int(num_classes), axis=int(axis), dtype=np.dtype(dtype or config.floatx()).name)


def multi_hot(inputs: TensorLike, num_classes=None, axis: int = -1,
              dtype: str | np.dtype | None = None, sparse: bool = False, **kwargs) -> Tensor:
    """Integer labels as multi-hot vectors: 1 for each class that occurs in a row."""
    num_classes = kwargs.pop("num_tokens", num_classes)
    if num_classes is None:
        raise ValueError("multi_hot needs num_classes")
    if kwargs:
        raise TypeError(f"multi_hot got unexpected keyword argument(s) {sorted(kwargs)}")
    encoded = one_hot(inputs, num_classes, axis=-1, dtype=dtype, sparse=sparse)._value
    if encoded.ndim > 1:
        encoded = encoded.max(axis=-2)
    return Tensor(encoded if axis == -1 else np.moveaxis(encoded, -1, axis))


def _check_same_shape(what: str, target, output) -> None:
    if tuple(np.shape(convert.value(target))) != tuple(output.shape):
        raise ValueError(f"{what}: target and output must have the same shape, got target {target.shape} "
                         f"and output {output.shape}")


# --- the three crossentropies: fused nodes (forward and gradient in NumPy, one tape node each),
# with the same computations in ops as their composites -----------------------------------------------
def _bce_forward(target, output, from_logits):
    t, o = np.asarray(target, output.dtype), output
    if from_logits:  # max(x, 0) - x * z + log(1 + exp(-|x|)), stable for any x
        return np.maximum(o, 0) - o * t + np.log1p(np.exp(-np.abs(o)))
    eps = config.epsilon()
    p = np.clip(o, eps, 1 - eps)
    return -(t * np.log(p) + (1 - t) * np.log(1 - p))


def _bce_vjp(g, out, target, output, from_logits):
    t = np.asarray(target, output.dtype)
    if from_logits:
        return None, g * (np.exp(-np.logaddexp(0, -output)) - t)
    eps = config.epsilon()
    inside = (output > eps) & (output < 1 - eps)
    p = np.clip(output, eps, 1 - eps)
    return None, g * inside * (p - t) / (p * (1 - p))


def _bce_composite(target, output, from_logits):
    ops = _ops()
    target = ops.cast(target, output.dtype)
    if from_logits:
        return ops.relu(output) - output * target + ops.log1p(ops.exp(-ops.abs(output)))
    eps = config.epsilon()
    p = ops.clip(output, eps, 1.0 - eps)
    return -(target * ops.log(p) + (1.0 - target) * ops.log(1.0 - p))


_BCE = Primitive("binary_crossentropy", _bce_forward, raw_vjp=_bce_vjp, composite=_bce_composite)


def binary_crossentropy(target: TensorLike, output: TensorLike, from_logits: bool = False) -> Tensor:
    """Element-wise crossentropy between 0/1 targets and probabilities (or logits)."""
    ops = _ops()
    output = ops.convert_to_tensor(output)
    _check_same_shape("binary_crossentropy", target, output)
    return _BCE(target, output, from_logits=bool(from_logits))


def _cce_forward(target, output, from_logits):
    t = np.asarray(target, output.dtype)
    if from_logits:
        shifted = output - output.max(axis=-1, keepdims=True)
        log_p = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    else:
        eps = config.epsilon()
        log_p = np.log(np.clip(output / output.sum(axis=-1, keepdims=True), eps, 1 - eps))
    return -(t * log_p).sum(axis=-1)


def _cce_vjp(g, out, target, output, from_logits):
    t = np.asarray(target, output.dtype)
    g = np.asarray(g)[..., None]
    if from_logits:
        e = np.exp(output - output.max(axis=-1, keepdims=True))
        return None, g * (e / e.sum(axis=-1, keepdims=True) * t.sum(axis=-1, keepdims=True) - t)
    eps = config.epsilon()
    total = output.sum(axis=-1, keepdims=True)
    q = output / total
    inside = (q > eps) & (q < 1 - eps)  # the clip stops the gradient outside
    d_q = -t * inside / np.where(inside, q, 1)
    return None, g * (d_q - (d_q * q).sum(axis=-1, keepdims=True)) / total


def _cce_composite(target, output, from_logits):
    ops = _ops()
    return -ops.sum(ops.cast(target, output.dtype) * _log_probabilities(ops, output, from_logits, -1), axis=-1)


_CCE = Primitive("categorical_crossentropy", _cce_forward, raw_vjp=_cce_vjp, composite=_cce_composite)


def _log_probabilities(ops, output, from_logits, axis):
    if from_logits:
        return ops.log_softmax(output, axis=axis)
    eps = config.epsilon()
    p = output / ops.sum(output, axis=axis, keepdims=True)
    return ops.log(ops.clip(p, eps, 1.0 - eps))


def categorical_crossentropy(target: TensorLike, output: TensorLike, from_logits: bool = False,
                             axis: int | Sequence[int] | None = -1) -> Tensor:
    """Crossentropy between class-probability targets and predictions along ``axis``; the
    predictions are normalized to sum to 1 and clipped to ``[eps, 1 - eps]`` unless logits."""
    ops = _ops()
    output = ops.convert_to_tensor(output)
    _check_same_shape("categorical_crossentropy", target, output)
    if axis in (-1, output.ndim - 1):
        return _CCE(target, output, from_logits=bool(from_logits))
    return -ops.sum(ops.cast(target, output.dtype) * _log_probabilities(ops, output, from_logits, axis), axis=axis)


def sparse_categorical_crossentropy(target: TensorLike, output: TensorLike, from_logits: bool = False,
                                    axis: int = -1) -> Tensor:
    """``categorical_crossentropy`` with integer class labels as the target."""
    ops = _ops()
    output = ops.convert_to_tensor(output)
    labels = target if isinstance(target, Tensor) else Tensor(convert.array(target))
    if labels.ndim == output.ndim and labels.shape[-1] == 1:
        labels = ops.squeeze(labels, axis=-1)
    if axis in (-1, output.ndim - 1) and labels.shape != output.shape[:-1]:
        raise ValueError(f"sparse_categorical_crossentropy: the labels' shape {labels.shape} must be the "
                         f"output's {output.shape} without its class axis")
    if axis in (-1, output.ndim - 1):
        return _SPARSE_CCE(labels, output, from_logits=bool(from_logits))
    encoded = one_hot(labels, output.shape[axis], axis=axis, dtype=output.dtype)
    return categorical_crossentropy(encoded, output, from_logits=from_logits, axis=axis)


# the sparse crossentropy as one node: the label's probability picked, not a one-hot made and
# multiplied (a user's training loop pays per op); a label outside [0, classes) gives 0, as its
# all-zero one-hot vector does in the composite
def _int_labels(labels) -> np.ndarray:
    return np.asarray(labels).astype(np.int64, copy=False)


def _picked(labels, output):
    labels = _int_labels(labels)
    valid = (labels >= 0) & (labels < output.shape[-1])
    return valid, np.where(valid, labels, 0)[..., None]


def _kernels(output):
    """The compiled loops (``_crossentropy_kernels.py``) where they apply: a C-contiguous 2-D float
    output, numba installed and the compiled kernels on (``LAMINA_KERNELS``); else None."""
    if output.ndim != 2 or output.dtype.kind != "f" or not output.flags.c_contiguous:
        return None
    return _kernel_switch.compiled_module("lamina.ops._crossentropy_kernels")


def _sparse_cce_forward(labels, output, from_logits):
    compiled = _kernels(output)
    if compiled is not None:
        out = np.empty(output.shape[0], output.dtype)
        compiled.sparse_loss(output, _int_labels(labels).reshape(-1),
                             output.dtype.type(config.epsilon()), bool(from_logits), out)
        return out
    valid, index = _picked(labels, output)
    if from_logits:
        top = output.max(axis=-1, keepdims=True)
        log_p = (np.take_along_axis(output, index, -1) - top) - np.log(np.exp(output - top).sum(axis=-1, keepdims=True))
    else:
        eps = config.epsilon()
        q = np.take_along_axis(output, index, -1) / output.sum(axis=-1, keepdims=True)
        log_p = np.log(np.clip(q, eps, 1 - eps))
    loss = -log_p[..., 0]
    return loss if valid.all() else np.where(valid, loss, 0).astype(loss.dtype, copy=False)


def _sparse_cce_vjp(g, out, labels, output, from_logits):
    compiled = _kernels(output)
    if compiled is not None:
        grad = np.empty_like(output)
        compiled.sparse_loss_grad(np.ascontiguousarray(g, output.dtype).reshape(-1), output,
                                  _int_labels(labels).reshape(-1),
                                  output.dtype.type(config.epsilon()), bool(from_logits), grad)
        return None, grad
    valid, index = _picked(labels, output)
    g = np.where(valid, g, 0).astype(output.dtype, copy=False)[..., None]
    if from_logits:  # g (softmax - one_hot)
        e = np.exp(output - output.max(axis=-1, keepdims=True))
        grad = e * (g / e.sum(axis=-1, keepdims=True))
        np.put_along_axis(grad, index, np.take_along_axis(grad, index, -1) - g, -1)
        return None, grad
    eps = config.epsilon()
    total = output.sum(axis=-1, keepdims=True)
    q = np.take_along_axis(output, index, -1) / total
    inside = (q > eps) & (q < 1 - eps)  # the clip stops the gradient outside
    scale = np.where(inside, g / total, 0).astype(output.dtype, copy=False)
    grad = np.repeat(scale, output.shape[-1], axis=-1)  # d(-log q_l)/d output_j: (1 - [j = l] / q_l) / total
    np.put_along_axis(grad, index, scale * (1 - 1 / np.where(inside, q, 1)), -1)
    return None, grad


def _sparse_cce_composite(labels, output, from_logits):
    encoded = _ops().one_hot(labels, output.shape[-1], dtype=output.dtype)
    return _cce_composite(encoded, output, from_logits)


_SPARSE_CCE = Primitive("sparse_categorical_crossentropy", _sparse_cce_forward, raw_vjp=_sparse_cce_vjp,
                        composite=_sparse_cce_composite)


def moments(x: TensorLike, axes: int | Sequence[int] | None, keepdims: bool = False,
            synchronized: bool = False) -> tuple[Tensor, ...]:
    """The mean and variance of ``x`` over ``axes``."""
    ops = _ops()
    x = ops.convert_to_tensor(x)
    mean = ops.mean(x, axis=axes, keepdims=True)
    variance = ops.var(x, axis=axes, keepdims=True)
    if not keepdims:
        mean, variance = ops.squeeze(mean, axis=axes), ops.squeeze(variance, axis=axes)
    return mean, variance


def batch_normalization(x: TensorLike, mean: TensorLike, variance: TensorLike, axis: int,
                        offset: TensorLike = None, scale: TensorLike = None, epsilon: float = 1e-3) -> Tensor:
    """``(x - mean) / sqrt(variance + epsilon) * scale + offset``, the statistics given per
    feature of ``axis``."""
    ops = _ops()
    x = ops.convert_to_tensor(x)
    shape = [1] * x.ndim
    shape[axis] = x.shape[axis]

    def broadcast(v):
        v = ops.convert_to_tensor(v)
        return ops.reshape(v, shape) if v.ndim == 1 and x.ndim > 1 else v
    inv = ops.rsqrt(broadcast(variance) + epsilon)
    if scale is not None:
        inv = inv * broadcast(scale)
    out = (x - broadcast(mean)) * inv
    return out if offset is None else out + broadcast(offset)


def normalize(x: TensorLike, axis: int | Sequence[int] | None = -1, order: int = 2, epsilon=None) -> Tensor:
    """``x`` divided by its ``order``-norm along ``axis`` (at least ``epsilon``)."""
    if not isinstance(order, int) or order < 1:
        raise ValueError(f"normalize expects order to be an int >= 1, got order={order!r}")
    ops = _ops()
    x = ops.convert_to_tensor(x)
    epsilon = config.epsilon() if epsilon is None else epsilon
    if order == 2:
        inv = ops.minimum(ops.rsqrt(ops.sum(ops.square(x), axis=axis, keepdims=True)), 1.0 / epsilon)
        return x * inv
    return x / ops.maximum(ops.norm(x, ord=order, axis=axis, keepdims=True), epsilon)


def layer_normalization(x: TensorLike, gamma=None, beta=None, axis: int | Sequence[int] = -1, epsilon=None,
                        rms_scaling: bool = False) -> Tensor:
    """``x`` standardized over ``axis`` (mean 0, variance 1), then ``* gamma + beta``."""
    ops = _ops()
    x = ops.convert_to_tensor(x)
    epsilon = config.epsilon() if epsilon is None else epsilon
    axes = [axis] if isinstance(axis, int) else sorted(axis)
    shape = [1] * x.ndim
    for a in axes:
        shape[a] = x.shape[a]

    def broadcast(v):
        v = ops.convert_to_tensor(v)
        return ops.reshape(v, shape) if v.ndim != x.ndim and axes != [x.ndim - 1] else v
    if rms_scaling:
        out = x * ops.rsqrt(ops.var(x, axis=axes, keepdims=True) + epsilon)
        return out if gamma is None else out * broadcast(gamma)
    mean, variance = moments(x, axes, keepdims=True)
    out = (x - mean) * ops.rsqrt(variance + epsilon)
    if gamma is not None:
        out = out * broadcast(gamma)
    return out if beta is None else out + broadcast(beta)


def rms_normalization(x: TensorLike, scale: TensorLike = None, axis: int | Sequence[int] | None = -1,
                      epsilon=None) -> Tensor:
    """``x / sqrt(mean(x**2) + epsilon)`` over ``axis``, times ``scale``."""
    ops = _ops()
    x = ops.convert_to_tensor(x)
    epsilon = config.epsilon() if epsilon is None else epsilon
    out = x * ops.rsqrt(ops.mean(ops.square(x), axis=axis, keepdims=True) + epsilon)
    return out if scale is None else out * scale


def psnr(x1: TensorLike, x2: TensorLike, max_val) -> Tensor:
    """The peak signal-to-noise ratio of ``x2`` against ``x1``, in dB."""
    ops = _ops()
    mse = ops.mean(ops.square(ops.subtract(x1, x2)))
    return 20.0 * ops.log10(ops.convert_to_tensor(float(max_val))) - 10.0 * ops.log10(mse)
