"""Shape ops: ``reshape``, ``transpose``, ``concatenate``, ``stack``, ``split``, ``tile``, ``pad``...

Most VJPs put the gradient back into the input's layout; ``broadcast_to``'s is the identity
(the tape sums a gradient back to a broadcast input's shape by itself).
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from . import convert
from .primitive import defop
from .tensor import Tensor, TensorLike

_array = convert.array


def _shape_arg(shape) -> tuple:
    if isinstance(shape, Tensor):
        shape = shape._value.tolist()
    if isinstance(shape, (int, np.integer)):
        return (int(shape),)
    return tuple(-1 if d is None else int(d) for d in shape)


def _shape(a):
    return a.shape if isinstance(a, Tensor) else np.shape(a)


_RESHAPE = defop("reshape", lambda a, newshape: np.reshape(_array(a), newshape),
                 lambda F, g, out, a, newshape: (F.reshape(g, _shape(a)),))


def reshape(x: TensorLike, newshape) -> Tensor:
    """``x`` with the same elements in ``newshape`` (one dimension may be -1 or None)."""
    return _RESHAPE(x, newshape=_shape_arg(newshape))


def _transpose_vjp(F, g, out, a, axes=None):
    if axes is None:
        return (F.transpose(g),)
    return (F.transpose(g, tuple(int(i) for i in np.argsort(axes))),)


_TRANSPOSE = defop("transpose", lambda a, axes=None: np.transpose(_array(a), axes), _transpose_vjp)


def transpose(x: TensorLike, axes: Sequence[int] | None = None) -> Tensor:
    """``x`` with its axes permuted (reversed by default)."""
    return _TRANSPOSE(x, axes=None if axes is None else tuple(int(a) for a in axes))


def expand_dims(x: TensorLike, axis: int | Sequence[int] | None) -> Tensor:
    """``x`` with a new axis (or axes) of length 1 at ``axis``."""
    a = _array(x)
    return reshape(x, np.expand_dims(np.empty(a.shape, np.bool_), convert.axis_arg(axis)).shape)


def squeeze(x: TensorLike, axis: int | Sequence[int] | None = None) -> Tensor:
    """``x`` without its length-1 axes (only those in ``axis`` when given)."""
    a = _array(x)
    return reshape(x, np.squeeze(np.empty(a.shape, np.bool_), convert.axis_arg(axis)).shape)


def ravel(x: TensorLike) -> Tensor:
    """``x`` as one dimension."""
    return reshape(x, (-1,))


_BROADCAST = defop("broadcast_to", lambda a, shape: np.broadcast_to(_array(a), shape),
                   lambda F, g, out, a, shape: (g,))


def broadcast_to(x: TensorLike, shape: int | Sequence[int]) -> Tensor:
    """``x`` stretched to ``shape`` by NumPy's broadcasting rules."""
    return _BROADCAST(x, shape=_shape_arg(shape))


def _swapaxes_vjp(F, g, out, a, axis1, axis2):
    return (F.swapaxes(g, axis1, axis2),)


_SWAPAXES = defop("swapaxes", lambda a, axis1, axis2: np.swapaxes(_array(a), axis1, axis2), _swapaxes_vjp)


def swapaxes(x: TensorLike, axis1: int, axis2: int) -> Tensor:
    """``x`` with two axes exchanged."""
    return _SWAPAXES(x, axis1=int(axis1), axis2=int(axis2))


def moveaxis(x: TensorLike, source: int | Sequence[int] | None, destination: int | Sequence[int] | None) -> Tensor:
    """``x`` with axes moved from ``source`` to ``destination`` (ints or sequences)."""
    ndim = _array(x).ndim
    src = [a % ndim for a in np.atleast_1d(convert.value(source)).tolist()]
    dst = [a % ndim for a in np.atleast_1d(convert.value(destination)).tolist()]
    if len(src) != len(dst):
        raise ValueError(f"moveaxis: source {source} and destination {destination} differ in length")
    order = [n for n in range(ndim) if n not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return transpose(x, order)


def _concat(*arrays, axis=0):
    arrays = [_array(a) for a in arrays]
    dtype = np.result_type(*arrays) if len({a.dtype for a in arrays}) > 1 else arrays[0].dtype
    if dtype.kind != "f" and any(a.dtype.kind == "f" for a in arrays):
        dtype = next(a.dtype for a in arrays if a.dtype.kind == "f")
    return np.concatenate([a.astype(dtype, copy=False) for a in arrays], axis=axis)


def _concat_vjp(F, g, out, *arrays, axis=0):
    sizes = [(_shape(a)[axis] if _shape(a) else 1) for a in arrays]
    cuts = np.cumsum(sizes)[:-1].tolist()
    return tuple(F.split(g, cuts, axis=axis))


_CONCAT = defop("concatenate", _concat, _concat_vjp)


def concatenate(xs: Sequence[TensorLike], axis: int = 0) -> Tensor:
    """The tensors ``xs`` joined along an existing ``axis``."""
    if not isinstance(xs, (list, tuple)) or not xs:
        raise ValueError(f"concatenate expects a non-empty list of tensors, got {xs!r}")
    if axis is None:
        return _CONCAT(*[ravel(x) for x in xs], axis=0)
    return _CONCAT(*xs, axis=int(axis))


def append(x1: TensorLike, x2: TensorLike, axis: int | None = None) -> Tensor:
    """``x2`` appended after ``x1`` along ``axis`` (both flattened when None)."""
    if axis is None:
        return concatenate([ravel(x1), ravel(x2)], axis=0)
    return concatenate([x1, x2], axis=axis)


def _stack_vjp(F, g, out, *arrays, axis=0):
    return tuple(F.take(g, i, axis=axis) for i in range(len(arrays)))


_STACK = defop("stack", lambda *arrays, axis=0: np.stack([_array(a) for a in arrays], axis=axis), _stack_vjp)


def stack(x: TensorLike, axis: int = 0) -> Tensor:
    """The tensors ``x`` (same shape) joined along a new ``axis``."""
    if not isinstance(x, (list, tuple)) or not x:
        raise ValueError(f"stack expects a non-empty list of tensors, got {x!r}")
    return _STACK(*x, axis=int(axis))


def hstack(xs: Sequence[TensorLike]) -> Tensor:
    """Join along the second axis (the first for 1-D tensors)."""
    return concatenate(xs, axis=0 if _array(xs[0]).ndim == 1 else 1)


def vstack(xs: Sequence[TensorLike]) -> Tensor:
    """Join along the first axis, 1-D tensors as rows."""
    return concatenate([reshape(x, (1, -1)) if _array(x).ndim == 1 else x for x in xs], axis=0)


def dstack(xs: Sequence[TensorLike]) -> Tensor:
    """Join along the third axis (tensors made at least 3-D)."""
    def as3d(x):
        shape = _array(x).shape
        return reshape(x, (1, shape[0], 1) if len(shape) == 1 else (*shape, 1) if len(shape) == 2 else shape)
    return concatenate([as3d(x) for x in xs], axis=2)


def _split(a, indices_or_sections, axis=0):
    return tuple(np.split(_array(a), indices_or_sections, axis=axis))


def _split_vjp(F, g, out, a, indices_or_sections, axis=0):
    return (F.concatenate(list(g), axis=axis),)


_SPLIT = defop("split", _split, _split_vjp, multi_output=True)
_ARRAY_SPLIT = defop("array_split", lambda a, indices_or_sections, axis=0: tuple(
    np.array_split(_array(a), indices_or_sections, axis=axis)), _split_vjp, multi_output=True)


def _sections(value):
    return int(value) if isinstance(value, (int, np.integer)) else [int(i) for i in convert.value(value)]


def split(x: TensorLike, indices_or_sections, axis: int = 0) -> list[Tensor]:
    """``x`` cut along ``axis`` into equal sections, or at the given indices (a list of tensors)."""
    return list(_SPLIT(x, indices_or_sections=_sections(indices_or_sections), axis=int(axis)))


def array_split(x: TensorLike, indices_or_sections, axis: int = 0) -> list[Tensor]:
    """Like ``split``, but the sections may differ in size by one."""
    return list(_ARRAY_SPLIT(x, indices_or_sections=_sections(indices_or_sections), axis=int(axis)))


def hsplit(x: TensorLike, indices_or_sections) -> list[Tensor]:
    """``split`` along the second axis (the first for 1-D)."""
    return split(x, indices_or_sections, axis=0 if _array(x).ndim == 1 else 1)


def vsplit(x: TensorLike, indices_or_sections) -> list[Tensor]:
    """``split`` along the first axis."""
    return split(x, indices_or_sections, axis=0)


def dsplit(x: TensorLike, indices_or_sections) -> list[Tensor]:
    """``split`` along the third axis."""
    return split(x, indices_or_sections, axis=2)


def unstack(x: TensorLike, num=None, axis: int = 0) -> list[Tensor]:
    """The slices of ``x`` along ``axis``, as a list of tensors."""
    a = _array(x)
    n = a.shape[axis]
    if num is not None and num != n:
        raise ValueError(f"unstack: num={num} does not match the length {n} of axis {axis}")
    from .indexing import take
    return [take(x, i, axis=axis) for i in range(n)]


def _tile_vjp(F, g, out, a, repeats):
    shape = _shape(a)
    reps = (1,) * (len(out.shape) - len(repeats)) + tuple(repeats)
    full = (1,) * (len(out.shape) - len(shape)) + tuple(shape)
    interleaved = [d for pair in zip(reps, full) for d in pair]
    summed = F.sum(F.reshape(g, interleaved), axis=tuple(range(0, len(interleaved), 2)))
    return (F.reshape(summed, shape),)


_TILE = defop("tile", lambda a, repeats: np.tile(_array(a), repeats), _tile_vjp)


def tile(x: TensorLike, repeats: TensorLike) -> Tensor:
    """``x`` repeated ``repeats`` times along each axis."""
    reps = (int(repeats),) if isinstance(repeats, (int, np.integer)) else tuple(int(r) for r in convert.value(repeats))
    return _TILE(x, repeats=reps)


def _repeat_vjp(F, g, out, a, repeats, axis=None):
    shape = _shape(a)
    if axis is None:
        flat_len = int(np.prod(shape)) if shape else 1
        axis_len, ax = flat_len, 0
    else:
        ax = axis % len(shape)
        axis_len = shape[ax]
    if isinstance(repeats, int):
        moved = F.moveaxis(g, ax, 0)
        summed = F.sum(F.reshape(moved, (axis_len, repeats, *moved.shape[1:])), axis=1)
        return (F.reshape(F.moveaxis(summed, 0, ax), shape),)
    segments = np.repeat(np.arange(axis_len), repeats)
    moved = F.moveaxis(g, ax, 0)
    summed = F.index_add((axis_len, *moved.shape[1:]), segments, moved, g.dtype)
    return (F.reshape(F.moveaxis(summed, 0, ax), shape),)


_REPEAT = defop("repeat", lambda a, repeats, axis=None: np.repeat(_array(a), repeats, axis=axis), _repeat_vjp)


def repeat(x: TensorLike, repeats: TensorLike, axis: int | None = None) -> Tensor:
    """Each element of ``x`` repeated ``repeats`` times along ``axis`` (flattened when None)."""
    reps = int(repeats) if isinstance(repeats, (int, np.integer)) else [int(r) for r in convert.value(repeats)]
    return _REPEAT(x, repeats=reps, axis=None if axis is None else int(axis))


_FLIP = defop("flip", lambda a, axis=None: np.flip(_array(a), axis), lambda F, g, out, a, axis=None: (F.flip(g, axis),))


def flip(x: TensorLike, axis: int | Sequence[int] | None = None) -> Tensor:
    """``x`` with the order of elements reversed along ``axis`` (all axes when None)."""
    return _FLIP(x, axis=convert.axis_arg(axis))


def fliplr(x: TensorLike) -> Tensor:
    """``flip`` along the second axis."""
    return flip(x, 1)


def flipud(x: TensorLike) -> Tensor:
    """``flip`` along the first axis."""
    return flip(x, 0)


def _roll_vjp(F, g, out, a, shift, axis=None):
    back = -shift if isinstance(shift, int) else tuple(-s for s in shift)
    return (F.roll(g, back, axis),)


_ROLL = defop("roll", lambda a, shift, axis=None: np.roll(_array(a), shift, axis), _roll_vjp)


def roll(x: TensorLike, shift, axis: int | Sequence[int] | None = None) -> Tensor:
    """``x`` with elements shifted by ``shift`` along ``axis`` (flattened when None), wrapping around."""
    shift = int(shift) if isinstance(shift, (int, np.integer)) else tuple(int(s) for s in convert.value(shift))
    return _ROLL(x, shift=shift, axis=convert.axis_arg(axis))


def rot90(array: TensorLike, k: int = 1, axes: Sequence[int] = (0, 1)) -> Tensor:
    """``array`` rotated by 90 degrees ``k`` times in the plane of ``axes``."""
    k = int(k) % 4
    a1, a2 = (int(a) for a in axes)
    out = array
    for _ in range(k):
        out = swapaxes(flip(out, a2), a1, a2)
    return out


def _pad_map(shape, pad_width, mode):
    """For each padded position, the flat index of the input element it copies (-1: a constant)."""
    index = np.arange(int(np.prod(shape))).reshape(shape)
    if mode == "constant":
        return np.pad(index, pad_width, mode="constant", constant_values=-1)
    return np.pad(index, pad_width, mode=mode)


def _pad(a, pad_width, mode="constant", constant_values=None):
    a = _array(a)
    if mode == "constant":
        return np.pad(a, pad_width, mode="constant", constant_values=0 if constant_values is None else constant_values)
    return np.pad(a, pad_width, mode=mode)


def _pad_vjp(F, g, out, a, pad_width, mode="constant", constant_values=None):
    shape = _shape(a)
    if mode == "constant":
        key = tuple(slice(before, before + d) for (before, _), d in zip(pad_width, shape))
        return (g[key],)
    source = _pad_map(shape, pad_width, mode).reshape(-1)
    flat = F.index_add((int(np.prod(shape)),), source, F.reshape(g, (-1,)), g.dtype)
    return (F.reshape(flat, shape),)


_PAD = defop("pad", _pad, _pad_vjp)
_PAD_MODES = ("constant", "edge", "reflect", "symmetric", "wrap")


def pad(x: TensorLike, pad_width, mode: str = "constant", constant_values=None) -> Tensor:
    """``x`` padded by ``pad_width`` ((before, after) per axis) in one of the modes constant,
    edge, reflect, symmetric or wrap."""
    if mode not in _PAD_MODES:
        raise ValueError(f"pad mode must be one of {_PAD_MODES}, got {mode!r}")
    ndim = _array(x).ndim
    width = np.broadcast_to(np.asarray(convert.value(pad_width), np.int64), (ndim, 2))
    return _PAD(x, pad_width=tuple((int(b), int(e)) for b, e in width), mode=mode, constant_values=constant_values)
