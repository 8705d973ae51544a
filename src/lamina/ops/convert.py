"""Turning op inputs into NumPy values of Keras's dtypes (shared by every op family).

NumPy and Keras agree on most promotions; where they differ, these helpers do what Keras does:
an integer array meeting a float array takes the float's dtype (NumPy would widen ``int32 +
float32`` to float64), an integer array meeting a Python float becomes floatx, and ops that
only make sense on floats (``exp``, ``mean``, ``sqrt``...) compute integers in floatx.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..backend import config
from .tensor import Tensor, to_array


def value(x) -> Any:
    """The NumPy value of an op input: arrays and Python scalars as they are, lists as arrays."""
    if isinstance(x, Tensor):
        return x._value
    if isinstance(x, (np.ndarray, bool, int, float)):
        return x
    if isinstance(x, np.generic):
        return np.asarray(x)
    return to_array(x)


def pair(a, b) -> tuple[Any, Any]:
    """``a`` and ``b`` (NumPy values) ready for a NumPy binary op that gives Keras's dtype."""
    ta, tb = type(a), type(b)
    if ta is np.ndarray and tb is np.ndarray:
        if a.dtype == b.dtype:
            return a, b
        fa, fb = a.dtype.kind == "f", b.dtype.kind == "f"
        if fa and not fb:
            return a, b.astype(a.dtype)
        if fb and not fa:
            return a.astype(b.dtype), b
        return a, b
    a, b = value(a), value(b)
    if type(a) is not np.ndarray and type(b) is not np.ndarray:
        return to_array(a), to_array(b)
    if type(a) is float and type(b) is np.ndarray and b.dtype.kind != "f":
        return a, b.astype(config.floatx())
    if type(b) is float and type(a) is np.ndarray and a.dtype.kind != "f":
        return a.astype(config.floatx()), b
    return pair(a, b) if type(a) is np.ndarray and type(b) is np.ndarray else (a, b)


def floating(x) -> np.ndarray:
    """``x`` (a NumPy value) as floats: integers and bools become floatx."""
    x = value(x)
    if type(x) is np.ndarray:
        return x if x.dtype.kind == "f" else x.astype(config.floatx())
    return to_array(float(x)) if isinstance(x, (bool, int, float)) else floating(to_array(x))


def array(x) -> np.ndarray:
    """``x`` as a NumPy array (Python scalars with Keras's dtypes)."""
    x = value(x)
    return x if type(x) is np.ndarray else to_array(x)


def axis_arg(axis) -> Any:
    """``axis`` as NumPy takes it: None, an int, or a tuple of ints (lists and tensors accepted)."""
    if axis is None or isinstance(axis, (int, np.integer)):
        return None if axis is None else int(axis)
    if isinstance(axis, Tensor):
        axis = axis._value.tolist()
    return tuple(int(a) for a in axis) if isinstance(axis, (list, tuple)) else int(axis)
