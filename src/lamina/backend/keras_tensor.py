"""``KerasTensor``: a symbolic tensor (a shape and a dtype, no value), what ``Input(...)``
returns. Calling a layer or an op on symbolic tensors records a node of a Functional graph and
returns symbolic outputs; ``Model(inputs, outputs)`` turns the graph into a model.

>>> import lamina
>>> x = lamina.Input(shape=(3,))
>>> x.shape, x.dtype
((None, 3), 'float32')
>>> y = lamina.layers.Dense(2)(x)
>>> y.shape
(None, 2)
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


class KerasTensor:
    """A symbolic tensor: ``shape`` (None for an unknown dimension), ``dtype`` and ``name``."""

    __slots__ = ("shape", "dtype", "name", "sparse", "_keras_history", "__weakref__")

    def __init__(self, shape: Sequence[int | None], dtype: str | np.dtype | type = "float32", sparse: bool = False,
                 name: str | None = None):
        self.shape = tuple(None if d is None else int(d) for d in shape)
        self.dtype = np.dtype(dtype).name if dtype != "bfloat16" else dtype
        self.sparse = bool(sparse)
        self.name = name or "keras_tensor"
        self._keras_history: Any = None  # (operation, node index, tensor index) once an op made it

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def __repr__(self) -> str:
        return f"<KerasTensor shape={self.shape}, dtype={self.dtype}, name={self.name}>"

    def __array__(self, dtype=None, copy=None):
        raise TypeError(f"KerasTensor {self.name} is symbolic (a placeholder of shape {self.shape}) and has no value: "
                        "build a Model(inputs, outputs) and call it on data, or call the layer on arrays")

    def numpy(self):
        return self.__array__()

    def __bool__(self):
        raise TypeError(f"KerasTensor {self.name} is symbolic: it has no truth value (Python control flow on it "
                        "cannot be recorded; write it in a Layer's call instead)")

    def __len__(self) -> int:
        if not self.shape or self.shape[0] is None:
            raise TypeError(f"len() of KerasTensor {self.name} with shape {self.shape} is unknown")
        return self.shape[0]

    __hash__ = object.__hash__

    # operators record op nodes, as on eager tensors
    def __add__(self, other): return _ops().add(self, other)
    def __radd__(self, other): return _ops().add(other, self)
    def __sub__(self, other): return _ops().subtract(self, other)
    def __rsub__(self, other): return _ops().subtract(other, self)
    def __mul__(self, other): return _ops().multiply(self, other)
    def __rmul__(self, other): return _ops().multiply(other, self)
    def __truediv__(self, other): return _ops().true_divide(self, other)
    def __rtruediv__(self, other): return _ops().true_divide(other, self)
    def __pow__(self, other): return _ops().power(self, other)
    def __rpow__(self, other): return _ops().power(other, self)
    def __matmul__(self, other): return _ops().matmul(self, other)
    def __rmatmul__(self, other): return _ops().matmul(other, self)
    def __neg__(self): return _ops().negative(self)
    def __abs__(self): return _ops().abs(self)
    def __getitem__(self, key): return _ops().get_item(self, key)
    def __eq__(self, other): return _ops().equal(self, other)
    def __ne__(self, other): return _ops().not_equal(self, other)
    def __lt__(self, other): return _ops().less(self, other)
    def __le__(self, other): return _ops().less_equal(self, other)
    def __gt__(self, other): return _ops().greater(self, other)
    def __ge__(self, other): return _ops().greater_equal(self, other)


def _ops():
    from .. import ops
    return ops


def any_symbolic(args, kwargs=None) -> bool:
    """Whether a KerasTensor is among ``args`` / ``kwargs`` (one level of lists, tuples, dicts)."""
    for value in args:
        if type(value) is KerasTensor:
            return True
        if type(value) in (list, tuple) and any(type(v) is KerasTensor for v in value):
            return True
        if type(value) is dict and any(type(v) is KerasTensor for v in value.values()):
            return True
    return bool(kwargs) and any_symbolic(tuple(kwargs.values()))


def is_keras_tensor(x) -> bool:
    """Whether ``x`` is a symbolic tensor (``keras.backend.is_keras_tensor``)."""
    return isinstance(x, KerasTensor)
