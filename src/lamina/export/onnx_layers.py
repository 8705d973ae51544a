"""The built-in layers (and ops on symbolic tensors) as ONNX nodes, at inference.

``converter_for(layer)`` finds a layer's converter by its exact class (a subclass may change
``call``, so it is not taken for its parent); ``unsupported(layer, node)`` says why a layer
cannot be exported (before anything is built); a converter ``(g, layer, node, inputs, shapes)``
returns the names of the layer's outputs. Each writes lamina's own formula in lamina's order of
operations (the normalizations' ``1 / sqrt(var + epsilon)`` is computed as lamina computes it),
so onnxruntime's numbers match lamina's to float32 rounding. Layers random only while training
(``Dropout``, the noise layers) and ``ActivityRegularization`` are identities at inference.
"""
from __future__ import annotations

from collections.abc import Callable

import inspect

import numpy as np

from .. import ops
from ..layers.core import Activation, Identity
from ..layers.dense import Dense
from ..layers.normalization import (
    BatchNormalization,
    LayerNormalization,
    UnitNormalization,
)
from ..layers.op_layer import OpLayer
from ..layers.preprocessing import Normalization, Rescaling
from ..layers.regularization import (
    ActivityRegularization,
    AlphaDropout,
    Dropout,
    GaussianDropout,
    GaussianNoise,
)
from ..layers.reshaping import Flatten, Reshape
from . import onnx_activations, onnx_merging

_UNIT_NORM_FLOOR = 1e-12  # layers/normalization.py's _MIN_SQUARED_NORM


def _dense(g, layer, node, inputs, shapes):
    hint = layer.name
    y = g.op("MatMul", [inputs[0], g.const(np.asarray(layer.kernel), f"{hint}/kernel", key=layer.kernel)], hint)
    if layer.use_bias:
        y = g.op("Add", [y, g.const(np.asarray(layer.bias), f"{hint}/bias", key=layer.bias)], hint)
    return [onnx_activations.convert(g, layer.activation, y, (*shapes[0][:-1], layer.units), hint)]


def _activation(g, layer, node, inputs, shapes):
    return [onnx_activations.convert(g, layer.activation, inputs[0], shapes[0], layer.name)]


def _identity(g, layer, node, inputs, shapes):
    return [g.op("Identity", [inputs[0]], layer.name)]


def _flatten(g, layer, node, inputs, shapes):
    return [g.op("Flatten", [inputs[0]], layer.name, axis=1)]


def _reshape(g, layer, node, inputs, shapes):
    target = g.const(np.array([0, *layer.target_shape], np.int64), f"{layer.name}/shape")  # 0: keep the batch
    return [g.op("Reshape", [inputs[0], target], layer.name)]


def _batch_normalization(g, layer, node, inputs, shapes):
    hint, broadcast, x = layer.name, layer._broadcast, inputs[0]
    variance = np.asarray(layer.moving_variance)
    inv = (1.0 / np.sqrt(variance + layer.epsilon)).astype(np.float32).reshape(broadcast)
    mean = np.asarray(layer.moving_mean, np.float32).reshape(broadcast)
    y = g.op("Mul", [g.op("Sub", [x, g.const(mean, f"{hint}/moving_mean")], hint), g.const(inv, f"{hint}/inv")], hint)
    if layer.scale:
        y = g.op("Mul", [y, g.const(np.asarray(layer.gamma).reshape(broadcast), f"{hint}/gamma")], hint)
    if layer.center:
        y = g.op("Add", [y, g.const(np.asarray(layer.beta).reshape(broadcast), f"{hint}/beta")], hint)
    return [y]


def _layer_normalization(g, layer, node, inputs, shapes):
    hint, axes, x = layer.name, list(layer._axes), inputs[0]
    mean = g.reduce("ReduceMean", x, axes, hint)
    centred = g.op("Sub", [x, mean], hint)
    variance = g.reduce("ReduceMean", g.op("Mul", [centred, centred], hint), axes, hint)
    inv = g.op("Div", [g.scalar(1.0), g.op("Sqrt", [g.op("Add", [variance, g.scalar(layer.epsilon)], hint)], hint)],
               hint)
    y = g.op("Mul", [x if layer.rms_scaling else centred, inv], hint)
    if layer.gamma is not None:
        y = g.op("Mul", [y, g.const(np.asarray(layer.gamma).reshape(layer._broadcast), f"{hint}/gamma")], hint)
    if layer.beta is not None:
        y = g.op("Add", [y, g.const(np.asarray(layer.beta).reshape(layer._broadcast), f"{hint}/beta")], hint)
    return [y]


def _unit_normalization(g, layer, node, inputs, shapes):
    hint, x = layer.name, inputs[0]
    squared = g.reduce("ReduceSum", g.op("Mul", [x, x], hint), list(layer._axes), hint)
    norm = g.op("Sqrt", [g.op("Max", [squared, g.scalar(_UNIT_NORM_FLOOR)], hint)], hint)
    return [g.op("Mul", [x, g.op("Div", [g.scalar(1.0), norm], hint)], hint)]


def _normalization(g, layer, node, inputs, shapes):
    hint, x = layer.name, inputs[0]
    mean, std = layer._statistics(np.dtype(np.float32))
    mean, std = g.const(mean, f"{hint}/mean"), g.const(std, f"{hint}/std")
    if layer.invert:
        return [g.op("Add", [mean, g.op("Mul", [x, std], hint)], hint)]
    return [g.op("Div", [g.op("Sub", [x, mean], hint), std], hint)]


def _rescaling(g, layer, node, inputs, shapes):
    hint = layer.name
    scaled = g.op("Mul", [inputs[0], g.const(np.asarray(layer.scale, np.float32), f"{hint}/scale")], hint)
    return [g.op("Add", [scaled, g.const(np.asarray(layer.offset, np.float32), f"{hint}/offset")], hint)]


LAYERS = {
    Dense: _dense, Activation: _activation, Identity: _identity, Flatten: _flatten, Reshape: _reshape,
    Dropout: _identity, GaussianNoise: _identity, GaussianDropout: _identity, AlphaDropout: _identity,
    ActivityRegularization: _identity, BatchNormalization: _batch_normalization,
    LayerNormalization: _layer_normalization, UnitNormalization: _unit_normalization,
    Normalization: _normalization, Rescaling: _rescaling, **onnx_merging.LAYERS,
}

# --- ops called on symbolic tensors -------------------------------------------------------------------
_BINARY = {"add": "Add", "subtract": "Sub", "multiply": "Mul", "divide": "Div", "true_divide": "Div",
           "maximum": "Max", "minimum": "Min", "power": "Pow"}
_UNARY = {"exp": "Exp", "log": "Log", "sqrt": "Sqrt", "abs": "Abs", "negative": "Neg", "square": None}


def _op_name(layer: OpLayer) -> str | None:
    """The lamina.ops name of the op ``layer`` runs, when it is lamina's own op."""
    name = layer.fn.__name__
    public = getattr(ops, name, None)
    # each public name of an op wraps it on its own (``ops.absolute`` and ``ops.abs`` are two
    # wrappers of one function): compare what they wrap
    own = public is not None and getattr(public, "__wrapped__", public) is getattr(layer.fn, "__wrapped__", layer.fn)
    return name if own else None


def _bound(layer: OpLayer, node) -> tuple[list, dict, dict]:
    """The op call's arguments: the positional ones by name, the rest, and the defaults."""
    signature = inspect.signature(layer.fn)
    arguments = signature.bind(*node.call_args, **node.call_kwargs)
    arguments.apply_defaults()
    named = dict(arguments.arguments)
    first = list(named)[:2]
    defaults = {k: p.default for k, p in signature.parameters.items() if p.default is not inspect.Parameter.empty}
    return [named[k] for k in first], {k: v for k, v in named.items() if k not in first[:1]}, defaults


def _op_unsupported(layer: OpLayer, node) -> str | None:
    name = _op_name(layer)
    known = sorted([*_BINARY, *_UNARY, "concatenate", *onnx_activations.ACTIVATIONS])
    if name is None or name not in known:
        return f"the op '{layer.fn.__name__}' has no ONNX converter (exportable ops: {', '.join(known)})"
    if name in onnx_activations.ACTIVATIONS or name in _UNARY:
        _, rest, defaults = _bound(layer, node)
        rank = len(node.input_tensors[0].shape)
        return onnx_activations.unsupported_arguments(name, rest, defaults, rank)
    return None


def _op(g, layer, node, inputs, shapes):
    name, hint = _op_name(layer), layer.name
    (first, *second), rest, _ = _bound(layer, node)
    values = iter(inputs)

    def value(argument):  # a symbolic tensor's ONNX name, or a constant's
        return next(values) if _is_symbolic(argument) else g.const(np.asarray(argument, np.float32), f"{hint}/const")
    if name == "concatenate":
        return [g.op("Concat", [value(x) for x in first], hint, axis=int(rest.get("axis", 0)))]
    if name in _BINARY:
        return [g.op(_BINARY[name], [value(first), value(second[0])], hint)]
    x = value(first)
    if name in _UNARY:
        return [g.op("Mul", [x, x], hint) if name == "square" else g.op(_UNARY[name], [x], hint)]
    return [onnx_activations.ACTIVATIONS[name](g, x, rest, shapes[0], hint)]


def _is_symbolic(value) -> bool:
    from ..backend.keras_tensor import KerasTensor
    return isinstance(value, KerasTensor)


def unsupported(layer, node) -> str | None:
    """Why ``layer`` (called at ``node``) cannot be exported, or None when it can."""
    if isinstance(layer, OpLayer):
        return _op_unsupported(layer, node)
    if type(layer) not in LAYERS:
        return (f"{type(layer).__name__} has no ONNX converter (exportable layers: "
                f"{', '.join(sorted(cls.__name__ for cls in LAYERS))}, and ops on symbolic tensors)")
    if isinstance(layer, (Dense, Activation)):
        return onnx_activations.unsupported(layer.activation)
    check = onnx_merging.CHECKS.get(type(layer))
    return check(layer, node) if check else None


def converter_for(layer) -> Callable:
    """The converter of ``layer`` (call ``unsupported`` first)."""
    if isinstance(layer, OpLayer):
        return _op
    return LAYERS[type(layer)]


__all__ = ["LAYERS", "converter_for", "unsupported"]
