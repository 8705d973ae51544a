"""Creating tensors: ``zeros``, ``ones``, ``full``, ``arange``, ``linspace``, ``eye``, the
``*_like`` forms, ``meshgrid``, the window functions... (constants: nothing to differentiate)."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from . import convert, dtypes
from .primitive import defop
from .tensor import Tensor, TensorLike


def _dtype(dtype, default=None) -> str:
    return dtypes.standardize_dtype(default if dtype is None else dtype)


def _shape(shape) -> tuple:
    if isinstance(shape, Tensor):
        shape = shape._value.tolist()
    return (int(shape),) if isinstance(shape, (int, np.integer)) else tuple(int(d) for d in shape)


def zeros(shape: int | Sequence[int], dtype: str | np.dtype | None = None) -> Tensor:
    """A tensor of ``shape`` filled with 0 (floatx unless ``dtype``)."""
    return Tensor(np.zeros(_shape(shape), _dtype(dtype)))


def ones(shape: int | Sequence[int], dtype: str | np.dtype | None = None) -> Tensor:
    """A tensor of ``shape`` filled with 1."""
    return Tensor(np.ones(_shape(shape), _dtype(dtype)))


def empty(shape: int | Sequence[int], dtype: str | np.dtype | None = None) -> Tensor:
    """A tensor of ``shape`` (filled with 0: lamina never hands out uninitialized memory)."""
    return zeros(shape, dtype)


def full(shape: int | Sequence[int], fill_value: TensorLike, dtype: str | np.dtype | None = None) -> Tensor:
    """A tensor of ``shape`` filled with ``fill_value`` (floatx unless ``dtype``)."""
    return Tensor(np.full(_shape(shape), convert.value(fill_value), _dtype(dtype)))


def _like(x, dtype):
    a = convert.array(x)
    return a.shape, (a.dtype.name if dtype is None else _dtype(dtype))


def zeros_like(x: TensorLike, dtype: str | np.dtype | None = None) -> Tensor:
    """Zeros with the shape (and dtype, unless given) of ``x``."""
    shape, dt = _like(x, dtype)
    return Tensor(np.zeros(shape, dt))


def ones_like(x: TensorLike, dtype: str | np.dtype | None = None) -> Tensor:
    """Ones with the shape (and dtype, unless given) of ``x``."""
    shape, dt = _like(x, dtype)
    return Tensor(np.ones(shape, dt))


def empty_like(x: TensorLike, dtype: str | np.dtype | None = None) -> Tensor:
    """``zeros_like`` (lamina never hands out uninitialized memory)."""
    return zeros_like(x, dtype)


def full_like(x: TensorLike, fill_value: TensorLike, dtype: str | np.dtype | None = None) -> Tensor:
    """``fill_value`` everywhere, with the shape (and dtype, unless given) of ``x``."""
    shape, dt = _like(x, dtype)
    return Tensor(np.full(shape, convert.value(fill_value), dt))


def arange(start, stop=None, step: int = 1, dtype: str | np.dtype | None = None) -> Tensor:
    """Evenly spaced values in ``[start, stop)``; int32 for integer arguments, floatx for floats."""
    values = [convert.value(v) for v in (start, stop, step) if v is not None]
    floats = any(isinstance(v, float) or getattr(v, "dtype", np.dtype(int)).kind == "f" for v in values)
    default = None if floats else "int32"
    out = np.arange(start if stop is None else start, stop, step) if stop is not None else np.arange(0, start, step)
    return Tensor(out.astype(_dtype(dtype, default)))


def linspace(start, stop, num: int = 50, endpoint: bool = True, retstep: bool = False,
             dtype: str | np.dtype | None = None, axis: int = 0) -> Tensor | tuple[Tensor, Tensor]:
    """``num`` evenly spaced values from ``start`` to ``stop``."""
    out = np.linspace(convert.value(start), convert.value(stop), int(num), endpoint=endpoint,  # type: ignore[call-overload]
                      retstep=retstep, axis=axis)
    if retstep:
        values, step = out
        return Tensor(values.astype(_dtype(dtype))), Tensor(np.asarray(step, _dtype(dtype)))
    return Tensor(out.astype(_dtype(dtype)))


def logspace(start, stop, num: int = 50, endpoint: bool = True, base: int = 10, dtype: str | np.dtype | None = None,
             axis: int = 0) -> Tensor:
    """``base ** linspace(start, stop, num)``."""
    return Tensor(np.logspace(convert.value(start), convert.value(stop), int(num), endpoint, base,
                              axis=axis).astype(_dtype(dtype)))


def geomspace(start, stop, num: int = 50, endpoint: bool = True, dtype: str | np.dtype | None = None,
              axis: int = 0) -> Tensor:
    """``num`` values evenly spaced on a log scale from ``start`` to ``stop``."""
    return Tensor(np.geomspace(convert.value(start), convert.value(stop), int(num), endpoint,
                               axis=axis).astype(_dtype(dtype)))


def eye(N, M=None, k: int = 0, dtype: str | np.dtype | None = None) -> Tensor:
    """A 2-D tensor with ones on the ``k``-th diagonal."""
    return Tensor(np.eye(int(N), None if M is None else int(M), int(k), dtype=_dtype(dtype)))


def identity(n, dtype: str | np.dtype | None = None) -> Tensor:
    """The ``n`` x ``n`` identity matrix."""
    return eye(n, dtype=dtype)


def tri(N, M=None, k: int = 0, dtype: str | np.dtype | None = None) -> Tensor:
    """Ones at and below the ``k``-th diagonal."""
    return Tensor(np.tri(int(N), None if M is None else int(M), int(k), dtype=_dtype(dtype)))


def meshgrid(*x, indexing: str = "xy") -> list[Tensor]:
    """Coordinate grids from 1-D coordinate tensors (``"xy"`` or ``"ij"`` indexing)."""
    grids = np.meshgrid(*[convert.array(v) for v in x], indexing=indexing)  # type: ignore[call-overload]
    return [Tensor(g) for g in grids]


def _window(fn, doc):
    def window(x: TensorLike) -> Tensor:
        return Tensor(fn(int(convert.value(x))).astype(dtypes.standardize_dtype(None)))
    window.__name__ = fn.__name__
    window.__doc__ = doc
    return window


bartlett = _window(np.bartlett, "The Bartlett (triangular) window of ``x`` points.")
blackman = _window(np.blackman, "The Blackman window of ``x`` points.")
hamming = _window(np.hamming, "The Hamming window of ``x`` points.")
hanning = _window(np.hanning, "The Hann window of ``x`` points.")


def kaiser(x: TensorLike, beta) -> Tensor:
    """The Kaiser window of ``x`` points with shape parameter ``beta``."""
    return Tensor(np.kaiser(int(convert.value(x)), float(convert.value(beta))).astype(dtypes.standardize_dtype(None)))


_COPY = defop("copy", lambda a: np.array(convert.array(a), copy=True), lambda F, g, out, a: (g,))


def copy(x: TensorLike) -> Tensor:
    """A copy of ``x`` (the gradient passes through)."""
    return _COPY(x)


def array(x: TensorLike, dtype: str | np.dtype | None = None) -> Tensor:
    """``x`` as a tensor (as ``convert_to_tensor``)."""
    from .core import convert_to_tensor
    return convert_to_tensor(x, dtype)
