"""TensorFlow's shape and indexing names: ``shape``, ``reshape``, ``concat``, ``split``, ``gather``,
``where``, ``boolean_mask``... with TensorFlow's argument names and rules, on ``lamina.ops``
(so a ``GradientTape`` differentiates them).

>>> import lamina as tf
>>> x = tf.reshape(tf.range(6), [2, 3])
>>> tf.shape(x).numpy().tolist(), int(tf.rank(x)), int(tf.size(x))
([2, 3], 2, 6)
>>> [part.shape for part in tf.split(x, [1, -1], axis=1)]
[(2, 1), (2, 2)]
>>> tf.gather(x, [2, 0], axis=1).numpy().tolist()
[[2, 0], [5, 3]]
"""
from __future__ import annotations

import numpy as np

from .. import ops
from ..ops.dtypes import standardize_dtype
from ..ops.tensor import Tensor
from ._convert import axes, int_list, tensor
from .errors import invalid_argument

newaxis = None


def shape(input, out_type="int32", name=None) -> Tensor:  # noqa: A002  (TensorFlow's argument names)
    """The shape of ``input`` as a 1-D int32 tensor (``x.shape`` gives the tuple)."""
    return Tensor(np.asarray(tensor(input).shape, standardize_dtype(out_type)))


def size(input, out_type="int32", name=None) -> Tensor:  # noqa: A002
    """The number of elements of ``input``, as an int32 scalar tensor."""
    return Tensor(np.asarray(tensor(input).size, standardize_dtype(out_type)))


def rank(input, name=None) -> Tensor:  # noqa: A002
    """The number of axes of ``input``, as an int32 scalar tensor."""
    return Tensor(np.asarray(tensor(input).ndim, np.int32))


def reshape(tensor_, shape, name=None) -> Tensor:
    """``tensor`` with the same elements in ``shape`` (one entry may be -1; entries may be scalar tensors)."""
    x, target = tensor(tensor_), int_list(shape, "shape", "reshape")
    if isinstance(x, Tensor):  # a symbolic input's size is unknown; its layer checks at run time
        _check_reshape(x.size, target)
    return ops.reshape(x, target)


def _check_reshape(size: int, target: tuple) -> None:
    """TensorFlow's InvalidArgumentError (and its words) for a shape that cannot hold ``size`` values."""
    if target.count(-1) > 1:
        raise invalid_argument(f"reshape: only one entry of the shape {list(target)} may be -1 [Op:Reshape]")
    known = int(np.prod([d for d in target if d != -1]))
    fits = size == known if -1 not in target else size == 0 or (known > 0 and size % known == 0)
    if not fits:
        wanted = f"a multiple of {known}" if -1 in target else f"{known} values"
        raise invalid_argument(f"Input to reshape is a tensor with {size} values, but the requested shape "
                               f"{list(target)} requires {wanted} [Op:Reshape]")


def transpose(a, perm=None, conjugate=False, name=None) -> Tensor:
    """``a`` with its axes in the order ``perm`` (reversed when None)."""
    return ops.transpose(tensor(a), None if perm is None else int_list(perm, "perm", "transpose"))


def concat(values, axis, name=None) -> Tensor:
    """``values`` (a list of tensors) joined along ``axis``."""
    return ops.concatenate([tensor(v) for v in _as_list(values, "concat")], axis=int(axis))


def stack(values, axis=0, name=None) -> Tensor:
    """``values`` (a list of same-shape tensors) stacked along a new ``axis``."""
    return ops.stack([tensor(v) for v in _as_list(values, "stack")], axis=int(axis))


def unstack(value, num=None, axis=0, name=None) -> list:
    """The slices of ``value`` along ``axis``, as a list of tensors."""
    return ops.unstack(tensor(value), num=num, axis=int(axis))


def _as_list(values, op: str) -> list:
    if isinstance(values, Tensor):
        return list(values)
    if not isinstance(values, (list, tuple)):
        raise TypeError(f"{op} expects a list of tensors, got {type(values).__name__}")
    return list(values)


def split(value, num_or_size_splits, axis=0, num=None, name=None) -> list:
    """``value`` cut along ``axis``: into ``num_or_size_splits`` equal parts (an int, which must divide
    the axis), or into parts of the listed sizes (one size may be -1: the rest)."""
    x = tensor(value)
    axis = int(axis)
    length = x.shape[axis]
    if isinstance(num_or_size_splits, (int, np.integer)) or (isinstance(num_or_size_splits, Tensor)
                                                             and num_or_size_splits.ndim == 0):
        parts = int(num_or_size_splits)
        if parts <= 0 or length % parts:
            raise ValueError(f"split: axis {axis} has length {length}, which {parts} equal parts do not divide; pass "
                             "a list of sizes instead (for example [2, -1])")
        return ops.split(x, parts, axis=axis)
    sizes = list(int_list(num_or_size_splits, "num_or_size_splits", "split"))
    if sizes.count(-1) > 1:
        raise ValueError(f"split: at most one size may be -1, got {sizes}")
    if -1 in sizes:
        sizes[sizes.index(-1)] = length - (sum(sizes) + 1)
    if any(s < 0 for s in sizes) or sum(sizes) != length:
        raise ValueError(f"split: sizes {list(num_or_size_splits)} do not add up to the length {length} of axis "
                         f"{axis}")
    if num is not None and int(num) != len(sizes):
        raise ValueError(f"split: num={num} but {len(sizes)} sizes were given")
    return ops.split(x, np.cumsum(sizes)[:-1].tolist(), axis=axis)


def squeeze(input, axis=None, name=None) -> Tensor:  # noqa: A002
    """``input`` without its size-1 axes (only those in ``axis`` when given, which must have size 1)."""
    x = tensor(input)
    wanted = axes(axis)
    for a in (wanted,) if isinstance(wanted, int) else (wanted or ()):
        if not -x.ndim <= a < x.ndim or x.shape[a] != 1:
            raise ValueError(f"squeeze: axis {a} of a tensor of shape {x.shape} does not have size 1")
    return ops.squeeze(x, wanted)


def expand_dims(input, axis, name=None) -> Tensor:  # noqa: A002
    """``input`` with a new axis of size 1 at ``axis``."""
    return ops.expand_dims(tensor(input), int(axis))


def _check_indices(index: np.ndarray, limit: int, op: str, axis: int) -> None:
    if index.dtype.kind not in "iu":
        raise TypeError(f"{op} expects integer indices, got dtype {index.dtype}")
    if index.size and (index.min() < 0 or index.max() >= limit):
        bad = index[(index < 0) | (index >= limit)].flat[0]
        raise ValueError(f"{op}: index {bad} is out of range [0, {limit}) on axis {axis} (TensorFlow refuses "
                         "negative and too-large indices on the CPU)")


def gather(params, indices, validate_indices=None, axis=None, batch_dims=0, name=None) -> Tensor:
    """Slices of ``params`` along ``axis`` (``batch_dims`` by default) at ``indices``.

    The output's shape is ``params.shape[:axis] + indices.shape[batch_dims:] + params.shape[axis+1:]``;
    the first ``batch_dims`` axes of ``params`` and ``indices`` are a batch, gathered row by row."""
    p, index = tensor(params), tensor(indices)._value
    batch = int(batch_dims) + (index.ndim if int(batch_dims) < 0 else 0)
    axis = batch if axis is None else int(axis) + (p.ndim if int(axis) < 0 else 0)
    if not 0 <= batch <= min(axis, index.ndim) or axis >= p.ndim:
        raise ValueError(f"gather: batch_dims={batch_dims} and axis={axis} do not fit params of shape {p.shape} and "
                         f"indices of shape {index.shape} (need batch_dims <= axis < params.ndim)")
    if p.shape[:batch] != index.shape[:batch]:
        raise ValueError(f"gather: the first batch_dims={batch} axes of params {p.shape} and indices {index.shape} "
                         "must match")
    _check_indices(index, p.shape[axis], "gather", axis)
    if batch == 0:
        return ops.take(p, index, axis=axis)
    moved = ops.moveaxis(p, axis, batch)  # batch + [N] + params[batch:axis] + params[axis+1:]
    key = tuple(np.arange(n).reshape((1,) * i + (n,) + (1,) * (index.ndim - i - 1))
                for i, n in enumerate(index.shape[:batch])) + (index,)
    out = ops.get_item(moved, key)  # batch + indices[batch:] + params[batch:axis] + params[axis+1:]
    n_index, n_middle = index.ndim - batch, axis - batch
    order = (list(range(batch)) + list(range(batch + n_index, batch + n_index + n_middle))
             + list(range(batch, batch + n_index)) + list(range(batch + n_index + n_middle, out.ndim)))
    return ops.transpose(out, order)


def gather_nd(params, indices, batch_dims=0, name=None) -> Tensor:
    """``params`` at the index tuples in the last axis of ``indices`` (after ``batch_dims`` batch axes)."""
    p, index = tensor(params), tensor(indices)._value
    batch, depth = int(batch_dims), index.shape[-1]
    if batch + depth > p.ndim or p.shape[:batch] != index.shape[:batch]:
        raise ValueError(f"gather_nd: indices of shape {index.shape} (batch_dims={batch}) do not fit params of shape "
                         f"{p.shape}")
    for k in range(depth):
        _check_indices(index[..., k], p.shape[batch + k], "gather_nd", batch + k)
    lead = index.ndim - 1
    key = tuple(np.arange(n).reshape((1,) * i + (n,) + (1,) * (lead - i - 1))
                for i, n in enumerate(index.shape[:batch]))
    return ops.get_item(p, key + tuple(index[..., k] for k in range(depth)))


def where(condition, x=None, y=None, name=None) -> Tensor:
    """``x`` where ``condition`` holds, else ``y`` (broadcast); with only ``condition``, the
    coordinates of its true elements as an int64 tensor of shape ``(count, rank)``."""
    if x is None and y is None:
        return Tensor(np.argwhere(np.asarray(tensor(condition)._value, bool)).astype(np.int64))
    if x is None or y is None:
        raise ValueError("where expects both x and y, or neither")
    return ops.where(tensor(condition), _operand(x), _operand(y))


def _operand(x):
    return x if isinstance(x, (Tensor, int, float)) else tensor(x)


def boolean_mask(tensor_, mask, axis=None, name=None) -> Tensor:
    """The entries of ``tensor`` where ``mask`` (a boolean tensor over its axes from ``axis``, 0 by
    default) is true, flattened over the masked axes."""
    x, flags = tensor(tensor_), np.asarray(tensor(mask)._value)
    start = 0 if axis is None else int(axis) % x.ndim
    if flags.dtype != bool or x.shape[start:start + flags.ndim] != flags.shape:
        raise ValueError(f"boolean_mask: mask of shape {flags.shape} and dtype {flags.dtype} must be bool and match "
                         f"the axes from {start} of a tensor of shape {x.shape}")
    return ops.get_item(x, (slice(None),) * start + tuple(np.nonzero(flags)))


def reverse(tensor_, axis, name=None) -> Tensor:
    """``tensor`` with the order of each axis in ``axis`` (a list) reversed."""
    return ops.flip(tensor(tensor_), axes(axis))


def tile(input, multiples, name=None) -> Tensor:  # noqa: A002
    """``input`` repeated ``multiples[i]`` times along each axis ``i``."""
    return ops.tile(tensor(input), int_list(multiples, "multiples", "tile"))


def broadcast_to(input, shape, name=None) -> Tensor:  # noqa: A002
    """``input`` broadcast to ``shape``."""
    return ops.broadcast_to(tensor(input), int_list(shape, "shape", "broadcast_to"))


def pad(tensor_, paddings, mode="CONSTANT", constant_values=0, name=None) -> Tensor:
    """``tensor`` padded by ``paddings[i] = [before, after]`` on each axis; ``mode`` is ``"CONSTANT"``,
    ``"REFLECT"`` or ``"SYMMETRIC"``."""
    modes = {"CONSTANT": "constant", "REFLECT": "reflect", "SYMMETRIC": "symmetric"}
    if str(mode).upper() not in modes:
        raise ValueError(f"pad: mode must be one of {list(modes)}, got {mode!r}")
    widths = np.asarray(tensor(paddings)._value, np.int64).tolist()
    chosen = modes[str(mode).upper()]
    return ops.pad(tensor(tensor_), widths, chosen, constant_values if chosen == "constant" else None)


def repeat(input, repeats, axis=None, name=None) -> Tensor:  # noqa: A002
    """Each element of ``input`` repeated ``repeats`` times along ``axis`` (of the flattened input if None)."""
    return ops.repeat(tensor(input), repeats, axis)


def roll(input, shift, axis, name=None) -> Tensor:  # noqa: A002
    """``input`` shifted by ``shift`` along ``axis``, wrapping around."""
    return ops.roll(tensor(input), shift, axis)


def sort(values, axis=-1, direction="ASCENDING", name=None) -> Tensor:
    """``values`` sorted along ``axis``; ``direction`` is ``"ASCENDING"`` or ``"DESCENDING"``."""
    return ops.take_along_axis(tensor(values), argsort(values, axis, direction), axis=int(axis))


def argsort(values, axis=-1, direction="ASCENDING", stable=False, name=None) -> Tensor:
    """The int32 indices that sort ``values`` along ``axis`` (ties keep their order)."""
    if direction not in ("ASCENDING", "DESCENDING"):
        raise ValueError(f"argsort: direction must be 'ASCENDING' or 'DESCENDING', got {direction!r}")
    raw = tensor(values)._value
    if direction == "DESCENDING":  # negated in float64 (exact for ints below 2**53): ties keep their order
        raw = -raw.astype(np.float64)
    order = np.argsort(raw, axis=int(axis), kind="stable")
    return Tensor(order.astype(np.int32))
