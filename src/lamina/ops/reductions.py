"""Reductions and scans: ``sum``, ``mean``, ``max``, ``std``, ``logsumexp``, ``cumsum``, quantiles...

A reduction's VJP spreads ``g`` back over the reduced axes (``_spread``); ``broadcast_to``
stretches it, and the tape sums it back wherever the input itself was broadcast.
"""
from __future__ import annotations

import builtins
from collections.abc import Sequence

import numpy as np

from . import convert
from .primitive import defop
from .tensor import Tensor, TensorLike

_axis = convert.axis_arg


def _axes(axis, ndim: int) -> tuple:
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, int) else axis
    return tuple(sorted(a % ndim for a in axes)) if ndim else ()


def _kept_shape(shape: tuple, axis) -> tuple:
    reduced = _axes(axis, len(shape))
    return tuple(1 if i in reduced else d for i, d in enumerate(shape))


def _spread(F, g, shape: tuple, axis, keepdims: bool):
    """``g`` (the reduced value's gradient) broadcast back to the input's ``shape``."""
    if not keepdims:
        g = F.reshape(g, _kept_shape(shape, axis))
    return F.broadcast_to(g, shape)


def _count(shape: tuple, axis) -> int:
    return int(np.prod([shape[a] for a in _axes(axis, len(shape))])) if shape else 1


def _reduction(name, fn, vjp, doc, floats=False):
    prepare = convert.floating if floats else convert.array
    prim = defop(name, lambda a, axis=None, keepdims=False: fn(prepare(a), axis=axis, keepdims=keepdims), vjp)

    def op(x: TensorLike, axis: int | Sequence[int] | None = None, keepdims: bool = False) -> Tensor:
        return prim(x, axis=_axis(axis), keepdims=bool(keepdims))
    op.__name__ = op.__qualname__ = name
    op.__doc__ = doc
    return op


def _sum_vjp(F, g, out, a, axis=None, keepdims=False):
    return (_spread(F, g, np.shape(a) if not isinstance(a, Tensor) else a.shape, axis, keepdims),)


def _shape(a):
    return a.shape if isinstance(a, Tensor) else np.shape(a)


def _mean_vjp(F, g, out, a, axis=None, keepdims=False):
    shape = _shape(a)
    return (_spread(F, g, shape, axis, keepdims) / _count(shape, axis),)


def _extreme_vjp(F, g, out, a, axis=None, keepdims=False):
    shape = _shape(a)
    hit = F.cast(a == _spread(F, out, shape, axis, keepdims), g.dtype)
    ties = _spread(F, F.sum(hit, axis=axis, keepdims=keepdims), shape, axis, keepdims)
    return (_spread(F, g, shape, axis, keepdims) * hit / ties,)


def _prod_vjp(F, g, out, a, axis=None, keepdims=False):
    shape = _shape(a)
    zero = a == 0
    others = _spread(F, F.prod(F.where(zero, 1, a), axis=axis, keepdims=keepdims), shape, axis, keepdims)
    zeros = _spread(F, F.sum(F.cast(zero, "int32"), axis=axis, keepdims=keepdims), shape, axis, keepdims)
    total = _spread(F, out, shape, axis, keepdims)
    slope = F.where(zero, F.where(zeros == 1, others, 0), total / F.where(zero, 1, a))
    return (_spread(F, g, shape, axis, keepdims) * slope,)


def _var_vjp(F, g, out, a, axis=None, keepdims=False):
    shape = _shape(a)
    centered = a - F.mean(a, axis=axis, keepdims=True)
    return (_spread(F, g, shape, axis, keepdims) * 2 * centered / _count(shape, axis),)


def _std_vjp(F, g, out, a, axis=None, keepdims=False):
    shape = _shape(a)
    centered = a - F.mean(a, axis=axis, keepdims=True)
    spread_out = _spread(F, out, shape, axis, keepdims)
    slope = F.where(spread_out > 0, centered / (_count(shape, axis) * F.where(spread_out > 0, spread_out, 1)), 0)
    return (_spread(F, g, shape, axis, keepdims) * slope,)


def _logsumexp(a, axis=None, keepdims=False):
    top = np.max(a, axis=axis, keepdims=True)
    top = np.where(np.isfinite(top), top, 0)
    with np.errstate(divide="ignore"):
        out = np.log(np.sum(np.exp(a - top), axis=axis, keepdims=True)) + top
    return out if keepdims else np.squeeze(out, axis=axis)


def _logsumexp_vjp(F, g, out, a, axis=None, keepdims=False):
    shape = _shape(a)
    return (_spread(F, g, shape, axis, keepdims) * F.exp(a - _spread(F, out, shape, axis, keepdims)),)


# Keras's accumulators: small signed integers and bools sum (and multiply) in int32, small
# unsigned ones in uint32, wider types in their own (NumPy would widen int8 to int64)
_ACCUMULATOR = {"bool": "int32", "int8": "int32", "int16": "int32", "uint8": "uint32", "uint16": "uint32"}


def _accumulating(fn):
    def reduce(a, axis=None, keepdims=False):
        return fn(a, axis=axis, keepdims=keepdims, dtype=_ACCUMULATOR.get(a.dtype.name, a.dtype))
    return reduce


sum = _reduction("sum", _accumulating(np.sum), _sum_vjp, "The sum over ``axis`` (all axes by default).")
def _mean(a, axis=None, keepdims=False):
    if axis is None and not keepdims and a.size and a.dtype in (np.float32, np.float64):
        return a.dtype.type(np.add.reduce(a, axis=None) / a.size)  # np.mean's own sum and division, minus its ~8 us
    return np.mean(a, axis=axis, keepdims=keepdims)


mean = _reduction("mean", _mean, _mean_vjp, "The mean over ``axis``; integers average as floatx.", floats=True)
max = _reduction("max", np.max, _extreme_vjp, "The largest value over ``axis`` (ties share the gradient).")
min = _reduction("min", np.min, _extreme_vjp, "The smallest value over ``axis`` (ties share the gradient).")
amax, amin = max, min
prod = _reduction("prod", _accumulating(np.prod), _prod_vjp, "The product over ``axis``.")
var = _reduction("var", np.var, _var_vjp, "The (population) variance over ``axis``.", floats=True)
std = _reduction("std", np.std, _std_vjp, "The (population) standard deviation over ``axis``.", floats=True)
logsumexp = _reduction("logsumexp", _logsumexp, _logsumexp_vjp, "``log(sum(exp(x)))`` over ``axis``, stably.",
                       floats=True)
all = _reduction("all", np.all, None, "Whether every element over ``axis`` is true.")
any = _reduction("any", np.any, None, "Whether any element over ``axis`` is true.")


def _arg(fn):
    def forward(a, axis=None, keepdims=False):
        out = fn(convert.array(a), axis=axis, keepdims=keepdims)
        return np.asarray(out).astype("int32")
    return forward


_ARGMAX = defop("argmax", _arg(np.argmax))
_ARGMIN = defop("argmin", _arg(np.argmin))


def argmax(x: TensorLike, axis: int | Sequence[int] | None = None, keepdims: bool = False) -> Tensor:
    """The index of the largest value along ``axis`` (of the flattened array when None), as int32."""
    return _ARGMAX(x, axis=_axis(axis), keepdims=bool(keepdims))


def argmin(x: TensorLike, axis: int | Sequence[int] | None = None, keepdims: bool = False) -> Tensor:
    """The index of the smallest value along ``axis`` (of the flattened array when None), as int32."""
    return _ARGMIN(x, axis=_axis(axis), keepdims=bool(keepdims))


def count_nonzero(x: TensorLike, axis: int | Sequence[int] | None = None) -> Tensor:
    """How many elements along ``axis`` are non-zero (int32)."""
    return Tensor(np.asarray(np.count_nonzero(convert.array(x), axis=_axis(axis))).astype("int32"))


# --- scans ---------------------------------------------------------------------------------------
def _flat_axis(a, axis):
    return (np.ravel(a), 0) if axis is None else (a, axis)


def _scan_dtype(a, dtype):
    """Keras's scans keep the input's dtype (bools count in int32), where NumPy widens integers."""
    if dtype is not None:
        return dtype
    return "int32" if a.dtype == bool else a.dtype


def _cumsum(a, axis=None, dtype=None):
    a, axis = _flat_axis(convert.array(a), axis)
    return np.cumsum(a, axis=axis, dtype=_scan_dtype(a, dtype))


def _reverse_cumsum(F, g, axis):
    return F.flip(F.cumsum(F.flip(g, axis=axis), axis=axis), axis=axis)


def _cumsum_vjp(F, g, out, a, axis=None, dtype=None):
    grad = _reverse_cumsum(F, g, 0 if axis is None else axis)
    return (F.reshape(grad, _shape(a)),)


def _cumprod(a, axis=None, dtype=None):
    a, axis = _flat_axis(convert.array(a), axis)
    return np.cumprod(a, axis=axis, dtype=_scan_dtype(a, dtype))


def _cumprod_vjp(F, g, out, a, axis=None, dtype=None):
    flat = F.reshape(a, (-1,)) if axis is None else a
    grad = _reverse_cumsum(F, g * out, 0 if axis is None else axis) / flat
    return (F.reshape(grad, _shape(a)),)


_CUMSUM = defop("cumsum", _cumsum, _cumsum_vjp)
_CUMPROD = defop("cumprod", _cumprod, _cumprod_vjp)


def cumsum(x: TensorLike, axis: int | None = None, dtype: str | np.dtype | None = None) -> Tensor:
    """Running sums along ``axis`` (of the flattened array when None)."""
    return _CUMSUM(x, axis=None if axis is None else int(axis), dtype=dtype)


def cumprod(x: TensorLike, axis: int | None = None, dtype: str | np.dtype | None = None) -> Tensor:
    """Running products along ``axis`` (of the flattened array when None)."""
    return _CUMPROD(x, axis=None if axis is None else int(axis), dtype=dtype)


# --- built from the ops above (differentiated through them) -------------------------------------------
def _ops():
    from .. import ops
    return ops


def ptp(x: TensorLike, axis: int | Sequence[int] | None = None, keepdims: bool = False) -> Tensor:
    """``max - min`` over ``axis``."""
    return max(x, axis, keepdims) - min(x, axis, keepdims)


def average(x: TensorLike, axis: int | None = None, weights: TensorLike = None) -> Tensor:
    """The mean over ``axis``, weighted by ``weights`` (broadcast along ``axis`` when 1-D)."""
    if weights is None:
        return mean(x, axis=axis)
    ops = _ops()
    weights = ops.convert_to_tensor(weights)
    if axis is not None and weights.ndim == 1 and ops.ndim(x) > 1:
        shape = [1] * ops.ndim(x)
        shape[int(axis)] = weights.shape[0]
        weights = ops.reshape(weights, shape)
    return sum(ops.multiply(x, weights), axis=axis) / sum(ops.multiply(ops.ones_like(x), weights), axis=axis)


_METHODS = ("linear", "lower", "higher", "midpoint", "nearest")


def quantile(x: TensorLike, q: TensorLike, axis: int | Sequence[int] | None = None, method: str = "linear",
             keepdims: bool = False) -> Tensor:
    """The ``q``-th quantiles (``q`` in [0, 1], a number or a 1-D array) over ``axis``; the
    gradient flows to the one or two sorted values each quantile interpolates."""
    if method not in _METHODS:
        raise ValueError(f"quantile method must be one of {_METHODS}, got {method!r}")
    ops = _ops()
    x = ops.convert_to_tensor(x)
    if axis is None:
        x, axis = ops.reshape(x, (-1,)), 0
    axes = _axes(_axis(axis), x.ndim)
    others = [i for i in range(x.ndim) if i not in axes]
    moved = ops.transpose(x, others + list(axes))
    moved = ops.reshape(moved, moved.shape[:len(others)] + (-1,))
    ordered = ops.sort(moved, axis=-1)
    qs = np.atleast_1d(np.asarray(convert.value(q), np.float64))
    results = [_pick(ops, ordered, float(level), method) for level in qs]
    out = ops.stack(results) if np.ndim(convert.value(q)) else results[0]
    if keepdims:
        shape = [1 if i in axes else d for i, d in enumerate(x.shape)]
        out = ops.reshape(out, (*out.shape[:out.ndim - len(others)], *shape))
    return out


def _pick(ops, ordered, level: float, method: str):
    n = ordered.shape[-1]
    position = level * (n - 1)
    low, high = int(np.floor(position)), int(np.ceil(position))
    fraction = position - low
    if method == "lower" or (method == "nearest" and builtins.round(position) == low):
        return ordered[..., low]
    if method in ("higher", "nearest"):
        return ordered[..., high]
    weight = 0.5 if method == "midpoint" else fraction
    return ordered[..., low] * (1 - weight) + ordered[..., high] * weight


def percentile(x: TensorLike, q: TensorLike, axis: int | Sequence[int] | None = None, method: str = "linear",
               keepdims: bool = False) -> Tensor:
    """``quantile`` with ``q`` in percent."""
    return quantile(x, np.asarray(convert.value(q), np.float64) / 100.0, axis, method, keepdims)


def median(x: TensorLike, axis: int | Sequence[int] | None = None, keepdims: bool = False) -> Tensor:
    """The median over ``axis`` (mean of the two middle values for an even count)."""
    return quantile(x, 0.5, axis=axis, keepdims=keepdims)


# --- NaN-ignoring forms ---------------------------------------------------------------------------
def _without_nan(x, fill):
    ops = _ops()
    x = ops.convert_to_tensor(x)
    if np.dtype(x.dtype).kind not in "fc":  # integers hold no NaN, and keep their dtype
        return x
    return ops.where(ops.isnan(x), fill, x)


def nansum(x: TensorLike, axis: int | Sequence[int] | None = None, keepdims: bool = False) -> Tensor:
    """``sum`` treating NaNs as 0."""
    return sum(_without_nan(x, 0.0), axis, keepdims)


def nanprod(x: TensorLike, axis: int | Sequence[int] | None = None, keepdims: bool = False) -> Tensor:
    """``prod`` treating NaNs as 1."""
    return prod(_without_nan(x, 1.0), axis, keepdims)


def nanmean(x: TensorLike, axis: int | Sequence[int] | None = None, keepdims: bool = False) -> Tensor:
    """``mean`` over the non-NaN elements."""
    ops = _ops()
    counts = sum(ops.cast(ops.logical_not(ops.isnan(x)), ops.convert_to_tensor(x).dtype), axis, keepdims)
    return nansum(x, axis, keepdims) / counts


def nanvar(x: TensorLike, axis: int | Sequence[int] | None = None, keepdims: bool = False) -> Tensor:
    """``var`` over the non-NaN elements."""
    ops = _ops()
    centered = ops.subtract(x, nanmean(x, axis, keepdims=True))
    return nanmean(ops.square(centered), axis, keepdims)


def nanstd(x: TensorLike, axis: int | Sequence[int] | None = None, keepdims: bool = False) -> Tensor:
    """``std`` over the non-NaN elements."""
    return _ops().sqrt(nanvar(x, axis, keepdims))


def nanmax(x: TensorLike, axis: int | Sequence[int] | None = None, keepdims: bool = False) -> Tensor:
    """``max`` ignoring NaNs."""
    return max(_without_nan(x, -np.inf), axis, keepdims)


def nanmin(x: TensorLike, axis: int | Sequence[int] | None = None, keepdims: bool = False) -> Tensor:
    """``min`` ignoring NaNs."""
    return min(_without_nan(x, np.inf), axis, keepdims)


def nancumsum(x: TensorLike, axis: int | None = None, dtype: str | np.dtype | None = None) -> Tensor:
    """``cumsum`` treating NaNs as 0."""
    return cumsum(_without_nan(x, 0.0), axis, dtype)


def nancumprod(x: TensorLike, axis: int | None = None, dtype: str | np.dtype | None = None) -> Tensor:
    """``cumprod`` treating NaNs as 1."""
    return cumprod(_without_nan(x, 1.0), axis, dtype)


def nanargmax(x: TensorLike, axis: int | Sequence[int] | None = None, keepdims: bool = False) -> Tensor:
    """``argmax`` ignoring NaNs."""
    return Tensor(np.asarray(np.nanargmax(convert.array(x), axis=_axis(axis), keepdims=keepdims)).astype("int32"))


def nanargmin(x: TensorLike, axis: int | Sequence[int] | None = None, keepdims: bool = False) -> Tensor:
    """``argmin`` ignoring NaNs."""
    return Tensor(np.asarray(np.nanargmin(convert.array(x), axis=_axis(axis), keepdims=keepdims)).astype("int32"))


def nanquantile(x: TensorLike, q: TensorLike, axis: int | Sequence[int] | None = None, method: str = "linear",
                keepdims: bool = False) -> Tensor:
    """``quantile`` of the non-NaN elements (no gradient: NaN positions vary per slice)."""
    return Tensor(np.nanquantile(convert.floating(x), convert.value(q), axis=_axis(axis), method=method,  # type: ignore[call-overload]
                                 keepdims=keepdims))


def nanpercentile(x: TensorLike, q: TensorLike, axis: int | Sequence[int] | None = None, method: str = "linear",
                  keepdims: bool = False) -> Tensor:
    """``percentile`` of the non-NaN elements (no gradient)."""
    return nanquantile(x, np.asarray(convert.value(q), np.float64) / 100.0, axis, method, keepdims)


def nanmedian(x: TensorLike, axis: int | Sequence[int] | None = None, keepdims: bool = False) -> Tensor:
    """``median`` of the non-NaN elements (no gradient)."""
    return nanquantile(x, 0.5, axis, keepdims=keepdims)
