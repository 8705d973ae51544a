"""The merging layers (``Add``, ``Subtract``, ``Multiply``, ``Average``, ``Maximum``,
``Minimum``, ``Concatenate``, ``Dot``) and the activation layers (``ReLU``, ``LeakyReLU``,
``PReLU``, ``ELU``, ``Softmax``) as ONNX nodes, in lamina's order of operations: a merge of
several inputs is a chain of pairwise nodes, left to right, as lamina adds them (ONNX's ``Sum``
would add in an order of its own); an input of lower rank gets axes of size 1 after its batch
axis first, as Keras's rule says.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..layers.activations import ELU, LeakyReLU, PReLU, ReLU, Softmax
from ..layers.merging import (
    Add,
    Average,
    Concatenate,
    Dot,
    Maximum,
    Minimum,
    Multiply,
    Subtract,
)

_PAIRWISE = {Add: "Add", Subtract: "Sub", Multiply: "Mul", Average: "Add", Maximum: "Max", Minimum: "Min"}


def _expanded(g, inputs, shapes, hint):
    rank = max(len(s) for s in shapes)
    out = []
    for name, shape in zip(inputs, shapes):
        missing = rank - len(shape)
        if missing:
            name = g.op("Unsqueeze", [name, g.const(np.arange(1, 1 + missing), f"{hint}/axes")], hint)
        out.append(name)
    return out


def _merge(g, layer, node, inputs, shapes):
    hint = layer.name
    values = _expanded(g, inputs, shapes, hint)
    output = values[0]
    for value in values[1:]:
        output = g.op(_PAIRWISE[type(layer)], [output, value], hint)
    if isinstance(layer, Average):
        output = g.op("Div", [output, g.scalar(float(len(values)))], hint)
    return [output]


def _concatenate(g, layer, node, inputs, shapes):
    return [g.op("Concat", inputs, layer.name, axis=int(layer.axis))]


def _dot(g, layer, node, inputs, shapes):
    """Two inputs of shape (batch, k): the per-sample dot product, (batch, 1)."""
    hint = layer.name
    x, y = inputs
    if layer.normalize:  # ops.normalize: x * min(rsqrt(sum(x^2)), 1 / epsilon)
        from ..backend import config
        def unit(value):
            squared = g.reduce("ReduceSum", g.op("Mul", [value, value], hint), [1], hint)
            inv = g.op("Min", [g.op("Div", [g.scalar(1.0), g.op("Sqrt", [squared], hint)], hint),
                               g.scalar(1.0 / config.epsilon())], hint)
            return g.op("Mul", [value, inv], hint)
        x, y = unit(x), unit(y)
    return [g.reduce("ReduceSum", g.op("Mul", [x, y], hint), [1], hint)]


def _dot_unsupported(layer, node) -> str | None:
    shapes = [tuple(t.shape) for t in node.input_tensors]
    if any(len(s) != 2 for s in shapes):
        return f"Dot is exported for two inputs of rank 2 only (batch, features), got inputs of shapes {shapes}"
    return None


def _relu(g, layer, node, inputs, shapes):
    """layers.ReLU's formula: the threshold, then the cap, then the slope below the threshold."""
    hint, x = layer.name, inputs[0]
    if layer.threshold:
        y = g.op("Where", [g.op("Greater", [x, g.scalar(layer.threshold)], hint), x, g.scalar(0.0)], hint)
    else:
        y = g.op("Relu", [x], hint)
    if layer.max_value is not None:
        y = g.op("Clip", [y, g.scalar(0.0), g.scalar(layer.max_value)], hint)
    if layer.negative_slope:
        below = g.op("Relu", [g.op("Sub", [g.scalar(layer.threshold), x], hint)], hint)
        y = g.op("Sub", [y, g.op("Mul", [g.scalar(layer.negative_slope), below], hint)], hint)
    return [y]


def _prelu(g, layer, node, inputs, shapes):  # relu(x) - alpha * relu(-x)
    hint, x = layer.name, inputs[0]
    alpha = g.const(np.asarray(layer.alpha), f"{hint}/alpha", key=layer.alpha)
    negative = g.op("Mul", [alpha, g.op("Relu", [g.op("Neg", [x], hint)], hint)], hint)
    return [g.op("Sub", [g.op("Relu", [x], hint), negative], hint)]


def _softmax_unsupported(layer, node) -> str | None:
    if isinstance(layer.axis, list) and len(layer.axis) != 1:
        return f"Softmax over several axes ({layer.axis}) has no ONNX converter; give one axis"
    if node.call_kwargs.get("mask") is not None or len(node.input_tensors) > 1:
        return "Softmax with a mask has no ONNX converter"
    return None


def _softmax(g, layer, node, inputs, shapes):
    axis = layer.axis[0] if isinstance(layer.axis, list) else layer.axis
    return [g.op("Softmax", [inputs[0]], layer.name, axis=int(axis))]


LAYERS: dict[type, Any] = {**dict.fromkeys(_PAIRWISE, _merge), Concatenate: _concatenate, Dot: _dot, ReLU: _relu,
          LeakyReLU: lambda g, layer, node, inputs, shapes: [
              g.op("LeakyRelu", [inputs[0]], layer.name, alpha=float(layer.negative_slope))],
          PReLU: _prelu, ELU: lambda g, layer, node, inputs, shapes: [
              g.op("Elu", [inputs[0]], layer.name, alpha=float(layer.alpha))],
          Softmax: _softmax}
CHECKS = {Dot: _dot_unsupported, Softmax: _softmax_unsupported}
