"""The elements of a ``Dataset``: nested tuples and dicts whose leaves are NumPy arrays.

TensorFlow's rules: a tuple (a namedtuple too) or a dict is a structure; a list is data (one
array), so ``[[1, 2], [3, 4]]`` is a 2 x 2 int32 array; Python floats become float32 (floatx) and
ints int32; NumPy arrays keep their dtype. Inside the pipeline every leaf is an ``np.ndarray``
(0-d for a scalar); iteration turns the leaves into lamina Tensors at the last moment.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ..ops.tensor import Tensor


def is_structure(value: Any) -> bool:
    """Whether ``value`` is a tuple or a dict (a list is one array's data, as in TensorFlow)."""
    return isinstance(value, (tuple, dict))


def map_structure(fn: Callable, value: Any) -> Any:
    """``value`` with ``fn`` applied to each leaf, its tuples (namedtuples kept) and dicts kept."""
    if isinstance(value, dict):
        return {key: map_structure(fn, item) for key, item in value.items()}
    if isinstance(value, tuple):
        items = [map_structure(fn, item) for item in value]
        return type(value)(*items) if hasattr(value, "_fields") else tuple(items)
    return fn(value)


def flatten(value: Any) -> list:
    """The leaves of ``value`` in order (a dict's in its insertion order)."""
    if isinstance(value, dict):
        return [leaf for item in value.values() for leaf in flatten(item)]
    if isinstance(value, tuple):
        return [leaf for item in value for leaf in flatten(item)]
    return [value]


def pack_as(template: Any, leaves: list) -> Any:
    """``leaves`` (in ``flatten`` order) put back into the structure of ``template``."""
    position = iter(leaves)
    return map_structure(lambda _: next(position), template)


def to_array(value: Any) -> np.ndarray:
    """A leaf as a NumPy array, without copying an array that is one already."""
    if isinstance(value, np.ndarray):
        return value
    if isinstance(value, Tensor):
        return value._value
    if hasattr(value, "to_numpy"):  # pandas
        return np.asarray(value.to_numpy())
    if getattr(value, "_is_variable", False):
        return np.asarray(value.numpy())
    from ..ops import convert_to_tensor
    array = convert_to_tensor(value)._value  # Python numbers and lists by TensorFlow's dtype rules
    if array.dtype.kind not in "biuf":
        raise TypeError(f"lamina.data holds numbers only, got {value!r} of dtype {array.dtype}")
    return array


def to_arrays(value: Any, lists_are_tuples: bool = False) -> Any:
    """``value`` with every leaf an array. A list is one array's data (``from_tensor_slices``'s
    rule), except with ``lists_are_tuples``: a list a ``map`` function returns is a tuple when its
    items are tensors or structures, as TensorFlow reads it."""
    if lists_are_tuples and isinstance(value, list) and value and (is_structure(value[0])
                                                                    or hasattr(value[0], "shape")):
        value = tuple(value)
    if isinstance(value, dict):
        return {key: to_arrays(item, lists_are_tuples) for key, item in value.items()}
    if isinstance(value, tuple):
        items = [to_arrays(item, lists_are_tuples) for item in value]
        return type(value)(*items) if hasattr(value, "_fields") else tuple(items)
    if value is None:
        raise TypeError("a Dataset element cannot hold None")
    return to_array(value)


def to_tensors(element: Any) -> Any:
    """An element as TensorFlow's iteration gives it: each leaf a tensor."""
    return map_structure(Tensor, element)


def to_numpy(element: Any) -> Any:
    """An element as ``as_numpy_iterator`` gives it: arrays, and NumPy scalars for 0-d leaves."""
    return map_structure(lambda leaf: leaf[()] if leaf.ndim == 0 else leaf, element)


def describe(element: Any) -> str:
    """The shapes of an element's leaves, for error messages."""
    shapes = [leaf.shape for leaf in flatten(element)]
    return str(shapes[0]) if len(shapes) == 1 else str(shapes)


def stack(elements: list) -> Any:
    """Elements of one structure stacked along a new first axis (one batch), or a ValueError
    naming the shapes that differ (TensorFlow's batch refuses them too)."""
    first = elements[0]
    columns = list(zip(*(flatten(element) for element in elements)))
    stacked = []
    for column in columns:
        shapes = {leaf.shape for leaf in column}
        if len(shapes) > 1:
            raise ValueError(f"batch: elements of different shapes cannot form one batch, got shapes "
                             f"{sorted(shapes)}; map them to one shape first")
        stacked.append(np.stack(column))
    return pack_as(first, stacked)


def same_structure(a: Any, b: Any) -> bool:
    """Whether two elements have the same nesting (dict keys, tuple lengths)."""
    if isinstance(a, dict) or isinstance(b, dict):
        return isinstance(a, dict) and isinstance(b, dict) and list(a) == list(b) and \
            all(same_structure(a[k], b[k]) for k in a)
    if isinstance(a, tuple) or isinstance(b, tuple):
        return isinstance(a, tuple) and isinstance(b, tuple) and len(a) == len(b) and \
            all(same_structure(x, y) for x, y in zip(a, b))
    return True
