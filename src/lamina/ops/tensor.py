"""``Tensor``: what every op returns, a NumPy array with Keras's and TensorFlow's tensor manners.

A tensor holds one ``numpy.ndarray`` (``_value``) and never changes it. Python operators,
indexing and NumPy's ufuncs on a tensor go through ``lamina.ops``, so a ``GradientTape``
records them; ``np.asarray(t)`` gives the array itself (no copy) and any other NumPy function
accepts a tensor through it.

>>> import numpy as np
>>> from lamina import ops
>>> t = ops.convert_to_tensor([[1.0, 2.0], [3.0, 4.0]])
>>> t.shape, t.dtype
((2, 2), 'float32')
>>> float(ops.sum(t * 2 + 1))
24.0
>>> (t @ t).numpy().tolist()
[[7.0, 10.0], [15.0, 22.0]]
"""
from __future__ import annotations

import threading
import typing

import numpy as np

from . import dtypes

_OPS = None  # lamina.ops, bound on first use (the ops import this module)


class DTypeName(str):
    """A dtype's Keras name (``"float32"``) that also equals NumPy's dtype objects and types
    (``np.float32``), so both Keras-style and TensorFlow-style comparisons hold."""

    __slots__ = ()

    def __eq__(self, other):
        if isinstance(other, str):
            return str.__eq__(self, other)
        try:
            return np.dtype(str(self)) == np.dtype(other)
        except TypeError:
            return NotImplemented

    def __ne__(self, other):
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    __hash__ = str.__hash__

    def __getattr__(self, name):  # itemsize, kind, char...: what NumPy's dtype object has
        return getattr(np.dtype(str(self)), name)


_NAMES: dict = {}


def dtype_name(dtype) -> DTypeName:
    """The Keras name of ``dtype`` as a ``DTypeName`` (a str that also equals NumPy's dtype), cached."""
    name = _NAMES.get(dtype)
    if name is None:
        name = _NAMES[dtype] = TensorDType(np.dtype(dtype).name)  # TensorFlow's attributes too
    return name


# Who wants to know when Python reads a tensor's value (a step trace: a value read inside a
# traced ``call`` is control flow the trace cannot replay), per thread: a trace hears only the
# reads of its own thread, not another thread's ``float(loss)``.
class _ThisThread(threading.local):
    def __init__(self) -> None:
        self.readers: list = []


_HERE = _ThisThread()
VALUE_READERS: list = []  # every thread's readers: the one test a read pays (empty nearly always)


def add_value_reader(reader) -> None:
    """``reader(tensor)`` hears each value Python reads in this thread, until removed."""
    _HERE.readers.append(reader)
    VALUE_READERS.append(reader)


def remove_value_reader(reader) -> bool:
    """Stop ``reader`` (added in this thread); whether it was there."""
    if reader not in _HERE.readers:
        return False
    _HERE.readers.remove(reader)
    VALUE_READERS.remove(reader)
    return True


def _value_read(tensor) -> None:
    for reader in _HERE.readers:
        reader(tensor)


def _ops():
    global _OPS
    if _OPS is None:
        from .. import ops
        _OPS = ops
    return _OPS


class Tensor:
    """An immutable array value (eager, NumPy-backed)."""

    __slots__ = ("_value", "__weakref__")
    __array_priority__ = 100
    _is_variable = False

    def __init__(self, value: TensorLike) -> None:
        if type(value) is not np.ndarray:
            value = np.asarray(value)
        self._value = value

    # --- what it is ---------------------------------------------------------------------------
    @property
    def shape(self) -> tuple:
        return TensorShape(self._value.shape)  # a tuple with TensorFlow's as_list() and rank

    @property
    def dtype(self) -> DTypeName:
        return dtype_name(self._value.dtype)

    @property
    def ndim(self) -> int:
        return self._value.ndim

    @property
    def size(self) -> int:
        return self._value.size

    @property
    def device(self) -> str:
        """TensorFlow's fully qualified device name: lamina computes on the CPU only, so always CPU:0."""
        return "/job:localhost/replica:0/task:0/device:CPU:0"

    def numpy(self) -> np.ndarray:
        """The value as a NumPy array (a copy, so changing it cannot change the tensor)."""
        if VALUE_READERS:
            _value_read(self)
        return self._value.copy()

    def __array__(self, dtype=None, copy=None):
        if VALUE_READERS:
            _value_read(self)
        value = self._value
        if dtype is not None and value.dtype != np.dtype(dtype):
            return value.astype(dtype)
        return value.copy() if copy else value

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        op = _UFUNC_OPS.get(ufunc.__name__) if method == "__call__" and not kwargs else None
        if op is not None:
            return getattr(_ops(), op)(*inputs)
        raw = [x._value if isinstance(x, Tensor) else x for x in inputs]
        if "out" in kwargs:
            kwargs["out"] = tuple(x._value if isinstance(x, Tensor) else x for x in kwargs["out"])
        return getattr(ufunc, method)(*raw, **kwargs)

    def __len__(self) -> int:
        if self._value.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return len(self._value)

    def __iter__(self):
        if self._value.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        ops = _ops()
        return (ops.get_item(self, i) for i in range(len(self._value)))

    def __float__(self) -> float:
        return float(self._single("float"))

    def __int__(self) -> int:
        return int(self._single("int"))

    def __index__(self) -> int:
        if self._value.dtype.kind not in "iub":
            raise TypeError(f"only integer tensors can be used as an index, got dtype {self.dtype}")
        return int(self._single("int"))

    def __bool__(self) -> bool:
        return bool(self._single("bool"))

    def _single(self, what: str):
        if VALUE_READERS:
            _value_read(self)
        if self._value.size != 1:
            raise TypeError(f"{what}() needs a tensor of one element, got shape {self.shape}")
        return self._value.reshape(()).item()

    def __format__(self, spec: str) -> str:
        if VALUE_READERS:
            _value_read(self)
        if self._value.size == 1 and spec:
            return format(self._value.reshape(()).item(), spec)
        return format(str(self), spec)

    def __repr__(self) -> str:
        if VALUE_READERS:
            _value_read(self)
        return f"<Tensor: shape={self.shape}, dtype={self.dtype}, numpy={np.array2string(self._value, separator=', ')}>"

    def __str__(self) -> str:
        if VALUE_READERS:
            _value_read(self)
        return f"Tensor({self._value}, shape={self.shape}, dtype={self.dtype})"

    __hash__ = object.__hash__  # by identity, so tensors can key the tape's dictionaries

    # --- operators, through lamina.ops (so a tape records them); an operand that is not array
    # data (pytest.approx, a symbolic tensor...) gets its own turn (NotImplemented) ---------------
    def __add__(self, other): return _ops().add(self, other) if _operand(other) else NotImplemented
    def __radd__(self, other): return _ops().add(other, self) if _operand(other) else NotImplemented
    def __sub__(self, other): return _ops().subtract(self, other) if _operand(other) else NotImplemented
    def __rsub__(self, other): return _ops().subtract(other, self) if _operand(other) else NotImplemented
    def __mul__(self, other): return _ops().multiply(self, other) if _operand(other) else NotImplemented
    def __rmul__(self, other): return _ops().multiply(other, self) if _operand(other) else NotImplemented
    def __truediv__(self, other): return _ops().true_divide(self, other) if _operand(other) else NotImplemented
    def __rtruediv__(self, other): return _ops().true_divide(other, self) if _operand(other) else NotImplemented
    def __floordiv__(self, other): return _ops().floor_divide(self, other) if _operand(other) else NotImplemented
    def __rfloordiv__(self, other): return _ops().floor_divide(other, self) if _operand(other) else NotImplemented
    def __mod__(self, other): return _ops().mod(self, other) if _operand(other) else NotImplemented
    def __rmod__(self, other): return _ops().mod(other, self) if _operand(other) else NotImplemented
    def __pow__(self, other): return _ops().power(self, other) if _operand(other) else NotImplemented
    def __rpow__(self, other): return _ops().power(other, self) if _operand(other) else NotImplemented
    def __matmul__(self, other): return _ops().matmul(self, other) if _operand(other) else NotImplemented
    def __rmatmul__(self, other): return _ops().matmul(other, self) if _operand(other) else NotImplemented
    def __neg__(self): return _ops().negative(self)
    def __pos__(self): return self
    def __abs__(self): return _ops().abs(self)
    def __invert__(self): return _ops().logical_not(self) if self.dtype == "bool" else _ops().bitwise_invert(self)
    def __and__(self, other): return _ops().logical_and(self, other) if _operand(other) else NotImplemented
    def __rand__(self, other): return _ops().logical_and(other, self) if _operand(other) else NotImplemented
    def __or__(self, other): return _ops().logical_or(self, other) if _operand(other) else NotImplemented
    def __ror__(self, other): return _ops().logical_or(other, self) if _operand(other) else NotImplemented
    def __xor__(self, other): return _ops().logical_xor(self, other) if _operand(other) else NotImplemented
    def __rxor__(self, other): return _ops().logical_xor(other, self) if _operand(other) else NotImplemented
    def __eq__(self, other): return _ops().equal(self, other) if _operand(other) else NotImplemented
    def __ne__(self, other): return _ops().not_equal(self, other) if _operand(other) else NotImplemented
    def __lt__(self, other): return _ops().less(self, other) if _operand(other) else NotImplemented
    def __le__(self, other): return _ops().less_equal(self, other) if _operand(other) else NotImplemented
    def __gt__(self, other): return _ops().greater(self, other) if _operand(other) else NotImplemented
    def __ge__(self, other): return _ops().greater_equal(self, other) if _operand(other) else NotImplemented
    def __getitem__(self, key): return _ops().get_item(self, key)

    # --- a few array methods Keras's and TensorFlow's tensors have ------------------------------
    @property
    def T(self):
        return _ops().transpose(self)

    def astype(self, dtype) -> Tensor:
        return _ops().cast(self, dtype)

    def reshape(self, *shape) -> Tensor:
        return _ops().reshape(self, shape[0] if len(shape) == 1 else shape)

    # reductions and reshapes as methods, as JAX arrays have them (through ops: recorded); NumPy's
    # functions call them with its own keywords (dtype=, out=), which fall back to NumPy itself
    def _reduce(self, name, axis, keepdims, kwargs):
        extra = {k: v for k, v in kwargs.items() if v is not None}
        if extra:
            return getattr(np, name)(self._value, axis=axis, keepdims=keepdims, **extra)
        return getattr(_ops(), name)(self, axis, keepdims)

    def sum(self, axis=None, keepdims=False, **kw): return self._reduce("sum", axis, keepdims, kw)
    def mean(self, axis=None, keepdims=False, **kw): return self._reduce("mean", axis, keepdims, kw)
    def max(self, axis=None, keepdims=False, **kw): return self._reduce("max", axis, keepdims, kw)
    def min(self, axis=None, keepdims=False, **kw): return self._reduce("min", axis, keepdims, kw)
    def prod(self, axis=None, keepdims=False, **kw): return self._reduce("prod", axis, keepdims, kw)
    def std(self, axis=None, keepdims=False, **kw): return self._reduce("std", axis, keepdims, kw)
    def var(self, axis=None, keepdims=False, **kw): return self._reduce("var", axis, keepdims, kw)
    def any(self, axis=None, keepdims=False, **kw): return self._reduce("any", axis, keepdims, kw)
    def all(self, axis=None, keepdims=False, **kw): return self._reduce("all", axis, keepdims, kw)
    def argmax(self, axis=None, **kw): return _ops().argmax(self, axis)
    def argmin(self, axis=None, **kw): return _ops().argmin(self, axis)
    def squeeze(self, axis=None): return _ops().squeeze(self, axis)
    def ravel(self): return _ops().reshape(self, (-1,))
    def flatten(self): return _ops().reshape(self, (-1,))
    def transpose(self, *axes): return _ops().transpose(self, axes[0] if len(axes) == 1 else (axes or None))
    def clip(self, min=None, max=None): return _ops().clip(self, min, max)
    def round(self, decimals=0): return _ops().round(self, decimals)
    def copy(self) -> Tensor: return Tensor(self._value.copy())

    def tolist(self):
        if VALUE_READERS:
            _value_read(self)
        return self._value.tolist()

    def item(self):
        if VALUE_READERS:
            _value_read(self)
        return self._value.item()

    def assign(self, value):
        """TensorFlow's ``v[i].assign(value)``: only a slice taken from a Variable can be assigned."""
        from ..variables import slice_assign
        return slice_assign(self, "assign", value)

    def assign_add(self, value):
        """``v[i].assign_add(value)`` on a slice taken from a Variable."""
        from ..variables import slice_assign
        return slice_assign(self, "assign_add", value)

    def assign_sub(self, value):
        """``v[i].assign_sub(value)`` on a slice taken from a Variable."""
        from ..variables import slice_assign
        return slice_assign(self, "assign_sub", value)

    def __copy__(self) -> Tensor:
        return self

    def __deepcopy__(self, memo) -> Tensor:
        return Tensor(self._value.copy())

    def __reduce__(self):
        return (Tensor, (self._value,))


# NumPy ufuncs that a tensor hands to the lamina op of the same meaning (so they are recorded)
_UFUNC_OPS = {
    "add": "add", "subtract": "subtract", "multiply": "multiply", "divide": "true_divide",
    "true_divide": "true_divide", "floor_divide": "floor_divide", "power": "power", "matmul": "matmul",
    "negative": "negative", "absolute": "abs", "exp": "exp", "log": "log", "sqrt": "sqrt",
    "square": "square", "tanh": "tanh", "sin": "sin", "cos": "cos", "maximum": "maximum",
    "minimum": "minimum", "log1p": "log1p", "expm1": "expm1", "equal": "equal", "not_equal": "not_equal",
    "less": "less", "less_equal": "less_equal", "greater": "greater", "greater_equal": "greater_equal",
    "sign": "sign", "reciprocal": "reciprocal", "mod": "mod", "remainder": "mod",
}


_OPERANDS = (np.ndarray, np.generic, int, float, bool, list, tuple)


def _operand(other) -> bool:
    """Whether ``other`` is data a tensor operator computes with (else Python asks ``other``)."""
    return isinstance(other, (Tensor, *_OPERANDS))


def raw(x) -> typing.Any:
    """The NumPy value of a tensor (or of anything array-like), without copying."""
    if isinstance(x, Tensor):
        return x._value
    return x


def to_array(value, dtype=None) -> np.ndarray:
    """``value`` as a NumPy array with Keras's dtype for Python data (floats as floatx, ints as
    int32); NumPy arrays keep their dtype unless ``dtype`` is given."""
    if isinstance(value, Tensor):
        array = value._value
    elif isinstance(value, np.ndarray):
        array = value
    else:
        if hasattr(value, "to_numpy"):  # pandas
            value = value.to_numpy()
        if isinstance(value, (list, tuple)) and value and any(isinstance(v, Tensor) for v in value):
            value = [raw(v) for v in value]
        array = np.asarray(value)
        if dtype is None and not isinstance(value, np.generic):  # Python data: Keras's dtypes
            if array.dtype.kind == "f":
                array = array.astype(dtypes.standardize_dtype(None))
            elif array.dtype.kind in "iu":
                array = array.astype("int32")
    if array.dtype.kind == "O":
        array = numbers_of_objects(array)
    if array.dtype.kind not in "biuf":
        raise TypeError(f"Expected numeric data, got an array of dtype {array.dtype}")
    if dtype is not None:
        name = dtypes.standardize_dtype(dtype)
        if array.dtype.name != name:
            array = array.astype(name)
    return array


# What the ops accept for a tensor argument: a Tensor (a Variable is one), a NumPy array, a Python
# number or bool, or nested lists of numbers; each op converts it first (``convert.value``). A
# type checker cannot follow that conversion through a union, so for it the alias is Any: the
# name documents the contract, the ops' tests enforce it.
TensorLike: typing.TypeAlias = typing.Any


from .tensor_types import TensorDType, TensorShape  # noqa: E402  (they subclass DTypeName above)


def numbers_of_objects(array: np.ndarray, what: str = "the data") -> np.ndarray:
    """An object array whose items are all numbers or bools (``np.array`` of a DataFrame with
    float and bool columns, as ``pd.get_dummies`` makes) as floatx, the conversion Keras makes;
    anything else (text, None) is refused, never parsed."""
    numbers = (bool, int, float, np.number, np.bool_)
    odd = next((item for item in array.flat if not isinstance(item, numbers)), numbers)
    if odd is not numbers:  # (``numbers`` itself: the search found nothing odd)
        raise TypeError(f"Expected numeric data for {what}, got an array of dtype object holding {odd!r} "
                        f"({type(odd).__name__}): convert the columns to numbers first")
    return array.astype(dtypes.standardize_dtype(None))
