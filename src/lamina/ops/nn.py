"""The neural-network activations of ``keras.ops``: ``relu`` ... ``log_softmax``.

Each primitive activation has an ``_into(z, out)`` forward that is right even when ``out`` is
``z`` itself (how ``Dense`` applies its activation without a new array; a test holds every one
to that) and a VJP taking the output ``y``
and, when the derivative needs it, the input ``z``. ``KERNELS`` lists them for
``lamina.activations``, which adds Keras's names and arguments; ``FROM_OUTPUT`` names those
whose derivative reads from the output alone (``z`` need not be kept).
"""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from . import convert
from .math_ops import normal_cdf
from .primitive import defop
from .tensor import Tensor, TensorLike

_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946
_GELU_C = math.sqrt(2.0 / math.pi)


@dataclass(frozen=True)
class Kernel:
    """An activation's raw rules: ``into(z, out) -> out``; ``vjp(F, g, y, z) -> (dz,)``;
    ``needs_input``: the VJP reads ``z`` (so it must be kept)."""

    name: str
    into: Callable
    vjp: Callable
    needs_input: bool
    op: Callable  # the public op (a primitive call)


KERNELS: dict[str, Kernel] = {}


def _kernel(name, into, vjp, needs_input=False, **params):
    def forward(a, **kw):
        a = convert.floating(a)
        return into(a, np.empty_like(a), **kw)

    prim = defop(name, forward, lambda F, g, out, a, **kw: vjp(F, g, out, a, **kw))

    def op(x: TensorLike) -> Tensor:
        return prim(x)
    op.__name__ = op.__qualname__ = name
    KERNELS[name] = Kernel(name, into, vjp, needs_input, op)
    return prim, op


# --- the relu family --------------------------------------------------------------------------------
def _relu_into(z, out):
    return np.maximum(z, 0, out=out)


def _relu6_into(z, out):
    return np.clip(z, 0, 6, out=out)


_, relu = _kernel("relu", _relu_into, lambda F, g, y, z: (g * (y > 0),))
_, relu6 = _kernel("relu6", _relu6_into, lambda F, g, y, z: (g * ((y > 0) & (y < 6)),))
relu.__doc__ = "``max(x, 0)``, element-wise."
relu6.__doc__ = "``min(max(x, 0), 6)``, element-wise."


def _leaky_into(z, out, negative_slope=0.2):
    return np.multiply(z, np.where(z >= 0, 1, negative_slope).astype(z.dtype, copy=False), out=out)


def _leaky_vjp(F, g, y, z, negative_slope=0.2):
    return (F.where(z >= 0, g, g * negative_slope),)


_LEAKY = defop("leaky_relu", lambda a, negative_slope=0.2: _leaky_into(
    convert.floating(a), np.empty_like(convert.floating(a)), negative_slope), _leaky_vjp)


def leaky_relu(x: TensorLike, negative_slope: float = 0.2) -> Tensor:
    """``x`` where ``x >= 0``, else ``negative_slope * x``."""
    return _LEAKY(x, negative_slope=float(negative_slope))


KERNELS["leaky_relu"] = Kernel("leaky_relu", _leaky_into, _leaky_vjp, True, leaky_relu)


def _elu_into(z, out, alpha=1.0):
    positive = np.maximum(z, 0)
    np.minimum(z, 0, out=out)  # expm1 of a non-positive number cannot overflow
    np.expm1(out, out=out)
    out *= alpha
    out += positive
    return out


def _elu_vjp(F, g, y, z, alpha=1.0):
    return (F.where(y > 0, g, g * (y + alpha)),)


_ELU = defop("elu", lambda a, alpha=1.0: _elu_into(convert.floating(a), np.empty_like(convert.floating(a)), alpha),
             lambda F, g, y, z, alpha=1.0: _elu_vjp(F, g, y, z, alpha))


def elu(x: TensorLike, alpha: float = 1.0) -> Tensor:
    """``x`` where ``x > 0``, else ``alpha * (exp(x) - 1)``."""
    return _ELU(x, alpha=float(alpha))


KERNELS["elu"] = Kernel("elu", _elu_into, _elu_vjp, False, elu)


def _selu_into(z, out):
    _elu_into(z, out, _SELU_ALPHA)
    out *= _SELU_SCALE
    return out


_, selu = _kernel("selu", _selu_into,
                  lambda F, g, y, z: (F.where(y > 0, g * _SELU_SCALE, g * (y + _SELU_SCALE * _SELU_ALPHA)),))
selu.__doc__ = "``scale * elu(x, alpha)`` with SELU's constants."


def _celu_into(z, out, alpha=1.0):
    _elu_into(z / alpha, out, 1.0)
    out *= alpha
    return out


_CELU = defop("celu", lambda a, alpha=1.0: _celu_into(convert.floating(a), np.empty_like(convert.floating(a)), alpha),
              lambda F, g, y, z, alpha=1.0: (F.where(y > 0, g, g * (y / alpha + 1)),))


def celu(x: TensorLike, alpha: float = 1.0) -> Tensor:
    """``max(0, x) + min(0, alpha * (exp(x / alpha) - 1))``."""
    return _CELU(x, alpha=float(alpha))


# --- sigmoid and relatives ---------------------------------------------------------------------
def _sigmoid_into(z, out):
    # exp of a non-positive number never overflows: write e = exp(-|z|), then pick by sign
    positive = z >= 0  # before ``out`` (which may be ``z``) is written
    np.abs(z, out=out)
    np.negative(out, out=out)
    np.exp(out, out=out)
    np.divide(np.where(positive, 1, out), 1 + out, out=out)
    return out


def _softplus_into(z, out):
    positive = np.maximum(z, 0)
    np.abs(z, out=out)
    np.negative(out, out=out)
    np.exp(out, out=out)
    np.log1p(out, out=out)
    out += positive
    return out


def _silu_into(z, out):
    return np.multiply(z, _sigmoid_into(z, np.empty_like(z)), out=out)


def _silu_vjp(F, g, y, z):
    s = F.sigmoid(z)
    return (g * (s + y * (1 - s)),)


def _log_sigmoid_into(z, out):
    _softplus_into(-z, out)
    np.negative(out, out=out)
    return out


_, sigmoid = _kernel("sigmoid", _sigmoid_into, lambda F, g, y, z: (g * y * (1 - y),))
_, softplus = _kernel("softplus", _softplus_into, lambda F, g, y, z: (-g * F.expm1(-y),))
_, silu = _kernel("silu", _silu_into, _silu_vjp, needs_input=True)
_, log_sigmoid = _kernel("log_sigmoid", _log_sigmoid_into, lambda F, g, y, z: (-g * F.expm1(y),))
sigmoid.__doc__ = "``1 / (1 + exp(-x))``, without overflow."
softplus.__doc__ = "``log(1 + exp(x))``, without overflow."
silu.__doc__ = "``x * sigmoid(x)`` (also called swish)."
log_sigmoid.__doc__ = "``log(sigmoid(x))``, without overflow."
swish = silu


def _hard_sigmoid_into(z, out):
    np.add(z, 3.0, out=out)
    np.clip(out, 0.0, 6.0, out=out)
    out /= 6.0
    return out


def _hard_silu_into(z, out):
    return np.multiply(z, _hard_sigmoid_into(z, np.empty_like(z)), out=out)


def _hard_silu_vjp(F, g, y, z):
    return (g * F.where(z < -3, 0.0, F.where(z > 3, 1.0, (2 * z + 3) / 6)),)


_, hard_sigmoid = _kernel("hard_sigmoid", _hard_sigmoid_into, lambda F, g, y, z: (g * ((y > 0) & (y < 1)) / 6,))
_, hard_silu = _kernel("hard_silu", _hard_silu_into, _hard_silu_vjp, needs_input=True)
hard_sigmoid.__doc__ = "``relu6(x + 3) / 6``: a piecewise-linear sigmoid."
hard_silu.__doc__ = "``x * hard_sigmoid(x)`` (also called hard swish)."
hard_swish = hard_silu


def _softsign_into(z, out):
    denominator = np.abs(z)
    denominator += 1
    return np.divide(z, denominator, out=out)


_, softsign = _kernel("softsign", _softsign_into, lambda F, g, y, z: (g * F.square(1 - F.abs(y)),))
softsign.__doc__ = "``x / (1 + |x|)``."


def _gelu_into(z, out, approximate=True):
    if approximate:
        inner = np.tanh(_GELU_C * (z + 0.044715 * z ** 3))
        return np.multiply(0.5 * z, 1.0 + inner, out=out)
    return np.multiply(z, normal_cdf(z), out=out, casting="unsafe")


def _gelu_vjp(F, g, y, z, approximate=True):
    if approximate:
        inner = F.tanh(_GELU_C * (z + 0.044715 * z * z * z))
        slope = 0.5 * (1 + inner) + 0.5 * z * (1 - inner * inner) * _GELU_C * (1 + 3 * 0.044715 * z * z)
        return (g * slope,)
    cdf = 0.5 * (1 + F.erf(z * (1 / math.sqrt(2.0))))
    return (g * (cdf + z * F.exp(-0.5 * z * z) * (1 / math.sqrt(2 * math.pi))),)


_GELU = defop("gelu", lambda a, approximate=True: _gelu_into(
    convert.floating(a), np.empty_like(convert.floating(a)), approximate), _gelu_vjp)


def gelu(x: TensorLike, approximate: bool = True) -> Tensor:
    """``x * P(X <= x)`` for a unit normal ``X`` (the tanh approximation by default, as Keras's op)."""
    return _GELU(x, approximate=bool(approximate))


KERNELS["gelu"] = Kernel("gelu", _gelu_into, _gelu_vjp, True, gelu)


def _mish_into(z, out):
    return np.multiply(z, np.tanh(_softplus_into(z, np.empty_like(z))), out=out)


def _mish_vjp(F, g, y, z):
    t = F.tanh(F.softplus(z))
    return (g * (t + z * (1 - t * t) * F.sigmoid(z)),)


_, mish = _kernel("mish", _mish_into, _mish_vjp, needs_input=True)
mish.__doc__ = "``x * tanh(softplus(x))``."


def _exp_into(z, out):
    with np.errstate(over="ignore"):
        return np.exp(z, out=out)


_, exponential = _kernel("exponential", _exp_into, lambda F, g, y, z: (g * y,))
exponential.__doc__ = "``exp(x)`` (inf past the dtype's range, without a warning)."


def _tanh_into(z, out):
    return np.tanh(z, out=out)


_, _tanh_op = _kernel("tanh", _tanh_into, lambda F, g, y, z: (g * (1 - y * y),))


def _linear_into(z, out):
    if out is not z:
        np.copyto(out, z)
    return out


_, _linear_op = _kernel("linear", _linear_into, lambda F, g, y, z: (g,))


# --- softmax ---------------------------------------------------------------------------------------
def _softmax_into(z, out, axis=-1):
    np.subtract(z, z.max(axis=axis, keepdims=True), out=out)
    np.exp(out, out=out)
    out /= out.sum(axis=axis, keepdims=True)
    return out


def _log_softmax_into(z, out, axis=-1):
    np.subtract(z, z.max(axis=axis, keepdims=True), out=out)
    out -= np.log(np.exp(out).sum(axis=axis, keepdims=True))
    return out


def _softmax_vjp(F, g, y, z, axis=-1):
    return (y * (g - F.sum(g * y, axis=axis, keepdims=True)),)


def _log_softmax_vjp(F, g, y, z, axis=-1):
    return (g - F.exp(y) * F.sum(g, axis=axis, keepdims=True),)


def _axis_op(name, into, vjp, doc):
    prim = defop(name, lambda a, axis=-1: into(convert.floating(a), np.empty_like(convert.floating(a)), axis), vjp)

    def op(x: TensorLike, axis: int | Sequence[int] | None = -1) -> Tensor:
        return prim(x, axis=convert.axis_arg(axis))
    op.__name__ = op.__qualname__ = name
    op.__doc__ = doc
    KERNELS[name] = Kernel(name, into, vjp, False, op)
    return op


softmax = _axis_op("softmax", _softmax_into, _softmax_vjp, "``exp(x) / sum(exp(x))`` along ``axis``, stably.")
log_softmax = _axis_op("log_softmax", _log_softmax_into, _log_softmax_vjp,
                       "``x - logsumexp(x)`` along ``axis``, stably.")


def _sparsemax(a, axis=-1):
    z = np.moveaxis(convert.floating(a), axis, -1)
    ordered = -np.sort(-z, axis=-1)
    k = np.arange(1, z.shape[-1] + 1, dtype=z.dtype)
    cumulative = np.cumsum(ordered, axis=-1)
    support = 1 + k * ordered > cumulative
    k_z = support.sum(axis=-1, keepdims=True)
    tau = (np.take_along_axis(cumulative, k_z - 1, axis=-1) - 1) / k_z
    return np.moveaxis(np.maximum(z - tau, 0), -1, axis)


def _sparsemax_vjp(F, g, y, z, axis=-1):
    support = F.cast(y > 0, g.dtype)
    mean = F.sum(g * support, axis=axis, keepdims=True) / F.sum(support, axis=axis, keepdims=True)
    return (support * (g - mean),)


_SPARSEMAX = defop("sparsemax", _sparsemax, lambda F, g, y, a, axis=-1: _sparsemax_vjp(F, g, y, a, axis))


def sparsemax(x: TensorLike, axis: int = -1) -> Tensor:
    """The Euclidean projection of ``x`` onto the probability simplex along ``axis``."""
    return _SPARSEMAX(x, axis=int(axis))


# the piecewise activations written in other ops live in _piecewise.py; ops imports them from here
from ._piecewise import (glu, hard_shrink, hard_tanh, soft_shrink, sparse_plus, sparse_sigmoid,  # noqa: E402
                           squareplus, tanh_shrink, threshold)

__all__ = ["glu", "hard_shrink", "hard_tanh", "soft_shrink", "sparse_plus", "sparse_sigmoid", "squareplus",
           "tanh_shrink", "threshold"]
