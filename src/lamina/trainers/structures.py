"""Data given to ``fit``/``evaluate``/``predict`` may be one array or a list, tuple or dict of
arrays (a model of several inputs or outputs). These helpers treat both alike: every array of a
structure has one row per sample, and a batch takes the same rows of each."""
from __future__ import annotations

from typing import Any

import numpy as np

from ..ops.tensor import Tensor


def is_structure(value) -> bool:
    """Whether ``value`` is a list, tuple or dict (of arrays)."""
    return isinstance(value, (list, tuple, dict))


def leaves(value) -> list:
    """The arrays of ``value``, in order (a dict's in its order)."""
    if isinstance(value, dict):
        return [leaf for v in value.values() for leaf in leaves(v)]
    if isinstance(value, (list, tuple)):
        return [leaf for v in value for leaf in leaves(v)]
    return [value]


def map_leaves(fn, value) -> Any:
    """``value`` with ``fn`` applied to each array, its lists, tuples and dicts kept."""
    if isinstance(value, dict):
        return {k: map_leaves(fn, v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(map_leaves(fn, v) for v in value)
    return fn(value)


def n_samples(value) -> int:
    """The number of samples: the length of the first array of ``value``."""
    return len(leaves(value)[0])


def take(value, rows, float_dtype=None) -> Any:
    """The rows ``rows`` of every array of ``value``; floats in ``float_dtype`` when given."""
    def pick(leaf):
        if leaf is None:
            return None
        part = leaf[rows]
        if float_dtype is not None and part.dtype.kind == "f" and part.dtype != float_dtype:
            part = part.astype(float_dtype)
        return part
    return map_leaves(pick, value)


def as_tensors(value) -> Any:
    """Arrays as tensors (structures kept), for ``train_step`` and friends."""
    return map_leaves(lambda leaf: leaf if leaf is None or isinstance(leaf, Tensor) else Tensor(np.asarray(leaf)),
                      value)


def concatenate(batches: list):
    """Per-batch outputs (arrays or structures of them) joined along the batch axis."""
    first = batches[0]
    if isinstance(first, dict):
        return {k: concatenate([b[k] for b in batches]) for k in first}
    if isinstance(first, (list, tuple)):
        return type(first)(concatenate([b[i] for b in batches]) for i in range(len(first)))
    arrays = [b._value if isinstance(b, Tensor) else np.asarray(b) for b in batches]
    return np.concatenate(arrays) if len(arrays) > 1 else arrays[0]


def unpack_x_y_sample_weight(data) -> tuple:
    """``(x, y, sample_weight)`` from what ``fit`` hands to ``train_step`` (``x``, ``(x,)``,
    ``(x, y)`` or ``(x, y, sample_weight)``; a list counts as a tuple), with None for what is absent."""
    if isinstance(data, list):
        data = tuple(data)
    if not isinstance(data, tuple):
        return data, None, None
    if 1 <= len(data) <= 3:
        return tuple(data) + (None,) * (3 - len(data))
    raise ValueError(f"data must be x, (x,), (x, y) or (x, y, sample_weight), got a tuple of {len(data)}")


def pack_x_y_sample_weight(x, y=None, sample_weight=None) -> Any:
    """What ``fit`` hands to ``train_step``: ``x`` alone when there is no ``y`` (``(x,)`` when ``x``
    is itself a list or tuple, so that it is not read as ``(x, y)``), else ``(x, y)`` or
    ``(x, y, sample_weight)``. Without ``y`` the sample weights are dropped, as in Keras."""
    if y is None:
        return (x,) if isinstance(x, (list, tuple)) else x
    return (x, y) if sample_weight is None else (x, y, sample_weight)
