"""``element_spec``: the structure of ``TensorSpec`` (shape and dtype) of a dataset's elements."""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from . import structure


def spec(shape: tuple, dtype: Any) -> Any:
    """A ``TensorSpec`` of ``shape`` (None for a dimension that varies) and ``dtype``'s name."""
    from ..tf.execution import TensorSpec
    return TensorSpec(shape, np.dtype(dtype).name)  # TensorFlow's dtype names are NumPy's


def of_element(element: Any) -> Any:
    """The spec of one element (its exact shapes)."""
    return structure.map_structure(lambda leaf: spec(leaf.shape, leaf.dtype), element)


def reshape(specs: Any, fn: Callable[[tuple], tuple]) -> Any:
    """``specs`` with each shape replaced by ``fn(shape)``."""
    return structure.map_structure(lambda s: spec(fn(s.shape), s.dtype), specs)


def merge(a: Any, b: Any) -> Any:
    """The spec both ``a`` and ``b`` fit: dimensions that differ become None."""
    def widen(first, second):
        if first.shape is None or second.shape is None or len(first.shape) != len(second.shape):
            return spec(None, first.dtype)
        return spec(tuple(d if d == e else None for d, e in zip(first.shape, second.shape)), first.dtype)
    return structure.pack_as(a, [widen(x, y) for x, y in zip(structure.flatten(a), structure.flatten(b))])
