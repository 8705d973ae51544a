"""``Variable``: a tensor whose value changes only through ``assign`` (and the optimizers).

A Variable holds one NumPy buffer for its whole life: ``assign``, ``assign_add`` and the
optimizers write into it, so every view of it (the fused training plan packs all of a model's
weights into one array and the Variables view pieces of it) reads what was written. Each write
bumps ``_version``; a ``GradientTape`` that read the variable earlier refuses to use the stale
value. As an op input it is a tensor; a recording tape watches a trainable Variable it reads.

>>> import numpy as np
>>> v = Variable(np.zeros(3, "float32"), name="bias")
>>> _ = v.assign([1, 2, 3]); v.numpy()
array([1., 2., 3.], dtype=float32)
>>> (v * 2).numpy()
array([2., 4., 6.], dtype=float32)
>>> _ = v[1].assign(7.0); v.numpy().tolist()
[1.0, 7.0, 3.0]
"""
from __future__ import annotations

import weakref
from collections.abc import Callable, Sequence

import numpy as np

from . import _macros, _versions
from .layers.call_context import inferring_shapes
from .ops.dtypes import standardize_dtype
from .ops.tensor import Tensor, TensorLike, to_array

_SLICES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # tensor -> (variable, key) for v[k].assign


class Variable(Tensor):
    """A named, trainable (by default) tensor that layers own and optimizers update in place.

    ``Variable(initializer, shape=None, dtype=None, trainable=True, name=None)``: the first
    argument is a value (array, list, number, tensor) or, as in Keras, an initializer (a name
    such as ``"zeros"`` or a callable ``(shape, dtype)``) with ``shape``.
    """

    __slots__ = ("name", "path", "_trainable", "regularizer", "constraint", "_version", "autocast",
                 "aggregation", "synchronization")
    _is_variable = True

    def __init__(self, initializer: TensorLike | str | Callable | None = None, shape: Sequence[int] | None = None,
                 dtype: str | np.dtype | type | None = None, trainable: bool = True, name: str | None = None,
                 path: str | None = None, regularizer: Callable | None = None, constraint: Callable | None = None,
                 autocast: bool = True, aggregation: str = "none", synchronization: str = "auto",
                 initial_value: TensorLike | str | Callable | None = None):
        if initializer is None:
            initializer = initial_value
        if initializer is None:
            raise ValueError("Variable needs an initial value (or an initializer and a shape)")
        super().__init__(_initial_value(initializer, shape, dtype))
        if shape is not None and tuple(self._value.shape) != tuple(shape):
            raise ValueError(f"Variable '{name}' was given shape {tuple(shape)} but a value of shape "
                             f"{self._value.shape}")
        if name is not None and not isinstance(name, str):
            raise TypeError(f"Variable name must be a str, got {name!r}")
        self.name = name or "variable"
        self.path = path or self.name
        self._trainable = bool(trainable)
        self.regularizer, self.constraint = regularizer, constraint
        self.autocast, self.aggregation, self.synchronization = autocast, aggregation, synchronization
        self._version = 0

    @property
    def trainable(self) -> bool:
        return self._trainable

    @trainable.setter
    def trainable(self, value: bool) -> None:
        self._trainable = bool(value)
        _versions.changed()  # the layers' cached trainable_weights

    @property
    def value(self) -> Tensor:
        """The current value as a tensor (a snapshot: later writes do not change it)."""
        from . import ops
        return ops.convert_to_tensor(self)

    # --- writes: the only ways the value changes -------------------------------------------------
    @_macros.stateful
    def assign(self, value) -> Variable:
        """Write ``value`` (same shape, or broadcastable to it) into the variable."""
        if inferring_shapes():  # a layer runs on stand-ins to find its output shape: no effects
            return self
        array = to_array(value)
        if array.shape != self._value.shape and not _broadcasts(array.shape, self._value.shape):
            raise ValueError(f"Variable '{self.path}' has shape {self._value.shape}, cannot assign a value of "
                             f"shape {array.shape}")
        np.copyto(self._value, array, casting="unsafe")
        self._version += 1
        return self

    @_macros.stateful
    def assign_add(self, delta) -> Variable:
        """``variable += delta``."""
        return self.assign(self._value + to_array(delta))

    @_macros.stateful
    def assign_sub(self, delta) -> Variable:
        """``variable -= delta``."""
        return self.assign(self._value - to_array(delta))

    def _written(self) -> None:
        """An optimizer or the fused plan changed the buffer in place: bump the version."""
        self._version += 1
        if _macros.RECORDERS:
            _macros.unexplained_write(self)

    @classmethod
    def wrapping(cls, array: np.ndarray, name: str, trainable: bool = True) -> Variable:
        """A Variable whose buffer is ``array`` itself, not a copy (the fused plan and the packed
        optimizer state lay several variables out in one array this way)."""
        variable = cls(np.zeros((), array.dtype), name=name, trainable=trainable)
        variable._value = array
        return variable

    def rebind(self, array: np.ndarray) -> None:
        """Move the variable into ``array`` (a buffer of the same shape and dtype), keeping its value."""
        if array.shape != self._value.shape or array.dtype != self._value.dtype:
            raise ValueError(f"Variable '{self.path}' cannot move into a buffer of shape {array.shape} and dtype "
                             f"{array.dtype}")
        array[...] = self._value
        self._value = array

    # --- as a tensor ------------------------------------------------------------------------------
    def __getitem__(self, key):
        from . import ops
        out = ops.get_item(self, key)
        _SLICES[out] = (self, key)
        return out

    def __array__(self, dtype=None, copy=None):
        value = self._value
        if dtype is not None and value.dtype != np.dtype(dtype):
            return value.astype(dtype)
        return value.copy() if copy else value

    def __deepcopy__(self, memo) -> Variable:
        return Variable(self._value.copy(), name=self.name, path=self.path, trainable=self.trainable,
                        regularizer=self.regularizer, constraint=self.constraint)

    def __reduce__(self):
        return (_rebuild, (self._value.copy(), self.name, self.path, self.trainable))

    def __repr__(self) -> str:
        return f"<Variable path={self.path}, shape={self.shape}, dtype={self.dtype}>"

    def __str__(self) -> str:
        return f"<Variable path={self.path}, shape={self.shape}, dtype={self.dtype}, value={self._value}>"


def _rebuild(value, name, path, trainable):
    return Variable(value, name=name, path=path, trainable=trainable)


def _broadcasts(source: tuple, target: tuple) -> bool:
    try:
        return np.broadcast_shapes(source, target) == tuple(target)
    except ValueError:
        return False


def _initial_value(initializer, shape, dtype) -> np.ndarray:
    if isinstance(initializer, str) or (callable(initializer) and not isinstance(initializer, Tensor)):
        if shape is None:
            raise ValueError(f"Variable with initializer {initializer!r} needs a shape")
        from . import initializers
        value = initializers.required(initializer, "Variable")(tuple(shape), standardize_dtype(dtype))
        return np.array(to_array(value), order="C", copy=True)
    array = to_array(initializer, dtype)
    return np.array(array, order="C", copy=True)  # the variable owns its buffer


def slice_assign(tensor: Tensor, method: str, value):
    """``v[key].assign(value)`` (TensorFlow's sliced assignment) on a slice taken from a Variable."""
    owner = _SLICES.get(tensor)
    if owner is None:
        raise AttributeError(f"'Tensor' object has no attribute '{method}': tensors cannot change; take a slice "
                             "of a Variable (v[i].assign(...)) or use ops.slice_update / ops.scatter_update")
    variable, key = owner
    new = variable._value.copy()
    part = to_array(value)
    if method == "assign":
        new[key] = part
    elif method == "assign_add":
        new[key] += part
    else:
        new[key] -= part
    return variable.assign(new)
