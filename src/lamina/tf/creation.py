"""TensorFlow's tensor-making names: ``constant``, ``convert_to_tensor``, ``cast``, ``zeros``,
``ones``, ``fill``, ``eye``, ``range``, ``linspace``, ``one_hot``...

Python floats become float32 and ints int32 (int64 when they do not fit), as in TensorFlow;
``zeros``/``ones``/``eye`` default to float32. Ops that take tensors go through ``lamina.ops``,
so a ``GradientTape`` differentiates them.

>>> import lamina as tf
>>> tf.constant([[1, 2], [3, 4]]).dtype
'int32'
>>> tf.range(3, 1, -0.5).numpy().tolist()
[3.0, 2.5, 2.0, 1.5]
>>> tf.constant(0.0, shape=(2, 2)).numpy().tolist()
[[0.0, 0.0], [0.0, 0.0]]
"""
from __future__ import annotations

import numpy as np

from .. import ops
from ..ops.dtypes import standardize_dtype
from ..ops.tensor import Tensor
from ._convert import int_list, python_array, tensor


def constant(value, dtype=None, shape=None, name=None) -> Tensor:
    """A tensor holding ``value``; with ``shape``, a scalar (or one-element) ``value`` fills it and a
    value of as many elements is reshaped to it. An integer ``dtype`` refuses non-integral floats."""
    if isinstance(value, Tensor):
        out = ops.convert_to_tensor(value)
    else:
        array = python_array(value)
        if dtype is not None and np.dtype(standardize_dtype(dtype)).kind in "iub" and array.dtype.kind == "f":
            if not np.all(np.isfinite(array) & (array == np.round(array))):
                raise TypeError(f"constant: cannot convert {value!r} to an integer dtype {standardize_dtype(dtype)} "
                                "without losing the fractional part; round it first or use tf.cast")
        out = Tensor(array)
    if dtype is not None:
        out = ops.cast(out, dtype)
    if shape is None:
        return out
    target = int_list(shape, "shape", "constant")
    if out.size == 1:
        return ops.broadcast_to(ops.reshape(out, ()), target)
    if out.size != int(np.prod(target)):
        raise TypeError(f"constant: a value of {out.size} elements (shape {out.shape}) cannot be given shape "
                        f"{target}; pass one element to fill the shape, or exactly {int(np.prod(target))}")
    return ops.reshape(out, target)


def convert_to_tensor(value, dtype=None, dtype_hint=None, name=None) -> Tensor:
    """``value`` as a tensor. As in TensorFlow a tensor is never silently cast: asking an existing
    tensor for another ``dtype`` raises (use ``cast``); ``dtype_hint`` applies only to Python data."""
    if isinstance(value, Tensor):
        out = ops.convert_to_tensor(value)
        if dtype is not None and out.dtype != standardize_dtype(dtype):
            raise ValueError(f"convert_to_tensor: the tensor has dtype {out.dtype}, not the requested "
                             f"{standardize_dtype(dtype)}; use tf.cast(x, {standardize_dtype(dtype)!r})")
        return out
    if dtype is None and dtype_hint is not None:
        try:
            return constant(value, dtype_hint)
        except TypeError:
            return constant(value)
    return constant(value, dtype)


def cast(x, dtype, name=None) -> Tensor:
    """``x`` in ``dtype``; floats become integers by dropping the fraction (towards zero)."""
    return ops.cast(tensor(x), dtype)


def identity(input, name=None) -> Tensor:  # noqa: A002  (TensorFlow's argument name)
    """A new tensor with the same values (the gradient passes through)."""
    return ops.copy(tensor(input))


def is_tensor(x) -> bool:
    """Whether ``x`` is a tensor or a Variable (TensorFlow counts both)."""
    return isinstance(x, Tensor)


def zeros(shape, dtype="float32", name=None, layout=None) -> Tensor:
    """A tensor of ``shape`` filled with 0 (float32 unless ``dtype``)."""
    return ops.zeros(int_list(shape, "shape", "zeros"), standardize_dtype(dtype))


def ones(shape, dtype="float32", name=None, layout=None) -> Tensor:
    """A tensor of ``shape`` filled with 1 (float32 unless ``dtype``)."""
    return ops.ones(int_list(shape, "shape", "ones"), standardize_dtype(dtype))


def zeros_like(input, dtype=None, name=None, layout=None) -> Tensor:  # noqa: A002
    """Zeros with the shape (and dtype, unless given) of ``input``."""
    return ops.zeros_like(tensor(input), dtype)


def ones_like(input, dtype=None, name=None, layout=None) -> Tensor:  # noqa: A002
    """Ones with the shape (and dtype, unless given) of ``input``."""
    return ops.ones_like(tensor(input), dtype)


def fill(dims, value, name=None, layout=None) -> Tensor:
    """A tensor of shape ``dims`` filled with ``value``, in ``value``'s dtype (a Python float: float32)."""
    scalar = tensor(value)
    if scalar.ndim != 0:
        raise ValueError(f"fill expects a scalar value, got shape {scalar.shape}")
    return ops.broadcast_to(scalar, int_list(dims, "dims", "fill")) * 1  # a copy, not a broadcast view


def eye(num_rows, num_columns=None, batch_shape=None, dtype="float32", name=None) -> Tensor:
    """The identity matrix (``num_rows`` x ``num_columns``), repeated over ``batch_shape``."""
    matrix = ops.eye(int(num_rows), None if num_columns is None else int(num_columns), dtype=standardize_dtype(dtype))
    if batch_shape is None:
        return matrix
    batch = int_list(batch_shape, "batch_shape", "eye")
    return ops.broadcast_to(matrix, (*batch, *matrix.shape)) * 1


_RANGE_ORDER = ("int32", "int64", "float32", "float64")


def range(start, limit=None, delta=1, dtype=None, name="range") -> Tensor:  # noqa: A001
    """``[start, start + delta, ...)`` up to ``limit`` (exclusive); ``range(n)`` counts from 0.

    Without ``dtype`` the widest of the arguments' dtypes wins (int32 < int64 < float32 < float64;
    Python ints are int32, floats float32): ``range(5)`` is int32, ``range(0, 1, 0.25)`` float32."""
    if limit is None:
        start, limit = 0, start
    values = [python_array(v) if not isinstance(v, Tensor) else v._value for v in (start, limit, delta)]
    for label, value in zip(("start", "limit", "delta"), values):
        if value.ndim != 0:
            raise ValueError(f"range expects a scalar {label}, got shape {value.shape}")
    if float(values[2]) == 0:
        raise ValueError("range: delta must not be 0")
    if dtype is None:
        ranks = [_RANGE_ORDER.index(v.dtype.name) if v.dtype.name in _RANGE_ORDER else 0 for v in values]
        dtype = _RANGE_ORDER[max(ranks)]
    name_ = standardize_dtype(dtype)
    first, stop, step = (np.asarray(v).astype(name_) for v in values)
    count = max(int(np.ceil((float(stop) - float(first)) / float(step))), 0)
    return Tensor((first + step * np.arange(count)).astype(name_))


def linspace(start, stop, num, name=None, axis=0) -> Tensor:
    """``num`` evenly spaced values from ``start`` to ``stop`` (both included), in ``start``'s float
    dtype (float64 for integers, as TensorFlow's division of integers gives: ``tf.linspace(-2, 2, 201)``
    in its "Basic training loops" guide); tensors ``start``/``stop`` give one sequence per element,
    laid along ``axis``."""
    first, last = tensor(start), tensor(stop)
    if first.dtype.kind in "iub":
        first = ops.cast(first, "float64")
    elif first.dtype.kind != "f":
        raise TypeError(f"linspace expects a number start, got dtype {first.dtype}")
    count = int(num)
    steps = ops.cast(ops.arange(count), first.dtype) / float(max(count - 1, 1))
    shape = np.broadcast_shapes(first.shape, last.shape)
    steps = ops.reshape(steps, (count,) + (1,) * len(shape))
    out = first + (ops.cast(last, first.dtype) - first) * steps
    if count > 1:  # the last value exactly ``stop``, as TensorFlow gives it
        out = ops.concatenate([out[:-1], ops.expand_dims(ops.broadcast_to(ops.cast(last, first.dtype), shape), 0)])
    return ops.moveaxis(out, 0, axis) if axis != 0 else out


def one_hot(indices, depth, on_value=None, off_value=None, axis=None, dtype=None, name=None) -> Tensor:
    """``on_value`` (1) where an index points, ``off_value`` (0) elsewhere, along a new ``axis`` (last);
    an index outside ``[0, depth)`` gives a row of ``off_value``. float32 unless ``dtype`` or the values say."""
    index = tensor(indices)
    if index.dtype.kind not in "iu":
        raise TypeError(f"one_hot expects integer indices, got dtype {index.dtype}")
    if dtype is None:
        given = [v for v in (on_value, off_value) if v is not None]
        dtype = tensor(given[0]).dtype if given else "float32"
    dtype = standardize_dtype(dtype)
    hot = index._value[..., None] == np.arange(int(depth))
    on = np.asarray(1 if on_value is None else ops.convert_to_numpy(on_value), dtype)
    off = np.asarray(0 if off_value is None else ops.convert_to_numpy(off_value), dtype)
    out = Tensor(np.where(hot, on, off).astype(dtype))
    return out if axis in (None, -1) else ops.moveaxis(out, -1, int(axis))


