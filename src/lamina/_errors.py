"""Errors that say where they come from.

A NumPy error raised inside an op (``operands could not be broadcast together``) names neither
the op nor what it was given, and an error raised inside a layer's ``call`` does not name the
layer. ``named_op_error`` and ``named_layer_error`` rebuild such an error with that context,
keeping its type (an ``IndexError`` or ``AxisError`` from an op becomes a ``ValueError``: a bad
argument) and its original message, which tests and users may match on. Each error is named
once: the innermost op, then the innermost layer, say where it happened; the callers around
them leave it alone.
"""
from __future__ import annotations

import inspect

import numpy as np

_OP, _LAYER = "_lamina_names_op", "_lamina_names_layer"
_AXIS_ERROR = getattr(np, "exceptions", np).AxisError  # np.exceptions is NumPy >= 1.25
_REBUILT = (ValueError, TypeError)


def _shape(value) -> tuple:
    """``value``'s shape; while shapes are inferred on stand-in inputs (whose unknown dimensions
    are 83, then 89: layers/shapes.py), those dimensions show as the None the user wrote."""
    from .layers import call_context
    from .layers.shapes import STAND_INS
    shape = tuple(value.shape)
    if call_context.inferring_shapes():
        shape = tuple(None if d in STAND_INS else d for d in shape)
    return shape


def describe(value) -> str:
    """A value as an error message shows it: shape and dtype for arrays and tensors."""
    if getattr(value, "shape", None) is not None and hasattr(value, "dtype"):
        return f"shape {_shape(value)} and dtype {value.dtype}"
    if isinstance(value, (list, tuple)) and value and all(hasattr(v, "shape") for v in value):
        return "shapes [" + ", ".join(str(_shape(v)) for v in value) + "]"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _arguments(fn, args: tuple, kwargs: dict) -> str:
    try:
        bound = inspect.signature(fn).bind_partial(*args, **kwargs)
        items = list(bound.arguments.items())
    except (TypeError, ValueError):
        items = [(f"argument {i}", a) for i, a in enumerate(args)] + list(kwargs.items())
    shown = [f"{name} of {describe(value)}" if hasattr(value, "shape") or isinstance(value, (list, tuple))
             else f"{name}={describe(value)}" for name, value in items]
    return ", ".join(shown) if shown else "no arguments"


def _rebuild(error: BaseException, message: str, as_value_error: bool, marker: str) -> BaseException:
    kind = type(error)
    if kind in _REBUILT:
        new = kind(message)
    elif as_value_error:
        new = ValueError(message)
    else:
        return error
    for mark in (_OP, _LAYER):
        if getattr(error, mark, False):
            setattr(new, mark, True)
    setattr(new, marker, True)
    return new


def named_op_error(error: BaseException, op_name: str, fn, args: tuple, kwargs: dict) -> BaseException:
    """``error`` raised inside ``ops.<op_name>``, as an error naming the op and its arguments."""
    if getattr(error, _OP, False) or getattr(error, _LAYER, False) \
            or not isinstance(error, (ValueError, TypeError, IndexError)):
        return error
    message = f"ops.{op_name} got {_arguments(fn, args, kwargs)}: {error}"
    return _rebuild(error, message, isinstance(error, (IndexError, _AXIS_ERROR)), _OP)


def named_layer_error(error: BaseException, layer, args: tuple) -> BaseException:
    """``error`` raised while ``layer`` ran, with the layer and its inputs' shapes added."""
    if getattr(error, _LAYER, False) or not isinstance(error, (ValueError, TypeError)):
        return error
    inputs = ", ".join(describe(a) for a in args) or "no inputs"
    where = f"Raised in layer '{layer.name}' ({type(layer).__name__}.call) called on inputs of {inputs}"
    rebuilt = _rebuild(error, f"{error}\n{where}", False, _LAYER)
    if rebuilt is error:  # a user's own exception class: keep it, with a note
        if hasattr(error, "add_note"):
            error.add_note(where)
        setattr(error, _LAYER, True)
    return rebuilt
