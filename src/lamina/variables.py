"""``Variable``: a named NumPy array that layers own and optimizers update in place."""
from __future__ import annotations

import numpy as np


class Variable:
    """A weight: its array is updated in place, so views of it held elsewhere stay in step.

    >>> v = Variable(np.zeros(3, "float32"), name="bias")
    >>> v.assign([1, 2, 3]); v.numpy()
    array([1., 2., 3.], dtype=float32)
    """

    def __init__(self, value, name: str = "variable", trainable: bool = True, path: str | None = None,
                 regularizer=None, constraint=None):
        self.value = np.asarray(value)
        self.name = name
        self.path = path or name
        self.trainable = trainable
        self.regularizer = regularizer
        self.constraint = constraint

    @property
    def shape(self) -> tuple:
        return self.value.shape

    @property
    def dtype(self) -> str:
        return self.value.dtype.name

    @property
    def size(self) -> int:
        return self.value.size

    @property
    def ndim(self) -> int:
        return self.value.ndim

    def numpy(self) -> np.ndarray:
        """A copy of the current value."""
        return self.value.copy()

    def assign(self, value) -> None:
        """Write ``value`` into the existing array (shape must match)."""
        value = np.asarray(value)
        if value.shape != self.value.shape:
            raise ValueError(f"Variable '{self.path}' has shape {self.value.shape}, "
                             f"cannot assign a value of shape {value.shape}")
        self.value[...] = value

    def rebind(self, array: np.ndarray) -> None:
        """Move the variable into ``array`` (a buffer of the same shape), keeping its value."""
        array[...] = self.value
        self.value = array

    def __array__(self, dtype=None, copy=None):
        return self.value if dtype is None else self.value.astype(dtype)

    def __repr__(self) -> str:
        return f"<Variable path={self.path}, shape={self.shape}, dtype={self.dtype}>"
