"""TensorFlow's dtype objects (``tf.float32``...), for ``import lamina as tf``.

A ``DType`` is the dtype's name (it *is* the string ``"float32"``, so Keras-style comparisons
and every ``dtype=`` argument of lamina accept it) with TensorFlow's attributes: ``name``,
``as_numpy_dtype``, ``is_floating``, ``is_integer``, ``is_bool``, ``is_unsigned``, ``size``,
``min`` and ``max``. It equals the strings, NumPy dtypes and NumPy types of the same dtype, and a
tensor's ``dtype``.

>>> import numpy as np
>>> import lamina as tf
>>> tf.float32.name, tf.float32 == "float32", tf.float32 == np.float32
('float32', True, True)
>>> tf.constant([1, 2]).dtype == tf.int32
True
>>> tf.int8.min, tf.uint8.max, tf.float64.is_floating
(-128, 255, True)
"""
from __future__ import annotations

import builtins  # the module's own `bool` is TensorFlow's dtype

import numpy as np

from ..ops.dtypes import standardize_dtype
from ..ops.tensor_types import TensorDType


class DType(TensorDType):
    """A dtype as TensorFlow presents it (``tf.float32``); also the plain string ``"float32"``
    (``name``, ``is_floating``, ``as_numpy_dtype``...: a tensor's dtype has them too)."""

    __slots__ = ()

    def __getattr__(self, name):  # NumPy's dtype attributes; bfloat16 has no NumPy dtype to ask
        try:
            return getattr(np.dtype(str(self)), name)
        except TypeError:
            raise AttributeError(f"{self!r} has no attribute {name!r}") from None

    @property
    def min(self):
        """The lowest value the dtype holds."""
        return self._limits().min

    @property
    def max(self):
        """The highest value the dtype holds."""
        return self._limits().max

    def _limits(self):
        kind = np.dtype(str(self)).kind
        if kind == "b":
            return _BoolLimits
        return np.iinfo(str(self)) if kind in "iu" else np.finfo(str(self))

    @property
    def base_dtype(self) -> DType:
        return self

    @property
    def real_dtype(self) -> DType:
        return self

    def is_compatible_with(self, other) -> builtins.bool:
        """Whether ``other`` names the same dtype."""
        return self == as_dtype(other)

    def __repr__(self) -> str:
        return f"tf.{self}"

    def __reduce__(self):
        return (as_dtype, (str(self),))


class _BoolLimits:
    min, max = False, True


_NAMES = ("float16", "bfloat16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "uint16",
          "uint32", "uint64", "bool")
_DTYPES = {name: DType(name) for name in _NAMES}

float16, bfloat16, float32, float64 = (_DTYPES[n] for n in ("float16", "bfloat16", "float32", "float64"))
int8, int16, int32, int64 = (_DTYPES[n] for n in ("int8", "int16", "int32", "int64"))
uint8, uint16, uint32, uint64 = (_DTYPES[n] for n in ("uint8", "uint16", "uint32", "uint64"))
bool = _DTYPES["bool"]  # noqa: A001  (TensorFlow's name)
half, double = float16, float64


def as_dtype(type_value) -> DType:
    """``type_value`` (a name, a NumPy dtype or type, a ``DType``, Python's ``float``/``int``/``bool``)
    as a ``DType``; Python's ``float`` is float32 and ``int`` int32, as TensorFlow converts them."""
    if type_value is float:
        return float32
    try:
        return _DTYPES[standardize_dtype(type_value)]
    except (TypeError, ValueError, KeyError):
        raise TypeError(f"Cannot convert {type_value!r} to a dtype: expected one of {list(_NAMES)} (or a NumPy "
                        "dtype)") from None


__all__ = ["DType", "as_dtype", "bfloat16", "bool", "double", "float16", "float32", "float64", "half", "int8",
           "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"]
