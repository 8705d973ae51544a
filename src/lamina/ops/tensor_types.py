"""A tensor's ``shape`` and ``dtype`` with TensorFlow's manners, for ``import lamina as tf``
programs, while staying what Keras code expects: the shape is a tuple, the dtype a string.

``TensorShape`` is a tuple (``x.shape == (2, 3)``, unpacking, ``x.shape[1:]``) with
``as_list()``, ``rank`` and ``num_elements()``; ``TensorDType`` is the dtype's name
(``x.dtype == "float32"``) with ``is_floating``, ``is_integer`` and ``as_numpy_dtype``.

>>> import lamina as tf
>>> x = tf.ones((2, 3))
>>> x.shape, x.shape.as_list(), x.shape.rank, x.shape[0], x.shape[1:].as_list()
((2, 3), [2, 3], 2, 2, [3])
>>> x.dtype, x.dtype.is_floating, x.dtype.is_integer, x.dtype.as_numpy_dtype
('float32', True, False, <class 'numpy.float32'>)
"""
from __future__ import annotations

import math

import numpy as np

from .tensor import DTypeName


class TensorDType(DTypeName):
    """A tensor's dtype: its Keras name (a ``str``) with TensorFlow's ``DType`` attributes."""

    __slots__ = ()

    @property
    def name(self) -> str:
        return str(self)

    @property
    def as_numpy_dtype(self) -> type:
        """The NumPy scalar type (``np.float32``)."""
        return np.dtype(str(self)).type

    @property
    def is_floating(self) -> bool:
        return np.dtype(str(self)).kind == "f"

    @property
    def is_integer(self) -> bool:
        return np.dtype(str(self)).kind in "iu"

    @property
    def is_unsigned(self) -> bool:
        return np.dtype(str(self)).kind in "ub"

    @property
    def is_bool(self) -> bool:
        return str(self) == "bool"

    @property
    def size(self) -> int:
        """Bytes per element."""
        return np.dtype(str(self)).itemsize


class TensorShape(tuple):
    """A tensor's shape: a tuple of ints (``None`` for an unknown size) with TensorFlow's
    ``TensorShape`` methods; a slice of it is one too."""

    __slots__ = ()

    def __getitem__(self, key):
        item = tuple.__getitem__(self, key)
        return TensorShape(item) if isinstance(key, slice) else item

    def as_list(self) -> list:
        """The sizes as a list (``[2, 3]``)."""
        return list(self)

    @property
    def rank(self) -> int:
        """The number of axes."""
        return len(self)

    @property
    def ndims(self) -> int:
        """The number of axes (TensorFlow's older name for ``rank``)."""
        return len(self)

    @property
    def dims(self) -> list:
        return list(self)

    def num_elements(self) -> int | None:
        """How many elements a tensor of this shape has (None when a size is unknown)."""
        return None if None in self else math.prod(self)

    def is_fully_defined(self) -> bool:
        """Whether every size is known."""
        return None not in self
