"""TensorFlow's ``tf.Variable``: ``Variable(initial_value, trainable=True, name=...)`` in TensorFlow's
argument order, also taking Keras's (``Variable(initializer, shape)``, ``initializer=``), and
TensorFlow's ``value()``, ``read_value()`` and ``assign(..., read_value=)``.

Every lamina Variable, a layer's weight included, passes ``isinstance(v, tf.Variable)``.

>>> import lamina as tf
>>> v = tf.Variable(1.0, name="w")
>>> v.dtype, v.trainable, float(v.value()), float(v.value)
('float32', True, 1.0, 1.0)
>>> _ = v.assign_add(2.0); float(v.read_value())
3.0
>>> tf.Variable([1, 2], False).trainable
False
>>> tf.Variable("zeros", (2,)).numpy().tolist()
[0.0, 0.0]
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import cast

import numpy as np

from .. import ops
from ..ops.tensor import Tensor, TensorLike
from ..layers.call_context import inferring_shapes
from ..variables import Variable as _KerasVariable
from ._convert import is_python, python_as, python_array
from .creation import constant, convert_to_tensor


class VariableSynchronization:
    """TensorFlow's synchronization modes (lamina runs one replica: they are recorded only)."""
    AUTO, NONE, ON_WRITE, ON_READ = "auto", "none", "on_write", "on_read"


class VariableAggregation:
    """TensorFlow's aggregation modes (recorded only: one replica)."""
    NONE, SUM, MEAN, ONLY_FIRST_REPLICA = "none", "sum", "mean", "only_first_replica"


class _CallableValue(Tensor):
    """A Variable's ``value``: a tensor that also answers ``value()``, TensorFlow's spelling."""

    __slots__ = ()

    def __call__(self) -> Tensor:
        return self


class _AnyVariable(type):
    """``isinstance(x, tf.Variable)`` holds for every lamina Variable (a layer's weights too)."""

    def __instancecheck__(cls, instance) -> bool:
        return isinstance(instance, _KerasVariable)

    def __subclasscheck__(cls, subclass) -> bool:
        return isinstance(subclass, type) and issubclass(subclass, _KerasVariable)


def _is_shape(value) -> bool:
    return isinstance(value, (tuple, list, int, np.integer)) and not isinstance(value, (bool, np.bool_))


class Variable(_KerasVariable, metaclass=_AnyVariable):
    """A Variable made with TensorFlow's arguments (or Keras's: a shape as the second argument, or
    ``initializer=``); Python floats become floatx (float32 unless changed) and ints int32."""

    __slots__ = ()

    # In Keras's order the second to fourth arguments are the shape, the dtype and trainable: the
    # annotations of trainable, validate_shape and caching_device take those too.
    def __init__(self, initial_value: TensorLike | str | Callable | None = None,
                 trainable: bool | tuple[int, ...] | list[int] | None = None,
                 validate_shape: bool | str | np.dtype | type = True,
                 caching_device: str | bool | None = None, name: str | None = None, variable_def: object = None,
                 dtype: str | np.dtype | type | None = None, import_scope: str | None = None,
                 constraint: Callable | None = None, synchronization: str = "auto", aggregation: str = "none",
                 shape: Sequence[int] | None = None, experimental_enable_variable_lifting: bool = True,
                 **keras_kwargs):
        if _is_shape(trainable):  # Keras's order: Variable(initializer, shape, dtype, trainable)
            # (the casts say what the arguments hold in that order, which mypy cannot follow)
            shape, trainable = cast("tuple[int, ...] | list[int]", trainable), cast("bool | None", caching_device)
            dtype = cast("str | np.dtype | type", validate_shape) if validate_shape is not True else dtype
        if variable_def is not None or import_scope is not None:
            raise ValueError("Variable: variable_def and import_scope (TensorFlow 1 graphs) are not supported")
        if isinstance(initial_value, (list, tuple, complex)):
            python_array(initial_value)  # TensorFlow's refusals, and why, for ragged, string or complex data
        initializer = keras_kwargs.pop("initializer", initial_value)
        if trainable is None:
            trainable = synchronization != VariableSynchronization.ON_READ
        # trainable is a bool by now (a shape in its place has moved to shape, None was replaced)
        super().__init__(initializer, shape=shape, dtype=dtype, trainable=cast(bool, trainable), name=name,
                         constraint=constraint, synchronization=synchronization, aggregation=aggregation,
                         **keras_kwargs)

    @property
    def value(self) -> _CallableValue:
        """The current value as a tensor; ``v.value`` and ``v.value()`` both give it."""
        out = ops.convert_to_tensor(self)
        out.__class__ = _CallableValue  # the same object, so a tape recording the read still knows it
        return out  # type: ignore[return-value]  # its class was just set

    def read_value(self) -> Tensor:
        """The current value as a tensor (a snapshot: later writes do not change it)."""
        return ops.convert_to_tensor(self)

    def _own_dtype(self, value, op: str):
        """``value`` in the Variable's dtype by TensorFlow's rule: Python data and NumPy arrays convert
        (a fraction or an out-of-range int for an integer Variable is a TypeError), a tensor of
        another dtype is a ValueError (TensorFlow does not cast it either; tf.cast it first)."""
        if isinstance(value, Tensor):
            out = convert_to_tensor(value, dtype=self.dtype)
        elif is_python(value):
            out = python_as(op, value, self.dtype, whose="the Variable's")
        else:
            out = constant(value, self.dtype)  # NumPy data: cast, but never a fraction into an integer
        if out.shape != self.shape and not inferring_shapes():  # TensorFlow does not broadcast here
            raise ValueError(f"{op}: cannot assign a value of shape {out.shape} to the Variable '{self.name}' of "
                             f"shape {self.shape}: the shapes must match (tf.broadcast_to the value first)")
        return out

    def assign(self, value, use_locking=None, name=None, read_value=True):
        """Write ``value`` (of the Variable's shape); return the Variable (``read_value=False``: None)."""
        super().assign(self._own_dtype(value, "assign"))
        return self if read_value else None

    def assign_add(self, delta, use_locking=None, name=None, read_value=True):
        """``v += delta``."""
        super().assign_add(self._own_dtype(delta, "assign_add"))
        return self if read_value else None

    def assign_sub(self, delta, use_locking=None, name=None, read_value=True):
        """``v -= delta``."""
        super().assign_sub(self._own_dtype(delta, "assign_sub"))
        return self if read_value else None
