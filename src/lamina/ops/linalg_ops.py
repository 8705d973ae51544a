"""Products: ``matmul``, ``dot``, ``tensordot``, ``einsum``, ``outer``, ``inner``, ``kron``,
``cross``, and the norms and distances built from them."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from . import convert
from .primitive import defop
from .tensor import Tensor, TensorLike

_pair = convert.pair


def _shape(a):
    return a.shape if isinstance(a, Tensor) else np.shape(a)


def _swap_last(F, x):
    return F.swapaxes(x, -1, -2)


def _matmul_vjp(F, g, out, a, b, needs=(True, True)):
    a_nd, b_nd = len(_shape(a)), len(_shape(b))
    if a_nd >= 2 and b_nd >= 2:
        return (F.matmul(g, _swap_last(F, b)) if needs[0] else None,
                F.matmul(_swap_last(F, a), g) if needs[1] else None)
    if a_nd == 1 and b_nd == 1:
        return g * b, g * a
    if a_nd == 1:  # (k,) @ (..., k, n) -> (..., n); the tape sums the batch axes back
        ga = F.squeeze(F.matmul(F.expand_dims(g, -2), _swap_last(F, b)), -2)
        return ga, F.matmul(F.expand_dims(a, -1), F.expand_dims(g, -2))
    if b_nd == 1:  # (..., m, k) @ (k,) -> (..., m)
        gb = F.squeeze(F.matmul(_swap_last(F, a), F.expand_dims(g, -1)), -1)
        return F.matmul(F.expand_dims(g, -1), F.expand_dims(b, -2)), gb
    return F.matmul(g, _swap_last(F, b)), F.matmul(_swap_last(F, a), g)


_MATMUL = defop("matmul", lambda a, b: np.matmul(*_pair(a, b)), _matmul_vjp, takes_needs=True)


def matmul(x1: TensorLike, x2: TensorLike) -> Tensor:
    """The matrix product ``x1 @ x2`` (batched over leading axes, NumPy's rules for 1-D)."""
    return _MATMUL(x1, x2)


def _normalize_axes(axes, a_ndim, b_ndim):
    if isinstance(axes, (int, np.integer)):
        n = int(axes)
        return tuple(range(a_ndim - n, a_ndim)), tuple(range(n))
    first, second = axes
    first = (first,) if isinstance(first, (int, np.integer)) else tuple(first)
    second = (second,) if isinstance(second, (int, np.integer)) else tuple(second)
    return tuple(int(i) % a_ndim for i in first), tuple(int(i) % b_ndim for i in second)


def _tensordot_vjp(F, g, out, a, b, axes):
    a_shape, b_shape = _shape(a), _shape(b)
    ax_a, ax_b = axes
    free_a = [i for i in range(len(a_shape)) if i not in ax_a]
    free_b = [i for i in range(len(b_shape)) if i not in ax_b]
    n_free_a = len(free_a)
    # g has axes free_a + free_b; contract g's free_b part with b's free axes
    ga = F.tensordot(g, b, axes=(list(range(n_free_a, n_free_a + len(free_b))), free_b))
    # ga's axes: free_a, then b's contracted axes in b's order -> map to a's contracted axes
    order_b = sorted(range(len(ax_b)), key=lambda i: ax_b[i])
    ga_axes = free_a + [ax_a[i] for i in order_b]
    ga = F.transpose(ga, tuple(int(i) for i in np.argsort(ga_axes)))
    gb = F.tensordot(a, g, axes=(free_a, list(range(n_free_a))))
    order_a = sorted(range(len(ax_a)), key=lambda i: ax_a[i])
    gb_axes = [ax_b[i] for i in order_a] + free_b
    gb = F.transpose(gb, tuple(int(i) for i in np.argsort(gb_axes)))
    return ga, gb


_TENSORDOT = defop("tensordot", lambda a, b, axes: np.tensordot(*_pair(a, b), axes=axes), _tensordot_vjp)


def tensordot(x1: TensorLike, x2: TensorLike, axes: int | Sequence[Any] = 2) -> Tensor:
    """The sum of products over ``axes`` (an int: the last of ``x1`` with the first of ``x2``; or
    two lists of axes)."""
    a, b = convert.array(x1), convert.array(x2)
    return _TENSORDOT(x1, x2, axes=_normalize_axes(axes, a.ndim, b.ndim))


def dot(x1: TensorLike, x2: TensorLike) -> Tensor:
    """NumPy's ``dot``: a product of scalars, an inner product of vectors, a matrix product, or
    a sum over the last axis of ``x1`` and the second-to-last of ``x2``."""
    a, b = convert.array(x1), convert.array(x2)
    if a.ndim == 0 or b.ndim == 0:
        from .math_ops import multiply
        return multiply(x1, x2)
    if b.ndim == 1:
        return tensordot(x1, x2, axes=([a.ndim - 1], [0]))
    return tensordot(x1, x2, axes=([a.ndim - 1], [b.ndim - 2]))


def inner(x1: TensorLike, x2: TensorLike) -> Tensor:
    """The sum of products over the last axes of ``x1`` and ``x2``."""
    a, b = convert.array(x1), convert.array(x2)
    if a.ndim == 0 or b.ndim == 0:
        from .math_ops import multiply
        return multiply(x1, x2)
    return tensordot(x1, x2, axes=([a.ndim - 1], [b.ndim - 1]))


def outer(x1: TensorLike, x2: TensorLike) -> Tensor:
    """``x1[i] * x2[j]`` for the flattened inputs."""
    from .shape_ops import reshape
    return matmul(reshape(x1, (-1, 1)), reshape(x2, (1, -1)))


def vdot(x1: TensorLike, x2: TensorLike) -> Tensor:
    """The inner product of the flattened inputs."""
    from .shape_ops import reshape
    return tensordot(reshape(x1, (-1,)), reshape(x2, (-1,)), axes=1)


def kron(x1: TensorLike, x2: TensorLike) -> Tensor:
    """The Kronecker product (blocks of ``x1[i, j] * x2``)."""
    from .shape_ops import reshape
    a, b = convert.array(x1), convert.array(x2)
    nd = max(a.ndim, b.ndim)
    a_shape = (1,) * (nd - a.ndim) + a.shape
    b_shape = (1,) * (nd - b.ndim) + b.shape
    left = reshape(x1, [d for s in a_shape for d in (s, 1)])
    right = reshape(x2, [d for s in b_shape for d in (1, s)])
    from .math_ops import multiply
    return reshape(multiply(left, right), [p * q for p, q in zip(a_shape, b_shape)])


def _cross(a, b, axisa=-1, axisb=-1, axisc=-1, axis=None):
    return np.cross(*_pair(a, b), axisa=axisa, axisb=axisb, axisc=axisc, axis=axis)


def _cross_vjp(F, g, out, a, b, axisa=-1, axisb=-1, axisc=-1, axis=None):
    if axis is not None or (axisa, axisb, axisc) != (-1, -1, -1):
        raise ValueError("the gradient of cross is supported for vectors along the last axis only")
    return F.cross(b, g), F.cross(g, a)


_CROSS = defop("cross", _cross, _cross_vjp)


def cross(x1: TensorLike, x2: TensorLike, axisa=-1, axisb=-1, axisc=-1,
          axis: int | Sequence[int] | None = None) -> Tensor:
    """The cross product of 3-vectors (2-vectors are extended with a zero third component)."""
    return _CROSS(x1, x2, axisa=axisa, axisb=axisb, axisc=axisc, axis=axis)


# --- einsum ----------------------------------------------------------------------------------------
def _parse_einsum(subscripts: str, n: int):
    subscripts = subscripts.replace(" ", "")
    if "..." in subscripts:
        raise ValueError("einsum with '...' is not supported; write the axes out")
    if "->" in subscripts:
        inputs, output = subscripts.split("->")
    else:
        inputs = subscripts
        letters = inputs.replace(",", "")
        output = "".join(sorted(c for c in set(letters) if letters.count(c) == 1))
    parts = inputs.split(",")
    if len(parts) != n:
        raise ValueError(f"einsum subscripts {subscripts!r} name {len(parts)} operands, got {n}")
    return parts, output


def _einsum_vjp(F, g, out, *operands, subscripts):
    parts, output = _parse_einsum(subscripts, len(operands))
    grads = []
    for i, (operand, part) in enumerate(zip(operands, parts)):
        if len(set(part)) != len(part):
            raise ValueError(f"the gradient of einsum {subscripts!r} is not supported: operand {i} repeats an "
                             "index (a diagonal)")
        others = [(o, p) for j, (o, p) in enumerate(zip(operands, parts)) if j != i]
        known = set(output) | {c for _, p in others for c in p}
        kept = "".join(c for c in part if c in known)
        spec = ",".join([output] + [p for _, p in others]) + "->" + kept
        grad = F.einsum(spec, g, *[o for o, _ in others])
        if kept != part:  # an index summed away in this operand only: broadcast back along it
            shape = _shape(operand)
            grad = F.reshape(grad, [shape[k] if c in kept else 1 for k, c in enumerate(part)])
            grad = F.broadcast_to(grad, shape)
        grads.append(grad)
    return tuple(grads)


def _einsum_forward(*operands, subscripts):
    arrays = [convert.array(o) for o in operands]
    floats = [a.dtype for a in arrays if a.dtype.kind == "f"]
    if floats and len({a.dtype for a in arrays}) > 1:
        target = np.result_type(*floats)
        arrays = [a.astype(target, copy=False) for a in arrays]
    return np.einsum(subscripts, *arrays)


_EINSUM = defop("einsum", _einsum_forward, _einsum_vjp)


def einsum(subscripts, *operands) -> Tensor:
    """Einstein summation over ``operands`` as ``subscripts`` names their axes (``"ij,jk->ik"``)."""
    if not isinstance(subscripts, str):
        raise TypeError(f"einsum expects the subscripts as a str first, got {subscripts!r}")
    return _EINSUM(*operands, subscripts=subscripts)


# --- norms and distances (built from the ops above) ------------------------------------------------
def _ops():
    from .. import ops
    return ops


def norm(x: TensorLike, ord=None, axis: int | Sequence[int] | None = None, keepdims: bool = False) -> Tensor:
    """Vector norms (``ord`` None/2, 1, inf, -inf, 0, or any p) and matrix norms over two axes
    (``"fro"``, 1, -1, inf, -inf; 2, -2 and ``"nuc"`` without a gradient)."""
    ops = _ops()
    x = ops.convert_to_tensor(x)
    x = x if x.dtype.startswith("float") else ops.cast(x, "float32")
    axes = convert.axis_arg(axis)
    matrix = (isinstance(axes, tuple) and len(axes) == 2) or (axes is None and x.ndim == 2 and ord is not None)
    if axes is None and not matrix:
        axes = tuple(range(x.ndim))
    if matrix:
        return _matrix_norm(ops, x, ord, axes if axes is not None else (0, 1), keepdims)
    a = ops.abs(x)
    if ord is None or ord == 2:
        return ops.sqrt(ops.sum(ops.square(x), axis=axes, keepdims=keepdims))
    if ord == np.inf:
        return ops.max(a, axis=axes, keepdims=keepdims)
    if ord == -np.inf:
        return ops.min(a, axis=axes, keepdims=keepdims)
    if ord == 0:
        return ops.sum(ops.cast(ops.not_equal(x, 0), x.dtype), axis=axes, keepdims=keepdims)
    if ord == 1:
        return ops.sum(a, axis=axes, keepdims=keepdims)
    return ops.power(ops.sum(ops.power(a, ord), axis=axes, keepdims=keepdims), 1.0 / ord)


def _matrix_norm(ops, x, ord, axes, keepdims):
    row, col = (a % x.ndim for a in axes)
    if ord in (None, "fro"):
        return ops.sqrt(ops.sum(ops.square(x), axis=(row, col), keepdims=keepdims))
    a = ops.abs(x)
    if ord in (1, -1):
        pick = ops.max if ord == 1 else ops.min
        out = pick(ops.sum(a, axis=row, keepdims=True), axis=col, keepdims=True)
    elif ord in (np.inf, -np.inf):
        pick = ops.max if ord == np.inf else ops.min
        out = pick(ops.sum(a, axis=col, keepdims=True), axis=row, keepdims=True)
    elif ord in (2, -2, "nuc"):
        return Tensor(np.asarray(np.linalg.norm(x._value, ord=ord, axis=(row, col), keepdims=keepdims)))
    else:
        raise ValueError(f"Invalid matrix norm order {ord!r}: expected 'fro', 'nuc', 1, -1, 2, -2, inf or -inf")
    return out if keepdims else ops.squeeze(out, axis=(row, col))


def cdist(x1: TensorLike, x2: TensorLike, p: float = 2.0) -> Tensor:
    """The ``p``-norm distance between every row of ``x1`` and every row of ``x2``."""
    ops = _ops()
    diff = ops.subtract(ops.expand_dims(x1, -2), ops.expand_dims(x2, -3))
    if p == 2.0:
        return ops.sqrt(ops.sum(ops.square(diff), axis=-1))
    if p == 1.0:
        return ops.sum(ops.abs(diff), axis=-1)
    if p == np.inf:
        return ops.max(ops.abs(diff), axis=-1)
    return ops.power(ops.sum(ops.power(ops.abs(diff), p), axis=-1), 1.0 / p)


def trapezoid(y: TensorLike, x: TensorLike = None, dx: float = 1.0, axis: int = -1) -> Tensor:
    """The integral of ``y`` along ``axis`` by the trapezoidal rule (at ``x``, or spacing ``dx``)."""
    ops = _ops()
    y = ops.convert_to_tensor(y)
    n = y.shape[axis]
    left = ops.take(y, list(range(n - 1)), axis=axis)
    right = ops.take(y, list(range(1, n)), axis=axis)
    if x is None:
        return ops.sum((left + right) * (dx / 2.0), axis=axis)
    steps = ops.diff(ops.convert_to_tensor(x), axis=axis if ops.ndim(x) > 1 else -1)
    if ops.ndim(steps) == 1 and y.ndim > 1:
        shape = [1] * y.ndim
        shape[axis] = n - 1
        steps = ops.reshape(steps, shape)
    return ops.sum((left + right) * steps / 2.0, axis=axis)


def diff(a: TensorLike, n: int = 1, axis: int | Sequence[int] | None = -1) -> Tensor:
    """The ``n``-th discrete difference along ``axis``."""
    ops = _ops()
    out = ops.convert_to_tensor(a)
    for _ in range(int(n)):
        length = out.shape[axis]
        out = ops.take(out, list(range(1, length)), axis=axis) - ops.take(out, list(range(length - 1)), axis=axis)
    return out


def correlate(x1: TensorLike, x2: TensorLike, mode: str = "valid") -> Tensor:
    """The cross-correlation of two 1-D tensors (modes valid, same, full), as NumPy's."""
    ops = _ops()
    a, v = ops.convert_to_tensor(x1), ops.convert_to_tensor(x2)
    n, m = a.shape[0], v.shape[0]
    if mode not in ("valid", "same", "full"):
        raise ValueError(f"correlate mode must be 'valid', 'same' or 'full', got {mode!r}")
    if n < m:  # NumPy swaps and reverses in that case
        return ops.flip(correlate(v, a, mode), axis=0)
    pad_total = {"valid": 0, "same": m - 1, "full": 2 * (m - 1)}[mode]
    left = pad_total // 2 if mode == "same" else pad_total // 2 if mode == "full" else 0
    padded = ops.pad(a, [(left, pad_total - left)])
    windows = np.arange(n + pad_total - m + 1)[:, None] + np.arange(m)[None, :]
    return ops.matmul(ops.take(padded, windows, axis=0), v)


def vander(x: TensorLike, N=None, increasing: bool = False) -> Tensor:
    """The Vandermonde matrix of 1-D ``x``: columns ``x**(N-1) ... x**0`` (reversed if increasing)."""
    ops = _ops()
    x = ops.convert_to_tensor(x)
    n = x.shape[0] if N is None else int(N)
    powers = np.arange(n) if increasing else np.arange(n)[::-1]
    return ops.power(ops.expand_dims(x, -1), ops.convert_to_tensor(powers.astype(x.dtype)))


def corrcoef(x: TensorLike) -> Tensor:
    """The Pearson correlation coefficients of the rows of ``x`` (variables as rows)."""
    ops = _ops()
    x = ops.convert_to_tensor(x)
    x = x if x.dtype.startswith("float") else ops.cast(x, "float32")
    centered = x - ops.mean(x, axis=-1, keepdims=True)
    covariance = ops.matmul(centered, ops.transpose(centered))
    scale = ops.sqrt(ops.diagonal(covariance))
    return covariance / ops.outer(scale, scale)
