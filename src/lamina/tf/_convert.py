"""How TensorFlow turns Python data into tensors, shared by the ``lamina.tf`` families.

TensorFlow's rules differ from Keras's in two places: Python floats become float32 whatever
``floatx`` says, and Python ints become int32 unless one does not fit, then int64. NumPy arrays
and tensors keep their dtype (``float64`` stays ``float64``).
"""
from __future__ import annotations

import builtins

import numpy as np

from .. import ops
from ..backend.keras_tensor import KerasTensor
from ..ops.dtypes import standardize_dtype
from ..ops.tensor import Tensor

_INT32 = np.iinfo(np.int32)


def python_array(value) -> np.ndarray:
    """Python data (numbers, nested lists, tensors inside lists) as an array of TensorFlow's dtype."""
    if isinstance(value, (list, tuple)) and any(isinstance(v, Tensor) for v in _leaves(value)):
        value = _unwrap(value)
    try:
        array = np.asarray(value)
    except ValueError:  # NumPy's words for rows of different lengths; TensorFlow's, and what to do
        raise ValueError("Can't convert non-rectangular Python sequence to Tensor: every row along an axis "
                         "needs the same length (lamina has no tf.ragged; pad the rows to one length with "
                         "tf.keras.utils.pad_sequences)") from None
    if array.dtype.kind in "USc":
        raise TypeError(_refused_dtype(value, array.dtype))
    if isinstance(value, (np.ndarray, np.generic)):
        return array
    if array.dtype.kind == "f":
        return array.astype(np.float32)
    if array.dtype.kind in "iu":
        fits = array.size == 0 or (array.min() >= _INT32.min and array.max() <= _INT32.max)
        return array.astype(np.int32 if fits else np.int64)
    if array.dtype.kind not in "b":
        raise TypeError(f"Expected numeric or bool data, got {value!r} (an array of dtype {array.dtype})")
    return array


def is_python(x) -> bool:
    """Python numbers and (nested) lists of them: TensorFlow converts these to the other input's dtype."""
    if isinstance(x, (list, tuple)):
        return not any(isinstance(v, (Tensor, KerasTensor, np.ndarray, np.generic)) for v in x)
    return not isinstance(x, (Tensor, KerasTensor, np.ndarray, np.generic))


def python_as(op: str, value, dtype, whose: str = "the other input's") -> Tensor:
    """Python data as a tensor of ``dtype`` (``whose`` dtype it is, for the message); refused where
    the value does not fit an integer dtype, as TensorFlow refuses it, rather than wrapped or cut."""
    array = python_array(value)
    target = np.dtype(standardize_dtype(dtype))
    if target.kind in "iu" and array.size and array.dtype.kind in "iuf":
        limits = np.iinfo(target)
        if array.dtype.kind == "f" and not np.all(np.isfinite(array) & (array == np.round(array))):
            raise TypeError(f"{op}: cannot convert {value!r} to {target.name} ({whose} dtype) without losing the "
                            f"fraction; pass {target.name} values, or tf.cast the tensor to a float dtype first")
        if array.min() < limits.min or array.max() > limits.max:
            raise TypeError(f"{op}: {value!r} does not fit {target.name} ({whose} dtype); use a wider dtype")
    return Tensor(array.astype(target))


def _refused_dtype(value, dtype: np.dtype) -> str:
    """Why lamina makes no tensor of ``value``: strings and complex numbers are out of its scope."""
    if dtype.kind == "c":
        return (f"Expected numeric or bool data, got {value!r} (complex, dtype {dtype}): lamina has no complex "
                "tensors; keep the real and imaginary parts as two float tensors")
    return (f"Expected numeric or bool data, got {value!r}: lamina has no string tensors (tf.string, "
            "tf.strings); turn text into numbers in Python or NumPy first and pass int or float arrays")


def _leaves(value):
    for item in value:
        if isinstance(item, (list, tuple)):
            yield from _leaves(item)
        else:
            yield item


def _unwrap(value):
    if isinstance(value, (list, tuple)):
        return [_unwrap(v) for v in value]
    return value._value if isinstance(value, Tensor) else value


def tensor(value, dtype=None) -> Tensor:
    """``value`` as a lamina tensor: tensors and Variables through ``ops`` (a tape sees them),
    Python data with TensorFlow's dtypes. A Functional model's symbolic inputs (KerasTensors)
    stay symbolic: the op becomes a node of the model, as tf.keras's TFOpLambda layers did."""
    if isinstance(value, Tensor):
        return ops.convert_to_tensor(value, dtype)
    if isinstance(value, KerasTensor):
        return value if dtype is None else ops.cast(value, dtype)  # type: ignore[return-value]
    if isinstance(value, (list, tuple)) and value and builtins.all(isinstance(v, (Tensor, KerasTensor))
                                                                  for v in value):
        out = ops.stack(list(value))  # a list of tensors packs, differentiably
        return out if dtype is None else ops.cast(out, dtype)
    array = python_array(value)
    return Tensor(array if dtype is None else array.astype(standardize_dtype(dtype)))


def int_list(shape, argument: str, op: str) -> tuple:
    """A shape argument (an int, a list that may hold scalar tensors, a 1-D tensor) as ints."""
    if isinstance(shape, Tensor):
        shape = shape._value.tolist()
    if isinstance(shape, (int, np.integer)):
        return (int(shape),)
    try:
        return tuple(-1 if d is None else int(d) for d in shape)
    except (TypeError, ValueError):
        raise TypeError(f"{op} expects {argument} to be a list of ints (or a 1-D int tensor), got {shape!r}") from None


def axes(axis):
    """An ``axis`` argument (None, an int, a list or a tensor) as ops take it."""
    if isinstance(axis, Tensor):
        axis = axis._value.tolist()
    if axis is None or isinstance(axis, (int, np.integer)):
        return axis if axis is None else int(axis)
    return tuple(int(a) for a in axis)
