"""Keras 3's dtype rules: which dtype an op returns for its inputs' dtypes.

The rules are those of a promotion lattice (Keras adapted JAX's): ``bool`` below the integers,
the integers below a "weak" float, the weak float below ``float16``, ``float16`` below
``float32`` below ``float64``. A Python number is *weak*: it takes the dtype of the array it
meets (``float32_array * 2.0`` stays float32, ``int_array + 1.5`` becomes floatx). Unlike Keras
on JAX, 64-bit dtypes are kept (``float64`` stays ``float64``), as Keras on TensorFlow keeps them.

>>> result_type("int32", "float32")
'float32'
>>> result_type("int64", float)
'float32'
>>> result_type("float32", "float64")
'float64'
"""
from __future__ import annotations

import functools

import numpy as np

from ..backend import config

_BOOL = ("bool",)
_INTS = ("uint8", "uint16", "uint32", "uint64", "int8", "int16", "int32", "int64")
_FLOATS = ("bfloat16", "float16", "float32", "float64")
ALLOWED = frozenset(_BOOL + _INTS + _FLOATS)

# each dtype and the dtypes immediately above it; "int" and "float" are the weak Python kinds
_ABOVE = {
    "bool": ("int",),
    "uint8": ("int16", "uint16"), "uint16": ("int32", "uint32"), "uint32": ("int64", "uint64"),
    "uint64": ("float",),
    "int": ("uint8", "int8"),
    "int8": ("int16",), "int16": ("int32",), "int32": ("int64",), "int64": ("float",),
    "float": ("bfloat16", "float16"),
    "bfloat16": ("float32",), "float16": ("float32",), "float32": ("float64",), "float64": (),
}


def _upper_bounds() -> dict[str, frozenset]:
    bounds = {}
    for node in _ABOVE:
        seen, todo = {node}, [node]
        while todo:
            for higher in _ABOVE[todo.pop()]:
                if higher not in seen:
                    seen.add(higher)
                    todo.append(higher)
        bounds[node] = frozenset(seen)
    return bounds


_UPPER = _upper_bounds()


@functools.lru_cache(maxsize=512)
def _least_upper_bound(nodes: frozenset) -> str:
    common = frozenset.intersection(*(_UPPER[n] for n in nodes))
    least = [c for c in common if common <= _UPPER[c]]
    return least[0]


def standardize_dtype(dtype) -> str:
    """A dtype's Keras name: ``"float32"`` for ``np.float32``, ``"float32"``, ``float`` (as floatx)."""
    if dtype is None:
        return config.floatx()
    if dtype is float:
        return config.floatx()
    if dtype is int:
        return "int32"
    if dtype is bool:
        return "bool"
    name = getattr(dtype, "name", None) if not isinstance(dtype, str) else dtype
    if name is None:
        name = np.dtype(dtype).name
    name = {"float": "float32", "int": "int32", "double": "float64", "half": "float16"}.get(name, name)
    if name not in ALLOWED:
        raise ValueError(f"Invalid dtype {dtype!r}: expected one of {sorted(ALLOWED)}")
    return name


@functools.lru_cache(maxsize=1024)
def _result(kinds: tuple, floatx: str) -> str:
    strong = {k for k, weak in kinds if not weak}
    if len(strong) == 1 and all(not weak or _compatible(k, strong) for k, weak in kinds):
        return next(iter(strong))
    nodes = frozenset(_weak_kind(k) if weak else k for k, weak in kinds)
    out = _least_upper_bound(nodes)
    if out == "float":
        return floatx
    if out == "int":
        return "int32"
    return out


def _weak_kind(dtype: str) -> str:
    if dtype == "bool":
        return "bool"
    return "float" if "float" in dtype else "int"


def _compatible(weak_dtype: str, strong: set) -> bool:
    """Whether a weak Python number leaves the one strong dtype unchanged."""
    (dtype,) = strong
    kind = _weak_kind(weak_dtype)
    return kind == "bool" or (kind == "int" and dtype != "bool") or (kind == "float" and "float" in dtype)


def result_type(*dtypes) -> str:
    """The dtype Keras gives an op over inputs of ``dtypes`` (``int``/``float`` for Python numbers)."""
    if not dtypes:
        return config.floatx()
    kinds = tuple((standardize_dtype(d), d is int or d is float) for d in dtypes)
    return _result(kinds, config.floatx())


def is_float(dtype) -> bool:
    """Whether ``dtype`` (a name or a NumPy dtype) is a floating type."""
    return "float" in standardize_dtype(dtype)
