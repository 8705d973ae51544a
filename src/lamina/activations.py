"""Activation functions, each registered with its derivative.

A public function (``relu(x)``) returns a new array, as in Keras. The training engine uses the
registered pair: ``forward(z, out)`` writes the activation of ``z`` into ``out`` (which may be
``z`` itself), and ``backward(dy, y, z)`` turns the gradient with respect to the output ``y``
into the gradient with respect to the input ``z``, overwriting ``dy`` where it can. Derivatives
come from the output when that is enough (``1 - y**2`` for tanh, ``y > 0`` for relu), so the
input need not be kept (``Activation.needs_input`` says when it must).

>>> import numpy as np
>>> relu(np.array([-1.0, 2.0]))
array([0., 2.])
>>> get("relu").name
'relu'
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np


@dataclass(frozen=True)
class Activation:
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


# linear --------------------------------------------------------------------------------------
def linear(x):
    """The identity: ``linear(x) == x``."""
    return _float(x)


def _linear_forward(z, out):
    if out is not z:
        np.copyto(out, z)
    return out


register("linear", linear, _linear_forward, lambda dy, y, z: dy, aliases=(None,))


# relu ----------------------------------------------------------------------------------------
def relu(x, negative_slope=0.0, max_value=None, threshold=0.0):
    """``max(x, 0)``; with ``negative_slope`` a leak below ``threshold``, with ``max_value`` a cap."""
    x = _float(x)
    if negative_slope == 0.0 and max_value is None and threshold == 0.0:
        return np.maximum(x, 0)
    y = np.where(x >= threshold, x, negative_slope * (x - threshold))
    if max_value is not None:
        y = np.minimum(y, max_value)
    return y.astype(x.dtype, copy=False)


def _relu_forward(z, out):
    return np.maximum(z, 0, out=out)


def _relu_backward(dy, y, z):
    dy *= y > 0
    return dy


register("relu", relu, _relu_forward, _relu_backward)


# sigmoid -------------------------------------------------------------------------------------
def sigmoid(x):
    """``1 / (1 + exp(-x))``, computed without overflow."""
    x = _float(x)
    return _sigmoid_forward(x, np.empty_like(x))


def _sigmoid_forward(z, out):
    # exp of a non-positive number never overflows: split by sign.
    e = np.exp(-np.abs(z))
    np.divide(np.where(z >= 0, 1.0, e), 1.0 + e, out=out, casting="unsafe")
    return out


def _sigmoid_backward(dy, y, z):
    dy *= y * (1 - y)
    return dy


register("sigmoid", sigmoid, _sigmoid_forward, _sigmoid_backward)


# tanh ----------------------------------------------------------------------------------------
def tanh(x):
    """Hyperbolic tangent."""
    return np.tanh(_float(x))


def _tanh_backward(dy, y, z):
    dy *= 1 - y * y
    return dy


register("tanh", tanh, lambda z, out: np.tanh(z, out=out), _tanh_backward)


# softmax -------------------------------------------------------------------------------------
def softmax(x, axis=-1):
    """``exp(x) / sum(exp(x))`` along ``axis``, shifted by the max so it cannot overflow."""
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


def serialize(activation) -> str:
    return get(activation).name


def get(identifier) -> Activation:
    """Resolve ``None``, a name, an ``Activation`` or a public activation function.

    >>> get("tanh").name
    'tanh'
    """
    if isinstance(identifier, Activation):
        return identifier
    if isinstance(identifier, str) or identifier is None:
        if identifier in _REGISTRY:
            return _REGISTRY[identifier]
        names = sorted(k for k in _REGISTRY if k is not None)
        raise ValueError(f"Unknown activation {identifier!r}. Valid names: {', '.join(names)}")
    if callable(identifier):
        if hasattr(identifier, "activation"):
            return identifier.activation
        raise TypeError(f"activation {identifier!r} has no registered derivative; register it with "
                        "lamina.activations.register(name, function, forward, backward)")
    raise TypeError(f"activation must be a name or a function, got {identifier!r}")
