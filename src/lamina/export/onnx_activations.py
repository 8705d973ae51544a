"""Each of lamina's registered activations as ONNX nodes, computing what lamina computes.

``ACTIVATIONS[name](g, x, params, shape, hint)`` returns the output's name; ``params`` are the
activation's fixed arguments (``leaky_relu``'s slope, ``gelu``'s ``approximate``...), ``shape``
the input's (the last axis is needed where lamina splits or sorts along it). Only ONNX's
standard operators of opset 13 are used, so any opset from 13 on reads them; where a newer
operator exists (``Gelu``, ``Mish``, ``HardSwish``) the formula is written out instead.
"""
from __future__ import annotations

import math

import numpy as np

from .. import activations

_SELU_ALPHA = 1.6732632423543772848170429916717  # lamina.ops.nn's constants
_SELU_SCALE = 1.0507009873554804934193349852946
_GELU_C = math.sqrt(2.0 / math.pi)


def _unary(op_type: str, **attributes):
    def convert(g, x, params, shape, hint):
        return g.op(op_type, [x], hint, **attributes)
    return convert


def _softplus(g, x, hint):
    # lamina's stable form: max(x, 0) + log1p(exp(-|x|))
    tail = g.op("Log", [g.op("Add", [g.scalar(1.0), g.op("Exp", [g.op("Neg", [g.op("Abs", [x], hint)], hint)], hint)],
                             hint)], hint)
    return g.op("Add", [g.op("Relu", [x], hint), tail], hint)


def _sigmoid(g, x, hint):
    return g.op("Sigmoid", [x], hint)


def _hard_sigmoid(g, x, params, shape, hint):  # relu6(x + 3) / 6
    clipped = g.op("Clip", [g.op("Add", [x, g.scalar(3.0)], hint), g.scalar(0.0), g.scalar(6.0)], hint)
    return g.op("Div", [clipped, g.scalar(6.0)], hint)


def _gelu(g, x, params, shape, hint):
    if params.get("approximate", True):  # 0.5 x (1 + tanh(c (x + 0.044715 x^3)))
        cube = g.op("Mul", [g.op("Mul", [x, x], hint), x], hint)
        inner = g.op("Mul", [g.scalar(_GELU_C), g.op("Add", [x, g.op("Mul", [g.scalar(0.044715), cube], hint)], hint)],
                     hint)
        one_plus_tanh = g.op("Add", [g.scalar(1.0), g.op("Tanh", [inner], hint)], hint)
        return g.op("Mul", [g.op("Mul", [g.scalar(0.5), x], hint), one_plus_tanh], hint)
    cdf = g.op("Mul", [g.scalar(0.5), g.op("Add", [g.scalar(1.0), g.op("Erf", [g.op(
        "Mul", [x, g.scalar(1 / math.sqrt(2.0))], hint)], hint)], hint)], hint)
    return g.op("Mul", [x, cdf], hint)


def _where_between(g, x, low_value, high_value, middle, hint):
    """``low_value`` where ``x <= -1``, ``high_value`` where ``x >= 1``, else ``middle``."""
    upper = g.op("Where", [g.op("GreaterOrEqual", [x, g.scalar(1.0)], hint), high_value, middle], hint)
    return g.op("Where", [g.op("LessOrEqual", [x, g.scalar(-1.0)], hint), low_value, upper], hint)


def _sparse_plus(g, x, params, shape, hint):
    shifted = g.op("Add", [x, g.scalar(1.0)], hint)
    middle = g.op("Div", [g.op("Mul", [shifted, shifted], hint), g.scalar(4.0)], hint)
    return _where_between(g, x, g.scalar(0.0), x, middle, hint)


def _sparse_sigmoid(g, x, params, shape, hint):
    middle = g.op("Div", [g.op("Add", [x, g.scalar(1.0)], hint), g.scalar(2.0)], hint)
    return _where_between(g, x, g.scalar(0.0), g.scalar(1.0), middle, hint)


def _glu(g, x, params, shape, hint):
    half = shape[-1] // 2
    def part(start, stop):
        return g.op("Slice", [x, g.const(np.array([start]), f"{hint}/start"), g.const(np.array([stop]), f"{hint}/stop"),
                              g.const(np.array([-1]), f"{hint}/axis")], hint)
    return g.op("Mul", [part(0, half), g.op("Sigmoid", [part(half, shape[-1])], hint)], hint)


def _sparsemax(g, x, params, shape, hint):
    """lamina's: sort descending, the support ``1 + k z_k > cumsum_k``, tau from its size."""
    n = shape[-1]
    ordered, _ = g.op("TopK", [x, g.const(np.array([n]), f"{hint}/k")], hint, outputs=2, axis=-1, largest=1, sorted=1)
    cumulative = g.op("CumSum", [ordered, g.const(np.array(-1), f"{hint}/axis")], hint)
    k = g.const(np.arange(1, n + 1, dtype=np.float32), f"{hint}/range")
    support = g.op("Greater", [g.op("Add", [g.scalar(1.0), g.op("Mul", [k, ordered], hint)], hint), cumulative], hint)
    k_z = g.reduce("ReduceSum", g.op("Cast", [support], hint, to=1), [-1], hint)  # to=1: FLOAT
    index = g.op("Cast", [g.op("Sub", [k_z, g.scalar(1.0)], hint)], hint, to=7)  # to=7: INT64
    tau = g.op("Div", [g.op("Sub", [g.op("GatherElements", [cumulative, index], hint, axis=-1), g.scalar(1.0)], hint),
                       k_z], hint)
    return g.op("Relu", [g.op("Sub", [x, tau], hint)], hint)


def _mul_by(inner):
    def convert(g, x, params, shape, hint):
        return g.op("Mul", [x, inner(g, x, params, shape, hint)], hint)
    return convert


ACTIVATIONS = {
    "linear": lambda g, x, params, shape, hint: x,
    "relu": _unary("Relu"),
    "relu6": lambda g, x, params, shape, hint: g.op("Clip", [x, g.scalar(0.0), g.scalar(6.0)], hint),
    "selu": _unary("Selu", alpha=_SELU_ALPHA, gamma=_SELU_SCALE),
    "sigmoid": _unary("Sigmoid"),
    "softplus": lambda g, x, params, shape, hint: _softplus(g, x, hint),
    "softsign": _unary("Softsign"),
    "tanh": _unary("Tanh"),
    "exponential": _unary("Exp"),
    "mish": _mul_by(lambda g, x, params, shape, hint: g.op("Tanh", [_softplus(g, x, hint)], hint)),
    "hard_sigmoid": _hard_sigmoid,
    "log_sigmoid": lambda g, x, params, shape, hint: g.op("Neg", [_softplus(g, g.op("Neg", [x], hint), hint)], hint),
    "silu": _mul_by(lambda g, x, params, shape, hint: _sigmoid(g, x, hint)),
    "hard_silu": _mul_by(_hard_sigmoid),
    "leaky_relu": lambda g, x, params, shape, hint: g.op("LeakyRelu", [x], hint,
                                                         alpha=float(params.get("negative_slope", 0.2))),
    "elu": lambda g, x, params, shape, hint: g.op("Elu", [x], hint, alpha=float(params.get("alpha", 1.0))),
    "gelu": _gelu,
    "softmax": lambda g, x, params, shape, hint: g.op("Softmax", [x], hint, axis=int(params.get("axis", -1))),
    "log_softmax": lambda g, x, params, shape, hint: g.op("LogSoftmax", [x], hint, axis=int(params.get("axis", -1))),
    "celu": lambda g, x, params, shape, hint: g.op("Celu", [x], hint, alpha=float(params.get("alpha", 1.0))),
    "glu": _glu,
    "hard_shrink": lambda g, x, params, shape, hint: g.op("Shrink", [x], hint, bias=0.0,
                                                          lambd=float(params.get("threshold", 0.5))),
    "soft_shrink": lambda g, x, params, shape, hint: g.op("Shrink", [x], hint, bias=float(params.get("threshold", 0.5)),
                                                          lambd=float(params.get("threshold", 0.5))),
    "squareplus": lambda g, x, params, shape, hint: g.op("Div", [g.op("Add", [x, g.op("Sqrt", [g.op(
        "Add", [g.op("Mul", [x, x], hint), g.scalar(float(params.get("b", 4)))], hint)], hint)], hint),
        g.scalar(2.0)], hint),
    "sparsemax": _sparsemax,
    "hard_tanh": lambda g, x, params, shape, hint: g.op("Clip", [x, g.scalar(-1.0), g.scalar(1.0)], hint),
    "tanh_shrink": lambda g, x, params, shape, hint: g.op("Sub", [x, g.op("Tanh", [x], hint)], hint),
    "sparse_plus": _sparse_plus,
    "sparse_sigmoid": _sparse_sigmoid,
}


# the arguments each converter honours (any other must keep its default); glu and sparsemax
# work along the last axis only
HONOURED = {"leaky_relu": {"negative_slope"}, "elu": {"alpha"}, "celu": {"alpha"}, "gelu": {"approximate"},
            "softmax": {"axis"}, "log_softmax": {"axis"}, "hard_shrink": {"threshold"},
            "soft_shrink": {"threshold"}, "squareplus": {"b"}}
_LAST_AXIS_ONLY = {"glu", "sparsemax"}


def unsupported_arguments(name: str, arguments: dict, defaults: dict, rank: int) -> str | None:
    """Why ``ops.<name>(x, **arguments)`` cannot be exported, or None."""
    for key, value in arguments.items():
        if key in HONOURED.get(name, ()):
            continue
        if key == "axis" and name in _LAST_AXIS_ONLY and int(value) in (-1, rank - 1):
            continue
        if key not in defaults or value is not defaults[key] and value != defaults[key]:
            return f"ops.{name} is exported with {key}={defaults.get(key)!r} only, got {key}={value!r}"
    return None


def unsupported(activation) -> str | None:
    """Why ``activation`` (an ``activations.Activation``) cannot be exported, or None."""
    name = activation.name
    try:
        registered = activations.get(name) is activation
    except (ValueError, TypeError):
        registered = False
    if not registered or name not in ACTIVATIONS:
        return (f"activation '{name}' is not one of lamina's built-in activations (exportable: "
                f"{', '.join(sorted(ACTIVATIONS))})")
    return None


def convert(g, activation, x: str, shape, hint: str) -> str:
    """The ONNX output of ``activation`` applied to ``x``."""
    return ACTIVATIONS[activation.name](g, x, dict(activation.params), tuple(shape), hint)
