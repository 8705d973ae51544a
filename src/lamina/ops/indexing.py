"""Indexing, gathering and scattering: ``x[key]``, ``take``, ``where``, ``scatter``, the
segment reductions and the triangles and diagonals (sorting and counting: lamina.ops.sorting,
whose ops this module re-exports under their old path).

A gather's VJP is a scatter-add (``index_add``): an element gathered twice gets both gradients.
"""
from __future__ import annotations

import builtins
from collections.abc import Sequence
from typing import overload

import numpy as np

from . import convert
from .primitive import defop
from .tensor import Tensor, TensorLike

_array = convert.array
_pyslice = builtins.slice  # the module's own ``slice`` is Keras's op


def _shape(a):
    return a.shape if isinstance(a, Tensor) else np.shape(a)


def _raw_key(key):
    """An indexing key with its tensors as NumPy arrays (ints, bools, slices, None, Ellipsis)."""
    if isinstance(key, tuple):
        return tuple(_raw_key(k) for k in key)
    if isinstance(key, Tensor):
        return key._value
    if isinstance(key, list):
        return np.asarray([_raw_key(k) for k in key])
    if isinstance(key, _pyslice):
        return _pyslice(*(int(v) if isinstance(v, Tensor) else v for v in (key.start, key.stop, key.step)))
    return key


def _is_basic(key) -> bool:
    parts = key if isinstance(key, tuple) else (key,)
    return all(isinstance(k, (int, np.integer, _pyslice)) or k is None or k is Ellipsis for k in parts)


def _index_add_raw(shape, key, g, dtype):
    out = np.zeros(shape, dtype)
    if _is_basic(key):
        out[key] = g  # basic indexing never names an element twice
    else:
        np.add.at(out, key, g)
    return out


_INDEX_ADD = defop("index_add", lambda g, shape, key, dtype: _index_add_raw(shape, key, g, dtype),
                   lambda F, gg, out, g, shape, key, dtype: (gg[key],))


def index_add(shape: Sequence[int], key, g, dtype: str | np.dtype | None) -> Tensor:
    """Zeros of ``shape`` with ``g`` added at ``[key]`` (the VJP of a gather; not in Keras's ops)."""
    return _INDEX_ADD(g, shape=tuple(shape), key=key, dtype=np.dtype(dtype).name)


def _getitem_vjp(F, g, out, a, key):
    return (F.index_add(_shape(a), key, g, g.dtype),)


_GET_ITEM = defop("get_item", lambda a, key: np.asarray(_array(a)[key]), _getitem_vjp)


def get_item(x: TensorLike, key) -> Tensor:
    """``x[key]`` with NumPy's indexing (ints, slices, ``...``, ``None``, integer and boolean arrays)."""
    return _GET_ITEM(x, key=_raw_key(key))


def _take_key(ndim, indices, axis):
    return (_pyslice(None),) * axis + (indices,)


def _take_vjp(F, g, out, a, indices, axis=None):
    shape = _shape(a)
    if axis is None:
        flat = F.index_add((int(np.prod(shape)),), indices, g, g.dtype)
        return F.reshape(flat, shape), None
    return F.index_add(shape, _take_key(len(shape), indices, axis % len(shape)), g, g.dtype), None


_TAKE = defop("take", lambda a, indices, axis=None: np.take(_array(a), indices, axis=axis), _take_vjp)


def take(x: TensorLike, indices: TensorLike, axis: int | None = None) -> Tensor:
    """Elements of ``x`` at ``indices`` along ``axis`` (of the flattened ``x`` when None)."""
    return _TAKE(x, _array(indices).astype(np.intp, copy=False) if not isinstance(indices, int) else indices,
                 axis=None if axis is None else int(axis))


def _along_axis_key(shape_indices, indices, axis):
    key = []
    for d in range(len(shape_indices)):
        if d == axis:
            key.append(indices)
        else:
            view = [1] * len(shape_indices)
            view[d] = shape_indices[d]
            key.append(np.arange(shape_indices[d]).reshape(view))
    return tuple(key)


def _take_along_vjp(F, g, out, a, indices, axis):
    shape = _shape(a)
    full = np.broadcast_to(indices, tuple(g.shape))
    return F.index_add(shape, _along_axis_key(full.shape, full, axis % len(shape)), g, g.dtype), None


_TAKE_ALONG = defop("take_along_axis", lambda a, indices, axis: np.take_along_axis(_array(a), indices, axis=axis),
                    _take_along_vjp)


def take_along_axis(x: TensorLike, indices: TensorLike, axis: int | None = None) -> Tensor:
    """``x`` gathered at ``indices`` along ``axis``, position by position (NumPy's rule)."""
    idx = _array(indices).astype(np.intp, copy=False)
    if axis is None:
        return _TAKE_ALONG(reshape_flat(x), idx.reshape(-1), axis=0)
    return _TAKE_ALONG(x, idx, axis=int(axis))


def reshape_flat(x: TensorLike) -> Tensor:
    """``x`` as one dimension."""
    from .shape_ops import reshape
    return reshape(x, (-1,))


def _where(condition, a, b):
    a, b = convert.pair(a, b)
    return np.where(_array(condition), a, b)


_WHERE = defop("where", _where, lambda F, g, out, c, a, b: (None, F.where(c, g, 0), F.where(c, 0, g)))


@overload
def where(condition: TensorLike) -> tuple[Tensor, ...]: ...
@overload
def where(condition: TensorLike, x1: TensorLike, x2: TensorLike) -> Tensor: ...
def where(condition: TensorLike, x1: TensorLike = None, x2: TensorLike = None) -> Tensor | tuple[Tensor, ...]:
    """``x1`` where ``condition`` holds, else ``x2``; with only a condition, the indices where it
    holds (a tuple of int tensors, one per axis)."""
    if x1 is None and x2 is None:
        return tuple(Tensor(i.astype("int32")) for i in np.nonzero(_array(condition)))
    if x1 is None or x2 is None:
        raise ValueError("where expects both x1 and x2, or neither")
    return _WHERE(condition, x1, x2)


def select(condlist, choicelist, default: int = 0) -> Tensor:
    """Per element, the choice of the first condition that holds, else ``default``."""
    if len(condlist) != len(choicelist):
        raise ValueError(f"select: {len(condlist)} conditions for {len(choicelist)} choices")
    out: TensorLike = default
    for condition, choice in zip(reversed(condlist), reversed(choicelist)):
        out = where(condition, choice, out)
    return out if isinstance(out, Tensor) else Tensor(np.asarray(out))


def slice(inputs: TensorLike, start_indices: TensorLike, shape: int | Sequence[int]) -> Tensor:
    """The block of ``inputs`` that starts at ``start_indices`` and has ``shape``."""
    starts = [int(s) for s in convert.value(start_indices)]
    sizes = [int(s) for s in convert.value(shape)]
    return get_item(inputs, tuple(_pyslice(s, s + n) for s, n in zip(starts, sizes)))


def _region(starts, update_shape):
    return tuple(_pyslice(s, s + n) for s, n in zip(starts, update_shape))


def _slice_update(a, updates, starts):
    out = _array(a).copy()
    out[_region(starts, np.shape(updates))] = updates
    return out


def _slice_update_vjp(F, g, out, a, updates, starts):
    region = _region(starts, _shape(updates))
    mask = np.zeros(_shape(a), bool)
    mask[region] = True
    return F.where(mask, 0, g), g[region]


_SLICE_UPDATE = defop("slice_update", _slice_update, _slice_update_vjp)


def slice_update(inputs: TensorLike, start_indices: TensorLike, updates: TensorLike) -> Tensor:
    """``inputs`` with the block at ``start_indices`` replaced by ``updates``."""
    return _SLICE_UPDATE(inputs, updates, starts=tuple(int(s) for s in convert.value(start_indices)))


def _nd_key(indices):
    indices = np.asarray(indices)
    return tuple(np.moveaxis(indices, -1, 0))


def _scatter(values, indices, shape):
    values = _array(values)
    return _index_add_raw(shape, _nd_key(indices), values, values.dtype)


_SCATTER = defop("scatter", _scatter, lambda F, g, out, values, indices, shape: (g[_nd_key(indices)],))


def scatter(indices: TensorLike, values: TensorLike, shape: Sequence[int]) -> Tensor:
    """Zeros of ``shape`` with ``values`` added at ``indices`` (rows of coordinates; repeats add)."""
    return _SCATTER(values, indices=_array(indices).astype(np.intp), shape=tuple(int(d) for d in shape))


def _scatter_update(a, updates, indices):
    out = _array(a).copy()
    out[_nd_key(indices)] = updates
    return out


def _scatter_update_vjp(F, g, out, a, updates, indices):
    mask = np.zeros(_shape(a), bool)
    mask[_nd_key(indices)] = True
    return F.where(mask, 0, g), g[_nd_key(indices)]


_SCATTER_UPDATE = defop("scatter_update", _scatter_update, _scatter_update_vjp)


def scatter_update(inputs: TensorLike, indices: TensorLike, updates: TensorLike) -> Tensor:
    """``inputs`` with the elements at ``indices`` (rows of coordinates) replaced by ``updates``."""
    return _SCATTER_UPDATE(inputs, updates, indices=_array(indices).astype(np.intp))


# --- segments ----------------------------------------------------------------------------------------
def _segments(data, segment_ids, num_segments, fill, ufunc):
    data = convert.floating(data) if ufunc is not np.add and ufunc is not np.multiply else _array(data)
    n = int(num_segments) if num_segments is not None else int(np.max(segment_ids)) + 1
    out = np.full((n, *data.shape[1:]), fill, data.dtype)
    ufunc.at(out, segment_ids, data)
    return out


def _segment_sum_vjp(F, g, out, data, segment_ids, num_segments):
    return (F.take(g, segment_ids, axis=0),)


def _segment_extreme_vjp(F, g, out, data, segment_ids, num_segments):
    picked = F.take(out, segment_ids, axis=0)
    hit = F.cast(data == picked, g.dtype)
    ties = F.take(F.index_add(_shape(out), segment_ids, hit, g.dtype), segment_ids, axis=0)
    return (F.take(g, segment_ids, axis=0) * hit / ties,)


_SEGMENT_SUM = defop("segment_sum", lambda d, segment_ids, num_segments: _segments(
    d, segment_ids, num_segments, 0, np.add), _segment_sum_vjp)
_SEGMENT_MAX = defop("segment_max", lambda d, segment_ids, num_segments: _segments(
    d, segment_ids, num_segments, -np.inf, np.maximum), _segment_extreme_vjp)
_SEGMENT_MIN = defop("segment_min", lambda d, segment_ids, num_segments: _segments(
    d, segment_ids, num_segments, np.inf, np.minimum), _segment_extreme_vjp)
_SEGMENT_PROD = defop("segment_prod", lambda d, segment_ids, num_segments: _segments(
    d, segment_ids, num_segments, 1, np.multiply),
    lambda F, g, out, d, segment_ids, num_segments: (F.take(g * out, segment_ids, axis=0) / d,))


def _segment_op(prim, data, segment_ids, num_segments):
    ids = _array(segment_ids).astype(np.intp)
    return prim(data, segment_ids=ids, num_segments=num_segments)


def segment_sum(data: TensorLike, segment_ids: TensorLike, num_segments=None, sorted: bool = False) -> Tensor:
    """Per segment id, the sum of the rows of ``data`` with that id."""
    return _segment_op(_SEGMENT_SUM, data, segment_ids, num_segments)


def segment_max(data: TensorLike, segment_ids: TensorLike, num_segments=None, sorted: bool = False) -> Tensor:
    """Per segment id, the largest row of ``data`` with that id (-inf for an empty segment)."""
    return _segment_op(_SEGMENT_MAX, data, segment_ids, num_segments)


def segment_min(data: TensorLike, segment_ids: TensorLike, num_segments=None, sorted: bool = False) -> Tensor:
    """Per segment id, the smallest row of ``data`` with that id (+inf for an empty segment)."""
    return _segment_op(_SEGMENT_MIN, data, segment_ids, num_segments)


def segment_prod(data: TensorLike, segment_ids: TensorLike, num_segments=None, sorted: bool = False) -> Tensor:
    """Per segment id, the product of the rows of ``data`` with that id."""
    return _segment_op(_SEGMENT_PROD, data, segment_ids, num_segments)


# --- triangles and diagonals ------------------------------------------------------------------------
_TRIL = defop("tril", lambda a, k=0: np.tril(_array(a), k), lambda F, g, out, a, k=0: (F.tril(g, k),))
_TRIU = defop("triu", lambda a, k=0: np.triu(_array(a), k), lambda F, g, out, a, k=0: (F.triu(g, k),))


def tril(x: TensorLike, k: int = 0) -> Tensor:
    """``x`` with the elements above the ``k``-th diagonal zeroed."""
    return _TRIL(x, k=int(k))


def triu(x: TensorLike, k: int = 0) -> Tensor:
    """``x`` with the elements below the ``k``-th diagonal zeroed."""
    return _TRIU(x, k=int(k))


def _diagonal_key(shape, offset, axis1, axis2):
    n = np.diagonal(np.empty(shape, bool), offset, axis1, axis2).shape[-1]
    rows = np.arange(n) + (-offset if offset < 0 else 0)
    cols = np.arange(n) + (offset if offset > 0 else 0)
    key = [_pyslice(None)] * len(shape)
    key[axis1], key[axis2] = rows, cols
    return tuple(key)


def _diagonal_vjp(F, g, out, a, offset=0, axis1=0, axis2=1):
    shape = _shape(a)
    axis1, axis2 = axis1 % len(shape), axis2 % len(shape)
    # NumPy puts the diagonal last; the advanced index puts it where axis1 was
    first = min(axis1, axis2)
    moved = F.moveaxis(g, -1, first) if len(shape) > 2 else g
    return (F.index_add(shape, _diagonal_key(shape, offset, axis1, axis2), moved, g.dtype),)


_DIAGONAL = defop("diagonal", lambda a, offset=0, axis1=0, axis2=1: np.diagonal(_array(a), offset, axis1, axis2).copy(),
                  _diagonal_vjp)


def diagonal(x: TensorLike, offset: TensorLike = 0, axis1: int = 0,
             axis2: int = 1) -> Tensor:
    """The ``offset``-th diagonal of ``x`` over ``axis1`` and ``axis2`` (as the last axis)."""
    return _DIAGONAL(x, offset=int(offset), axis1=int(axis1), axis2=int(axis2))


_DIAG_EMBED = defop("diag", lambda a, k=0: np.diag(_array(a), k), lambda F, g, out, a, k=0: (F.diagonal(g, k),))


def diag(x: TensorLike, k: int = 0) -> Tensor:
    """A 1-D ``x`` as a matrix with it on the ``k``-th diagonal; a 2-D ``x``'s ``k``-th diagonal."""
    if _array(x).ndim == 1:
        return _DIAG_EMBED(x, k=int(k))
    if _array(x).ndim != 2:
        raise ValueError(f"diag expects a 1-D or 2-D tensor, got shape {_array(x).shape}")
    return diagonal(x, k)


def diagflat(x: TensorLike, k: int = 0) -> Tensor:
    """``x`` flattened, as the ``k``-th diagonal of a matrix."""
    return diag(reshape_flat(x), k)


def trace(x: TensorLike, offset: TensorLike = 0, axis1: int = 0,
          axis2: int = 1) -> Tensor:
    """The sum along the ``offset``-th diagonal."""
    from .reductions import sum as reduce_sum
    return reduce_sum(diagonal(x, offset, axis1, axis2), axis=-1)


# sorting, searching and counting live in their own module; their old path stays
from .sorting import (argpartition, argsort, bincount, digitize, histogram, in_top_k, isin,  # noqa: E402, F401
                      nonzero, searchsorted, sort, top_k, unique, unravel_index)
