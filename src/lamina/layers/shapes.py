"""Shapes for layers: what ``build`` is given, and output shapes found by running ``call``.

A layer that does not say its output shape (``compute_output_shape``) gets one the way Keras
finds it on JAX: ``call`` runs twice on stand-in inputs whose unknown dimensions are 83 and then
89, and an output dimension that differs between the runs is unknown (None). The runs happen in
a shape-inference scope, where Variables do not change and ``add_loss`` values are discarded.
"""
from __future__ import annotations

from typing import Any

import inspect

import numpy as np

from ..backend.keras_tensor import KerasTensor, any_symbolic  # noqa: F401  (re-exported for layer.py)
from ..ops.tensor import Tensor
from . import call_context

STAND_INS = (83, 89)


def shape_of(value) -> Any:
    """The shape (or structure of shapes) of a call argument."""
    if isinstance(value, (Tensor, KerasTensor, np.ndarray)):
        return tuple(value.shape)
    if isinstance(value, (list, tuple)):
        return type(value)(shape_of(v) for v in value)
    if isinstance(value, dict):
        return {k: shape_of(v) for k, v in value.items()}
    return None


class ShapesByArgument(dict):
    """``build``'s keyword arguments, one ``name_shape`` per call argument: told apart from the
    shapes of one dict input (``{"age": (None, 1), ...}``), which go to ``build`` whole."""


def shapes_for_build(layer, args: tuple):
    """``build``'s argument: the first input's shape (a dict of shapes for a dict input), or a
    ``ShapesByArgument`` when ``build`` names one parameter per call argument (Keras's convention)."""
    params = [p for p in inspect.signature(layer.build).parameters.values()
              if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    if len(params) > 1 and len(args) > 1 and all(p.name.endswith("_shape") for p in params):
        return ShapesByArgument({p.name: shape_of(a) for p, a in zip(params, args)})
    if not args:
        return None
    shape = shape_of(args[0])
    return shape


def _stand_in(shape, size: int, dtype):
    return np.ones(tuple(size if d is None else d for d in shape), dtype)


def _stand_ins(value, size: int):
    if isinstance(value, KerasTensor):
        return Tensor(_stand_in(value.shape, size, value.dtype))
    if isinstance(value, (list, tuple)):
        return type(value)(_stand_ins(v, size) for v in value)
    if isinstance(value, dict):
        return {k: _stand_ins(v, size) for k, v in value.items()}
    return value


def _merge(first, second):
    """Output specs of the two stand-in runs as KerasTensors (dimensions that differ: None)."""
    if isinstance(first, (list, tuple)):
        return type(first)(_merge(a, b) for a, b in zip(first, second))
    if isinstance(first, dict):
        return {k: _merge(first[k], second[k]) for k in first}
    if first is None:
        return None
    a, b = np.shape(first), np.shape(second)
    dtype = first.dtype if isinstance(first, Tensor) else np.asarray(first).dtype.name
    return KerasTensor(tuple(x if x == y else None for x, y in zip(a, b)), dtype=str(dtype))


def run_on_stand_ins(fn, args: tuple, kwargs: dict):
    """``fn`` run on stand-ins of symbolic ``args``/``kwargs`` twice; the merged output specs."""
    outs = []
    with call_context.shape_inference(), np.errstate(all="ignore"):
        for size in STAND_INS:
            outs.append(fn(*_stand_ins(args, size), **_stand_ins(kwargs, size)))
    return _merge(*outs)


def output_spec(layer, args: tuple, kwargs: dict):
    """The symbolic outputs of calling ``layer`` on symbolic ``args`` (its own
    ``compute_output_spec`` when it defines one, as Keras's merge layers do)."""
    from .layer import Layer
    if type(layer).compute_output_spec is not Layer.compute_output_spec:
        return layer.compute_output_spec(*args, **kwargs)
    return default_output_spec(layer, args, kwargs)


def default_output_spec(layer, args: tuple, kwargs: dict):
    """From ``compute_output_shape`` for one input, else by running ``call`` on stand-ins."""
    from .layer import Layer
    if type(layer).compute_output_shape is not Layer.compute_output_shape and len(args) == 1 \
            and isinstance(args[0], KerasTensor) and kwargs.get("mask") is None:
        shape = layer.compute_output_shape(args[0].shape)
        if isinstance(shape, tuple) and all(d is None or isinstance(d, (int, np.integer)) for d in shape):
            return KerasTensor(tuple(shape), dtype=_output_dtype(layer, args[0]))
    return run_on_stand_ins(lambda *a, **k: Layer.__call__(layer, *a, **k), args, kwargs)


def _output_dtype(layer, tensor) -> str:
    return layer.dtype if np.dtype(tensor.dtype).kind == "f" or layer.autocast else tensor.dtype


def infer_output_shape(layer, input_shape) -> Any:
    """``compute_output_shape`` for a layer that does not define it: run ``call`` on stand-ins."""
    if not isinstance(input_shape, (tuple, list)) or not all(d is None or isinstance(d, (int, np.integer))
                                                           for d in input_shape):
        raise ValueError(f"{type(layer).__name__} '{layer.name}' cannot infer its output shape for {input_shape!r}: "
                         "define compute_output_shape")
    from .layer import Layer  # run ``call`` itself: output_spec would ask compute_output_shape again
    spec = run_on_stand_ins(lambda *a, **k: Layer.__call__(layer, *a, **k),
                            (KerasTensor(tuple(input_shape), dtype=layer.dtype),), {})
    return tuple(spec.shape) if isinstance(spec, KerasTensor) else spec
