"""Sorting, searching and counting: ``sort``, ``argsort``, ``top_k``, ``in_top_k``,
``searchsorted``, ``unique``, ``bincount``, ``histogram`` and the other integer-valued ops.

Only ``sort`` and ``top_k`` have a gradient: a scatter-add of the cotangent back to where
each value came from (``index_add`` in lamina.ops.indexing, which re-exports this module).
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from . import convert
from .primitive import defop
from .tensor import Tensor, TensorLike

_array = convert.array


# --- sorting ---------------------------------------------------------------------------------------
def _sort_vjp(F, g, out, a, axis=-1):
    from .indexing import _along_axis_key  # indexing re-exports this module: imported when used
    raw = a._value if isinstance(a, Tensor) else np.asarray(a)
    order = np.argsort(raw, axis=axis, kind="stable")
    return (F.index_add(raw.shape, _along_axis_key(order.shape, order, axis % raw.ndim), g, g.dtype),)


_SORT = defop("sort", lambda a, axis=-1: np.sort(_array(a), axis=axis, kind="stable"), _sort_vjp)


def sort(x: TensorLike, axis: int = -1) -> Tensor:
    """``x`` sorted along ``axis`` (ascending)."""
    return _SORT(x, axis=int(axis))


def argsort(x: TensorLike, axis: int | None = -1) -> Tensor:
    """The indices that sort ``x`` along ``axis`` (stable), as int32."""
    return Tensor(np.argsort(_array(x), axis=axis, kind="stable").astype("int32"))


def argpartition(x: TensorLike, kth, axis: int = -1) -> Tensor:
    """Indices that partition ``x`` around its ``kth`` element along ``axis``."""
    return Tensor(np.argpartition(_array(x), kth, axis=axis).astype("int32"))


def _top_k(a, k, sorted=True):
    a = _array(a)
    order = np.argsort(-a, axis=-1, kind="stable")[..., :k]
    return np.take_along_axis(a, order, axis=-1), order.astype("int32")


def _top_k_vjp(F, g, out, a, k, sorted=True):
    from .indexing import _along_axis_key
    g_values, indices = g[0], (out[1]._value if isinstance(out[1], Tensor) else out[1])
    shape = a.shape if isinstance(a, Tensor) else np.shape(a)
    return (F.index_add(shape, _along_axis_key(indices.shape, indices, len(shape) - 1), g_values, g_values.dtype),)


_TOP_K = defop("top_k", _top_k, _top_k_vjp, multi_output=True)


def top_k(x: TensorLike, k, sorted: bool = True) -> tuple[Tensor, ...]:
    """The ``k`` largest values along the last axis and their indices, largest first."""
    return _TOP_K(x, k=int(k), sorted=sorted)


def in_top_k(targets: TensorLike, predictions: TensorLike, k) -> Tensor:
    """Whether each target's prediction is among the ``k`` largest of its row (ties count in)."""
    p = _array(predictions)
    t = _array(targets).astype(np.intp).reshape(-1)
    target_scores = p[np.arange(len(t)), t]
    return Tensor(np.sum(p > target_scores[:, None], axis=-1) < k)


# --- integer-valued (no gradient) -----------------------------------------------------------------
def nonzero(x: TensorLike) -> tuple[Tensor, ...]:
    """The indices of the non-zero elements, one int32 tensor per axis."""
    return tuple(Tensor(i.astype("int32")) for i in np.nonzero(_array(x)))


def searchsorted(sorted_sequence: TensorLike, values: TensorLike, side: str = "left") -> Tensor:
    """Where each of ``values`` would go in the sorted 1-D ``sorted_sequence`` to keep it sorted."""
    found = np.searchsorted(_array(sorted_sequence), _array(values), side=side)  # type: ignore[call-overload]
    return Tensor(found.astype("int32"))


def digitize(x: TensorLike, bins: TensorLike) -> Tensor:
    """The index of the bin each element of ``x`` falls in."""
    return Tensor(np.digitize(_array(x), _array(bins)).astype("int32"))


def bincount(x: TensorLike, weights: TensorLike = None, minlength: int = 0, sparse: bool = False) -> Tensor:
    """How many times each non-negative integer occurs in ``x`` (weighted by ``weights``)."""
    if sparse:
        raise ValueError("bincount(sparse=True) is not supported: lamina has no sparse tensors")
    w = None if weights is None else _array(weights)
    out = np.bincount(_array(x).astype(np.intp).reshape(-1), w, minlength)
    return Tensor(out if w is not None else out.astype("int32"))


def unravel_index(indices: TensorLike, shape: Sequence[int]) -> tuple[Tensor, ...]:
    """The coordinates of flat ``indices`` in an array of ``shape``."""
    return tuple(Tensor(i.astype("int32")) for i in np.unravel_index(_array(indices), tuple(shape)))


def isin(x1: TensorLike, x2: TensorLike, assume_unique: bool = False, invert: bool = False) -> Tensor:
    """Whether each element of ``x1`` occurs in ``x2``."""
    return Tensor(np.isin(_array(x1), _array(x2), assume_unique=assume_unique, invert=invert))


def histogram(x: TensorLike, bins: TensorLike = 10, range=None) -> tuple[Tensor, ...]:
    """The counts of ``x`` in ``bins`` equal bins over ``range`` (default: min to max), and the edges."""
    counts, edges = np.histogram(_array(x), bins=bins, range=range)
    return Tensor(counts.astype("int32")), Tensor(edges.astype(convert.floating(x).dtype))


def unique(x: TensorLike, sorted: bool = True, return_inverse: bool = False, return_counts: bool = False,
           axis: int | None = None, size=None, fill_value: TensorLike = None) -> Tensor | tuple[Tensor, ...]:
    """The distinct values of ``x`` (optionally their inverse indices and counts)."""
    found = np.unique(_array(x), return_inverse=return_inverse, return_counts=return_counts,  # type: ignore[call-overload]
                      axis=axis)
    if not (return_inverse or return_counts):
        return Tensor(found)
    return tuple(Tensor(f) for f in found)
