"""How a layer call sees its arguments: Python data and arrays converted to tensors in the
layer's dtype, what ``call``'s signature takes (``training``, ``mask``), and ``call``'s results
wrapped back into tensors. Split from ``layer.py``; ``Layer.__call__`` runs these every call.
"""
from __future__ import annotations

import inspect

import numpy as np

from .. import backend
from ..ops.tensor import Tensor, numbers_of_objects

_FLOAT_POLICIES = ("float16", "float32", "float64", "bfloat16", "mixed_float16", "mixed_bfloat16")


def as_shape(shape, argument: str, owner: str) -> tuple:
    """A shape given as an int, list or tuple, as a tuple of ints/None."""
    if isinstance(shape, (int, np.integer)):
        shape = (shape,)
    try:
        shape = tuple(None if d is None else int(d) for d in shape)
    except (TypeError, ValueError):
        raise TypeError(f"{owner} expects {argument} to be a tuple of ints, got {shape!r}") from None
    if any(d is not None and d < 1 for d in shape):
        raise ValueError(f"{owner} expects {argument} with positive dimensions, got {shape}")
    return shape


def _dtype_name(dtype) -> str:
    if isinstance(dtype, dict):  # a DTypePolicy config
        dtype = (dtype.get("config") or {}).get("name")
    dtype = getattr(dtype, "name", dtype)
    if dtype is None:
        return backend.floatx()
    if dtype not in _FLOAT_POLICIES and np.dtype(dtype).kind != "f":
        raise ValueError(f"layer dtype must be a float dtype (float16, float32, float64), got {dtype!r}")
    return {"mixed_float16": "float16", "mixed_bfloat16": "bfloat16"}.get(dtype, np.dtype(dtype).name
                                                                          if dtype != "bfloat16" else dtype)


class _Signature:
    __slots__ = ("takes_training", "takes_mask", "takes_kwargs", "training_index")

    def __init__(self, call):
        params = list(inspect.signature(call).parameters.values())[1:]  # without self
        names = [p.name for p in params]
        self.takes_training = "training" in names
        self.takes_mask = "mask" in names
        self.takes_kwargs = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params)
        positional = [p.name for p in params if p.kind in (inspect.Parameter.POSITIONAL_ONLY,
                                                           inspect.Parameter.POSITIONAL_OR_KEYWORD)]
        self.training_index = positional.index("training") if "training" in positional else None


_SIGNATURES: dict[type, _Signature] = {}


def _call_signature(cls) -> _Signature:
    signature = _SIGNATURES.get(cls)
    if signature is None:
        signature = _SIGNATURES[cls] = _Signature(cls.call)
    return signature


def _resolve_training(signature: _Signature, args: tuple, kwargs: dict):
    if "training" in kwargs:
        return kwargs["training"]
    index = signature.training_index
    if index is not None and len(args) > index:  # passed positionally: leave it there
        return args[index]
    return None


_NP_DTYPES: dict = {}  # a layer's dtype name -> NumPy's dtype (None for bfloat16, which NumPy lacks)


def _same_dtype(array: np.ndarray, name: str) -> bool:
    # NumPy's dtype.name is computed in Python (~1 us); comparing dtype objects is not
    expected = _NP_DTYPES.get(name, False)
    if expected is False:
        try:
            expected = np.dtype(name)
        except TypeError:
            expected = None
        _NP_DTYPES[name] = expected
    return array.dtype == expected if expected is not None else array.dtype.name == name


def _to_tensors(value, layer):
    """Arrays and numbers as tensors (float ones in the layer's dtype); structures kept."""
    if isinstance(value, Tensor):
        array = value._value
        if value._is_variable or array.dtype.kind != "f" or not layer.autocast or _same_dtype(array, layer.dtype):
            return value
        from .. import ops
        return ops.cast(value, layer.dtype)
    if type(value) is np.ndarray and value.dtype.kind in "biu":
        return Tensor(value)
    if type(value) is np.ndarray and value.dtype.kind == "f":
        return Tensor(value if not layer.autocast or _same_dtype(value, layer.dtype) else value.astype(layer.dtype))
    if isinstance(value, (list, tuple)) and not _is_numbers(value):
        return type(value)(_to_tensors(v, layer) for v in value)
    if isinstance(value, dict):
        return {k: _to_tensors(v, layer) for k, v in value.items()}
    if value is None or isinstance(value, (str, bool, slice, type(Ellipsis))):  # an index key stays a key
        return value
    from ..ops.tensor import to_array
    array = to_array(value)
    if array.dtype.kind == "f" and not _same_dtype(array, layer.dtype) and layer.autocast:
        array = array.astype(layer.dtype)
    return Tensor(array)


def _is_numbers(value) -> bool:
    """A (nested) list of numbers is one tensor's data, not a structure of inputs."""
    first = value
    while isinstance(first, (list, tuple)) and first:
        first = first[0]
    return isinstance(first, (int, float, np.number)) and not isinstance(first, bool)


def _wrap_outputs(value):
    """What ``call`` returned, with arrays (a call written in NumPy) as tensors."""
    if isinstance(value, Tensor) or value is None:
        return value
    if isinstance(value, (list, tuple)):
        return type(value)(_wrap_outputs(v) for v in value)
    if isinstance(value, dict):
        return {k: _wrap_outputs(v) for k, v in value.items()}
    if isinstance(value, (np.ndarray, np.generic, float, int)):
        return Tensor(np.asarray(value))
    return value


def to_array(data, what: str) -> np.ndarray:
    """NumPy view of user data (lists, pandas objects): numeric, float kept, ints/bools as floatx."""
    if isinstance(data, Tensor):
        data = data._value
    if hasattr(data, "to_numpy"):
        data = data.to_numpy()
    array = np.asarray(data)
    if array.dtype.kind == "O":
        array = numbers_of_objects(array, what)
    if array.dtype.kind not in "biuf":
        raise TypeError(f"Expected numeric data for {what}, got an array of dtype {array.dtype}")
    if array.dtype.kind != "f":
        array = array.astype(backend.floatx())
    return array
