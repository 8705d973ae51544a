"""Activation functions, each registered with its derivative.

A public function (``relu(x)``) returns a new array, as in Keras. The training engine uses the
registered pair: ``forward(z, out)`` writes the activation of ``z`` into ``out`` (which may be
``z`` itself), and ``backward(dy, y, z)`` turns the gradient with respect to the output ``y``
into the gradient with respect to the input ``z``, overwriting ``dy`` where it can. Derivatives
come from the output when that is enough (``1 - y**2`` for tanh, ``y > 0`` for relu), so the
input need not be kept (``Activation.needs_input`` says when it must).

The registered pair computes a function with its default arguments (``relu`` without a leak,
``gelu`` in its exact form); the public functions take Keras's arguments too.

>>> import numpy as np
>>> relu(np.array([-1.0, 2.0]))
array([0., 2.])
>>> get("relu").name
'relu'
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

from ._resolve import unknown_name


@dataclass(frozen=True)
class Activation:
    """An activation function with its derivative, as :func:`register` stores it.

    >>> act = get("tanh")
    >>> float(act(np.array(0.0)))
    0.0
    """

    name: str
    function: Callable  # the public, allocating function
    forward: Callable  # forward(z, out) -> out
    backward: Callable  # backward(dy, y, z) -> dz
    needs_input: bool = False

    def __call__(self, x, **kwargs):
        return self.function(x, **kwargs)


_REGISTRY: dict[str, Activation] = {}


def register(name, function, forward, backward, needs_input=False, aliases=()):
    """Add an activation (with its derivative) under ``name``; ``get(name)`` then finds it."""
    act = Activation(name, function, forward, backward, needs_input)
    for key in (name, *aliases):
        _REGISTRY[key] = act
    function.activation = act
    return act


def _float(x):
    x = np.asarray(x)
    return x if x.dtype.kind == "f" else x.astype("float32")


def _apply(forward, x):
    """The public function of a registered ``forward``: a new array, ints made float."""
    x = _float(x)
    return forward(x, np.empty_like(x))


# linear --------------------------------------------------------------------------------------
def linear(x: np.ndarray) -> np.ndarray:
    """The identity: ``linear(x) == x``.

    >>> linear(np.array([-1.0, 2.0]))
    array([-1.,  2.])
    """
    return _float(x)


def _linear_forward(z, out):
    if out is not z:
        np.copyto(out, z)
    return out


register("linear", linear, _linear_forward, lambda dy, y, z: dy, aliases=(None,))


# relu family ---------------------------------------------------------------------------------
def relu(x: np.ndarray, negative_slope: float = 0.0, max_value: float | None = None,
         threshold: float = 0.0) -> np.ndarray:
    """``max(x, 0)``, as Keras computes it with its three options.

    Values at or below ``threshold`` become 0 (above it ``x`` passes unchanged), the result is
    clipped to ``[0, max_value]``, then ``negative_slope * (x - threshold)`` is added below the
    threshold.

    >>> relu(np.array([-10.0, -5.0, 0.0, 5.0, 10.0]), negative_slope=0.5)
    array([-5. , -2.5,  0. ,  5. , 10. ])
    >>> relu(np.array([-10.0, -5.0, 0.0, 5.0, 10.0]), threshold=5.0)
    array([ 0.,  0.,  0.,  0., 10.])
    """
    x = _float(x)
    if threshold != 0:
        y = np.where(x > threshold, x, 0)
    else:
        y = np.maximum(x, 0)
    if max_value is not None:
        y = np.clip(y, 0, max_value)
    if negative_slope != 0:
        y = y - negative_slope * np.maximum(threshold - x, 0)
    return y.astype(x.dtype, copy=False)


def _relu_forward(z, out):
    return np.maximum(z, 0, out=out)


def _relu_backward(dy, y, z):
    dy *= y > 0
    return dy


register("relu", relu, _relu_forward, _relu_backward)


def relu6(x: np.ndarray) -> np.ndarray:
    """``min(max(x, 0), 6)``.

    >>> relu6(np.array([-1.0, 3.0, 9.0]))
    array([0., 3., 6.])
    """
    return _apply(_relu6_forward, x)


def _relu6_forward(z, out):
    return np.clip(z, 0, 6, out=out)


def _relu6_backward(dy, y, z):
    dy *= (y > 0) & (y < 6)
    return dy


register("relu6", relu6, _relu6_forward, _relu6_backward)


def leaky_relu(x: np.ndarray, negative_slope: float = 0.2) -> np.ndarray:
    """``x`` where ``x >= 0``, else ``negative_slope * x`` (Keras 3's default slope is 0.2).

    >>> leaky_relu(np.array([-1.0, 2.0]))
    array([-0.2,  2. ])
    """
    x = _float(x)
    return np.where(x >= 0, x, negative_slope * x).astype(x.dtype, copy=False)


def _leaky_relu_forward(z, out):
    return np.maximum(z, 0.2 * z, out=out)  # max(z, a z) is the leak for 0 <= a <= 1


def _leaky_relu_backward(dy, y, z):
    np.multiply(dy, 0.2, out=dy, where=y <= 0)
    return dy


register("leaky_relu", leaky_relu, _leaky_relu_forward, _leaky_relu_backward)


# exponential linear units --------------------------------------------------------------------
_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def elu(x: np.ndarray, alpha: float = 1.0) -> np.ndarray:
    """``x`` where ``x > 0``, else ``alpha * (exp(x) - 1)``.

    >>> elu(np.array([-1.0, 2.0])).round(4)
    array([-0.6321,  2.    ])
    """
    x = _float(x)
    return _elu_into(x, np.empty_like(x), alpha)


def _elu_into(z, out, alpha):
    positive = np.maximum(z, 0)
    np.minimum(z, 0, out=out)  # expm1 of a non-positive number cannot overflow
    np.expm1(out, out=out)
    out *= alpha
    out += positive
    return out


def _elu_backward(dy, y, z):
    # below zero the derivative alpha * exp(z) equals y + alpha
    np.multiply(dy, y + 1.0, out=dy, where=y <= 0)
    return dy


register("elu", elu, lambda z, out: _elu_into(z, out, 1.0), _elu_backward)


def selu(x: np.ndarray) -> np.ndarray:
    """``scale * elu(x, alpha)`` with ``alpha = 1.67326324`` and ``scale = 1.05070098``.

    >>> selu(np.array([0.0, 1.0])).round(4)
    array([0.    , 1.0507])
    """
    return _apply(_selu_forward, x)


def _selu_forward(z, out):
    _elu_into(z, out, _SELU_ALPHA)
    out *= _SELU_SCALE
    return out


def _selu_backward(dy, y, z):
    slope = np.where(y > 0, _SELU_SCALE, y + _SELU_SCALE * _SELU_ALPHA)
    dy *= slope
    return dy


register("selu", selu, _selu_forward, _selu_backward)


# gelu ----------------------------------------------------------------------------------------
# erfc(u) = t * exp(-u**2 + P(t)) with t = 2 / (2 + u), u >= 0 (the form Numerical Recipes uses).
# P is a Chebyshev series in t over [2/27, 1], fitted to math.erfc; relative error < 1e-12 for
# u in [0, 26], beyond which erfc underflows. NumPy has no erf, and math.erf per element is ~60x
# slower than one tanh over a batch.
_ERFC_T_LOW = 2.0 / 27.0
_ERFC_CHEBYSHEV = np.array([
    -0.6076849870752178, 0.6025711744860088, 0.013512625407920675, -0.008166407940761263,
    -0.0005165702359101155, 0.0002826772769249618, 1.4175333248158498e-05, -1.3348597376414203e-05,
    6.533534310753105e-08, 6.797476499623228e-07, -5.916116444899089e-08, -3.171875384384283e-08,
    6.5555377089776956e-09, 1.060268925462822e-09, -5.00505843934142e-10, 3.5316215970821317e-12,
    2.8041201397310577e-11, -4.1943979286499696e-12, -9.473614905603536e-13, 3.792327478652448e-13,
    -9.791234622443118e-15])


def _erfc_nonnegative(u: np.ndarray) -> np.ndarray:
    """``erfc(u)`` for ``u >= 0``, in float64, accurate to ~1e-12 relative."""
    u = np.minimum(u, 40.0)  # exp(-40**2) is 0 in float64; keeps u**2 finite
    t = 2.0 / (2.0 + u)
    s = (t - _ERFC_T_LOW) * (2.0 / (1.0 - _ERFC_T_LOW)) - 1.0
    return t * np.exp(np.polynomial.chebyshev.chebval(s, _ERFC_CHEBYSHEV) - u * u)


def _normal_cdf(x: np.ndarray) -> np.ndarray:
    """``P(X <= x)`` for a unit normal, ``erfc(-x / sqrt(2)) / 2``, accurate in both tails."""
    half_tail = 0.5 * _erfc_nonnegative(np.abs(x) * (1.0 / math.sqrt(2.0)))
    return np.where(x < 0, half_tail, 1.0 - half_tail)


def _normal_pdf(x: np.ndarray) -> np.ndarray:
    return np.exp(-0.5 * np.square(np.minimum(np.abs(x), 40.0))) * (1.0 / math.sqrt(2.0 * math.pi))


def gelu(x: np.ndarray, approximate: bool = False) -> np.ndarray:
    """Gaussian error linear unit: ``x * P(X <= x)`` for ``X ~ N(0, 1)``.

    Exact (``0.5 * x * (1 + erf(x / sqrt(2)))``) by default, as Keras's ``activations.gelu``;
    ``approximate=True`` uses ``0.5 * x * (1 + tanh(sqrt(2 / pi) * (x + 0.044715 * x**3)))``.

    >>> gelu(np.array([-1.0, 0.0, 1.0])).round(4)
    array([-0.1587,  0.    ,  0.8413])
    """
    x = _float(x)
    if approximate:
        inner = math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)
        return (0.5 * x * (1.0 + np.tanh(inner))).astype(x.dtype, copy=False)
    return _gelu_forward(x, np.empty_like(x))


def _gelu_forward(z, out):
    np.multiply(z, _normal_cdf(z), out=out, casting="unsafe")
    return out


def _gelu_backward(dy, y, z):
    dy *= _normal_cdf(z) + z * _normal_pdf(z)
    return dy


register("gelu", gelu, _gelu_forward, _gelu_backward, needs_input=True)


# sigmoid and the functions built on it -------------------------------------------------------
def sigmoid(x: np.ndarray) -> np.ndarray:
    """``1 / (1 + exp(-x))``, computed without overflow.

    >>> sigmoid(np.array([0.0, 1000.0, -1000.0]))
    array([0.5, 1. , 0. ])
    """
    return _apply(_sigmoid_forward, x)


def _sigmoid_forward(z, out):
    # exp of a non-positive number never overflows: split by sign.
    e = np.exp(-np.abs(z))
    np.divide(np.where(z >= 0, 1.0, e), 1.0 + e, out=out, casting="unsafe")
    return out


def _sigmoid_backward(dy, y, z):
    dy *= y * (1 - y)
    return dy


register("sigmoid", sigmoid, _sigmoid_forward, _sigmoid_backward)


def silu(x: np.ndarray) -> np.ndarray:
    """``x * sigmoid(x)``, also called swish.

    >>> silu(np.array([0.0, 1.0])).round(4)
    array([0.    , 0.7311])
    """
    return _apply(_silu_forward, x)


def _silu_forward(z, out):
    return np.multiply(z, sigmoid(z), out=out)


def _silu_backward(dy, y, z):
    s = sigmoid(z)
    dy *= s * (1 + z * (1 - s))
    return dy


register("silu", silu, _silu_forward, _silu_backward, needs_input=True, aliases=("swish",))
swish = silu


def hard_sigmoid(x: np.ndarray) -> np.ndarray:
    """``relu6(x + 3) / 6``: 0 below -3, 1 above 3, ``x / 6 + 0.5`` between (Keras 3's formula).

    >>> hard_sigmoid(np.array([-4.0, 0.0, 1.5, 4.0]))
    array([0.  , 0.5 , 0.75, 1.  ])
    """
    return _apply(_hard_sigmoid_forward, x)


def _hard_sigmoid_forward(z, out):
    np.add(z, 3.0, out=out)
    out /= 6.0
    return np.clip(out, 0.0, 1.0, out=out)


def _hard_sigmoid_backward(dy, y, z):
    dy *= ((y > 0) & (y < 1)) * (1.0 / 6.0)
    return dy


register("hard_sigmoid", hard_sigmoid, _hard_sigmoid_forward, _hard_sigmoid_backward)


def hard_silu(x: np.ndarray) -> np.ndarray:
    """``x * hard_sigmoid(x)``, also called hard swish.

    >>> hard_silu(np.array([-4.0, 1.0, 4.0])).round(4)
    array([-0.    ,  0.6667,  4.    ])
    """
    return _apply(_hard_silu_forward, x)


def _hard_silu_forward(z, out):
    return np.multiply(z, hard_sigmoid(z), out=out)


def _hard_silu_backward(dy, y, z):
    # d/dz z * (z + 3) / 6 = (2z + 3) / 6 on (-3, 3); 0 below, 1 above
    dy *= np.where(z <= -3, 0.0, np.where(z >= 3, 1.0, (2 * z + 3) / 6))
    return dy


register("hard_silu", hard_silu, _hard_silu_forward, _hard_silu_backward, needs_input=True,
         aliases=("hard_swish",))
hard_swish = hard_silu


def softplus(x: np.ndarray) -> np.ndarray:
    """``log(exp(x) + 1)``, computed without overflow.

    >>> softplus(np.array([0.0, 30.0])).round(4)
    array([ 0.6931, 30.    ])
    """
    return _apply(_softplus_forward, x)


def _softplus_forward(z, out):
    positive = np.maximum(z, 0)
    np.abs(z, out=out)
    np.negative(out, out=out)
    np.exp(out, out=out)
    np.log1p(out, out=out)
    out += positive
    return out


def _softplus_backward(dy, y, z):
    # the derivative sigmoid(z) equals 1 - exp(-y)
    dy *= -np.expm1(-y)
    return dy


register("softplus", softplus, _softplus_forward, _softplus_backward)


def mish(x: np.ndarray) -> np.ndarray:
    """``x * tanh(softplus(x))``.

    >>> mish(np.array([0.0, 1.0])).round(4)
    array([0.    , 0.8651])
    """
    return _apply(_mish_forward, x)


def _mish_forward(z, out):
    return np.multiply(z, np.tanh(softplus(z)), out=out)


def _mish_backward(dy, y, z):
    t = np.tanh(softplus(z))
    dy *= t + z * (1 - t * t) * sigmoid(z)
    return dy


register("mish", mish, _mish_forward, _mish_backward, needs_input=True)


# bounded and exponential ---------------------------------------------------------------------
def softsign(x: np.ndarray) -> np.ndarray:
    """``x / (abs(x) + 1)``.

    >>> softsign(np.array([-1.0, 3.0]))
    array([-0.5 ,  0.75])
    """
    return _apply(_softsign_forward, x)


def _softsign_forward(z, out):
    return np.divide(z, np.abs(z) + 1, out=out)


def _softsign_backward(dy, y, z):
    # 1 / (1 + |z|)**2 equals (1 - |y|)**2
    dy *= np.square(1 - np.abs(y))
    return dy


register("softsign", softsign, _softsign_forward, _softsign_backward)


def tanh(x: np.ndarray) -> np.ndarray:
    """Hyperbolic tangent.

    >>> tanh(np.array([0.0]))
    array([0.])
    """
    return np.tanh(_float(x))


def _tanh_backward(dy, y, z):
    dy *= 1 - y * y
    return dy


register("tanh", tanh, lambda z, out: np.tanh(z, out=out), _tanh_backward)


def exponential(x: np.ndarray) -> np.ndarray:
    """``exp(x)``; past the dtype's range the result is ``inf``, without a warning.

    >>> exponential(np.array([0.0, 1.0])).round(4)
    array([1.    , 2.7183])
    """
    return _apply(_exponential_forward, x)


def _exponential_forward(z, out):
    with np.errstate(over="ignore"):
        return np.exp(z, out=out)


def _exponential_backward(dy, y, z):
    dy *= y
    return dy


register("exponential", exponential, _exponential_forward, _exponential_backward)


# softmax -------------------------------------------------------------------------------------
def softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """``exp(x) / sum(exp(x))`` along ``axis``, shifted by the max so it cannot overflow.

    >>> softmax(np.array([0.0, 0.0]))
    array([0.5, 0.5])
    """
    x = _float(x)
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _softmax_forward(z, out):
    np.subtract(z, z.max(axis=-1, keepdims=True), out=out)
    np.exp(out, out=out)
    out /= out.sum(axis=-1, keepdims=True)
    return out


def _softmax_backward(dy, y, z):
    # Jacobian-vector product: y * (dy - <dy, y>)
    dy -= (dy * y).sum(axis=-1, keepdims=True)
    dy *= y
    return dy


register("softmax", softmax, _softmax_forward, _softmax_backward)


def log_softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """``x - log(sum(exp(x)))`` along ``axis``, without overflow.

    >>> log_softmax(np.array([0.0, 0.0])).round(4)
    array([-0.6931, -0.6931])
    """
    x = _float(x)
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def _log_softmax_forward(z, out):
    np.subtract(z, z.max(axis=-1, keepdims=True), out=out)
    out -= np.log(np.exp(out).sum(axis=-1, keepdims=True))
    return out


def _log_softmax_backward(dy, y, z):
    # dz = dy - softmax(z) * sum(dy), and softmax(z) = exp(y)
    total = dy.sum(axis=-1, keepdims=True)
    dy -= np.exp(y) * total
    return dy


register("log_softmax", log_softmax, _log_softmax_forward, _log_softmax_backward)


# lookup --------------------------------------------------------------------------------------
def serialize(activation) -> str:
    """The name Keras stores in a config for ``activation``.

    >>> serialize(swish)
    'silu'
    """
    return get(activation).name


def deserialize(name: str) -> Activation:
    """The activation a config names (``get`` for a name)."""
    return get(name)


def get(identifier) -> Activation:
    """Resolve ``None``, a name, an ``Activation`` or a public activation function.

    >>> get("tanh").name
    'tanh'
    """
    if isinstance(identifier, Activation):
        return identifier
    if isinstance(identifier, dict) and isinstance(identifier.get("config"), str):
        identifier = identifier["config"]  # {"class_name": "function", "config": "relu", ...}
    if isinstance(identifier, str) or identifier is None:
        if identifier in _REGISTRY:
            return _REGISTRY[identifier]
        names = sorted(k for k in _REGISTRY if k is not None)
        raise unknown_name("activation", identifier, names)
    if callable(identifier):
        if hasattr(identifier, "activation"):
            return identifier.activation
        raise TypeError(f"activation {identifier!r} has no registered derivative; register it with "
                        "lamina.activations.register(name, function, forward, backward)")
    raise TypeError(f"activation must be a name or a function, got {identifier!r}")
