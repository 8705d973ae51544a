"""TensorFlow's element-wise and matrix math: ``add``, ``multiply``, ``divide``, ``pow``, ``exp``,
``sqrt``, ``maximum``, ``clip_by_value``, ``clip_by_norm``, ``matmul``, the comparisons and the
``tf.math`` functions that have no reduction in them, on ``lamina.ops`` (so a ``GradientTape``
differentiates them).

The two-argument ops take one dtype, as TensorFlow's do: two tensors (or NumPy arrays) of different
dtypes raise ``tf.errors.InvalidArgumentError``, and Python data takes the tensor's dtype (a
fraction or an out-of-range int for an integer tensor is a TypeError); ``divide`` of integers
follows TensorFlow (int8/int16 to float32, int32/int64 to float64). The operators (``a + b``) are
Keras's and promote (README, "Where lamina differs").

>>> import lamina as tf
>>> tf.divide(7, 2).dtype, float(tf.divide(7, 2))
('float64', 3.5)
>>> tf.clip_by_norm([3.0, 4.0], 1.0).numpy().tolist()
[0.6000000238418579, 0.800000011920929]
>>> tf.matmul([[1.0, 2.0]], [[3.0, 4.0]], transpose_b=True).numpy().tolist()
[[11.0]]
"""
from __future__ import annotations

import functools

import numpy as np

from .. import ops
from ..ops.tensor import Tensor
from ._convert import axes, is_python, python_as, tensor
from .errors import invalid_argument


def _same_dtype(op: str, x, y) -> tuple:
    """``x`` and ``y`` as tensors of one dtype, by TensorFlow's rule: the first tensor input's dtype
    (the first input's, when both are Python data) for Python data; a tensor of another dtype raises."""
    typed = [v for v in (x, y) if not is_python(v)]
    dtype = tensor(typed[0] if typed else x).dtype
    pair = []
    for label, value in (("x", x), ("y", y)):
        if is_python(value):
            pair.append(python_as(op, value, dtype))
            continue
        value = tensor(value)
        if value.dtype != dtype:
            raise invalid_argument(f"{op}: cannot compute {op} of tensors of dtypes {dtype} and {value.dtype} "
                                   f"(input {label}); TensorFlow's ops take one dtype: "
                                   f"tf.cast one of them first, e.g. tf.cast({label}, {str(dtype)!r})")
        pair.append(value)
    return tuple(pair)


def _operand(x):
    """A Python number stays a (weak) number, as Keras promotes it; other data becomes a tensor."""
    return x if isinstance(x, (Tensor, int, float)) and not isinstance(x, bool) else tensor(x)


def _unary(name: str, fn, doc: str):
    def op(x, name=None) -> Tensor:
        return fn(tensor(x))
    op.__name__ = op.__qualname__ = name
    op.__doc__ = doc
    return op


def _binary(name: str, fn, doc: str):
    def op(x, y, name=None) -> Tensor:
        return fn(*_same_dtype(op.__name__, x, y))
    op.__name__ = op.__qualname__ = name
    op.__doc__ = doc
    return op


abs = _unary("abs", ops.abs, "``|x|``, element-wise.")  # noqa: A001  (TensorFlow's names)
negative = _unary("negative", ops.negative, "``-x``, element-wise.")
sign = _unary("sign", ops.sign, "-1, 0 or 1 by the sign of each element.")
square = _unary("square", ops.square, "``x * x``, element-wise.")
sqrt = _unary("sqrt", ops.sqrt, "The square root, element-wise.")
rsqrt = _unary("rsqrt", ops.rsqrt, "``1 / sqrt(x)``, element-wise.")
exp = _unary("exp", ops.exp, "``e ** x``, element-wise.")
expm1 = _unary("expm1", ops.expm1, "``exp(x) - 1``, accurate near 0.")
log = _unary("log", ops.log, "The natural logarithm, element-wise.")
log1p = _unary("log1p", ops.log1p, "``log(1 + x)``, accurate near 0.")
sin, cos, tan = (_unary(n, getattr(ops, n), f"``{n}(x)``, element-wise.") for n in ("sin", "cos", "tan"))
asin, acos, atan = (_unary(n, getattr(ops, "arc" + n[1:]), f"``{n}(x)``, element-wise.")
                    for n in ("asin", "acos", "atan"))
sinh, cosh, tanh = (_unary(n, getattr(ops, n), f"``{n}(x)``, element-wise.") for n in ("sinh", "cosh", "tanh"))
asinh, acosh, atanh = (_unary(n, getattr(ops, "arc" + n[1:]), f"``{n}(x)``, element-wise.")
                       for n in ("asinh", "acosh", "atanh"))
floor = _unary("floor", ops.floor, "The largest integer not above each element.")
ceil = _unary("ceil", ops.ceil, "The smallest integer not below each element.")
round = _unary("round", ops.round, "Each element rounded to the nearest integer, halves to even.")  # noqa: A001
reciprocal = _unary("reciprocal", ops.reciprocal, "``1 / x``, element-wise.")
sigmoid = _unary("sigmoid", ops.sigmoid, "``1 / (1 + exp(-x))``, element-wise.")
softplus = _unary("softplus", ops.softplus, "``log(1 + exp(x))``, element-wise.")
softsign = _unary("softsign", ops.softsign, "``x / (1 + |x|)``, element-wise.")
log_sigmoid = _unary("log_sigmoid", ops.log_sigmoid, "``log(sigmoid(x))``, accurate for large ``|x|``.")
erf = _unary("erf", ops.erf, "The error function, element-wise.")
erfc = _unary("erfc", ops.erfc, "``1 - erf(x)``, accurate in the tail.")
is_nan = _unary("is_nan", ops.isnan, "Whether each element is NaN.")
is_inf = _unary("is_inf", ops.isinf, "Whether each element is +inf or -inf.")
is_finite = _unary("is_finite", ops.isfinite, "Whether each element is neither NaN nor infinite.")
logical_not = _unary("logical_not", ops.logical_not, "``not x``, element-wise.")

add = _binary("add", ops.add, "``x + y``, element-wise with broadcasting.")
subtract = _binary("subtract", ops.subtract, "``x - y``, element-wise with broadcasting.")
multiply = _binary("multiply", ops.multiply, "``x * y``, element-wise with broadcasting.")
maximum = _binary("maximum", ops.maximum, "The larger of ``x`` and ``y``, element-wise.")
minimum = _binary("minimum", ops.minimum, "The smaller of ``x`` and ``y``, element-wise.")
floordiv = _binary("floordiv", ops.floor_divide, "``x // y``: the quotient rounded down.")
floormod = _binary("floormod", ops.mod, "``x % y`` with the sign of ``y``, as Python's.")
mod = floormod
divide_no_nan = _binary("divide_no_nan", ops.divide_no_nan, "``x / y``, and 0 where ``y`` is 0.")
equal = _binary("equal", ops.equal, "``x == y``, element-wise (bool).")
not_equal = _binary("not_equal", ops.not_equal, "``x != y``, element-wise (bool).")
greater = _binary("greater", ops.greater, "``x > y``, element-wise (bool).")
greater_equal = _binary("greater_equal", ops.greater_equal, "``x >= y``, element-wise (bool).")
less = _binary("less", ops.less, "``x < y``, element-wise (bool).")
less_equal = _binary("less_equal", ops.less_equal, "``x <= y``, element-wise (bool).")
logical_and = _binary("logical_and", ops.logical_and, "``x and y``, element-wise.")
logical_or = _binary("logical_or", ops.logical_or, "``x or y``, element-wise.")
logical_xor = _binary("logical_xor", ops.logical_xor, "``x != y`` for bools, element-wise.")


def atan2(y, x, name=None) -> Tensor:
    """The angle of the point ``(x, y)`` from the x axis, in ``[-pi, pi]`` (TensorFlow's argument order)."""
    y, x = _same_dtype("atan2", y, x)
    return ops.arctan2(y, x)


def pow(x, y, name=None) -> Tensor:  # noqa: A001
    """``x ** y``, element-wise with broadcasting."""
    return ops.power(*_same_dtype("pow", x, y))


def _tf_true_division(x, y):
    """TensorFlow's ``truediv``: integer tensors divide in float32 (8 and 16 bits) or float64 (32, 64)."""
    x, y = _same_dtype("divide", x, y)
    if x.dtype.kind in "iub":
        target = "float32" if np.dtype(x.dtype).itemsize <= 2 else "float64"
        x, y = ops.cast(x, target), ops.cast(y, target)
    return ops.true_divide(x, y)


def divide(x, y, name=None) -> Tensor:
    """``x / y``; integer inputs give floats as TensorFlow's ``truediv`` does."""
    return _tf_true_division(x, y)


def truediv(x, y, name=None) -> Tensor:
    """``x / y`` (integers divide as float32 or float64, by their width)."""
    return _tf_true_division(x, y)


def squared_difference(x, y, name=None) -> Tensor:
    """``(x - y) ** 2``, element-wise."""
    return ops.square(ops.subtract(*_same_dtype("squared_difference", x, y)))


def xlogy(x, y, name=None) -> Tensor:
    """``x * log(y)``, and 0 where ``x`` is 0 (even where ``y`` is 0)."""
    x, y = tensor(x), tensor(y)
    return x * ops.log(ops.where(ops.equal(x, 0), ops.ones_like(y), y))  # 0 * log(1) where x is 0


def multiply_no_nan(x, y, name=None) -> Tensor:
    """``x * y``, and 0 where ``y`` is 0 (even where ``x`` is NaN or infinite)."""
    x, y = tensor(x), tensor(y)
    return ops.where(ops.equal(y, 0), ops.zeros_like(x), x) * y  # 0 * 0 where y is 0


def add_n(inputs, name=None) -> Tensor:
    """The element-wise sum of a list of tensors of one shape (no broadcasting, as TensorFlow)."""
    values = [tensor(v) for v in inputs]
    if not values:
        raise ValueError("add_n expects a non-empty list of tensors")
    shapes = {v.shape for v in values}
    if len(shapes) > 1:
        raise ValueError(f"add_n expects tensors of one shape, got shapes {[v.shape for v in values]}")
    return functools.reduce(ops.add, values)


def clip_by_value(t, clip_value_min, clip_value_max, name=None) -> Tensor:
    """``t`` limited to ``[clip_value_min, clip_value_max]`` (bounds may be tensors that broadcast);
    the gradient passes where ``t`` is inside."""
    return ops.maximum(ops.minimum(tensor(t), _operand(clip_value_max)), _operand(clip_value_min))


def clip_by_norm(t, clip_norm, axes=None, name=None) -> Tensor:
    """``t * clip_norm / max(||t||, clip_norm)``: ``t`` unchanged when its L2 norm (over ``axes``, all
    by default) is at most ``clip_norm``, else scaled to that norm."""
    t = tensor(t)
    squares = ops.sum(t * t, axis=_axes(axes), keepdims=True)
    positive = ops.greater(squares, 0)
    norm = ops.where(positive, ops.sqrt(ops.where(positive, squares, ops.ones_like(squares))), squares)
    return t * clip_norm / ops.maximum(norm, clip_norm)


def _axes(axis):
    return axes(axis)


def global_norm(t_list, name=None) -> Tensor:
    """``sqrt(sum of squares of every tensor in t_list)`` (None entries skipped)."""
    present = [tensor(t) for t in t_list if t is not None]
    if not present:
        return Tensor(np.asarray(0.0, np.float32))
    return ops.sqrt(functools.reduce(ops.add, [ops.sum(ops.square(t)) for t in present]))


def clip_by_global_norm(t_list, clip_norm, use_norm=None, name=None) -> tuple:
    """``(clipped, global_norm)``: every tensor scaled by ``clip_norm / max(global_norm, clip_norm)``,
    so the list's joint L2 norm is at most ``clip_norm``; None entries stay None."""
    if not isinstance(t_list, (list, tuple)):
        raise TypeError(f"clip_by_global_norm expects a list of tensors, got {type(t_list).__name__}")
    norm = global_norm(t_list) if use_norm is None else tensor(use_norm)
    scale = clip_norm * ops.minimum(1.0 / norm, 1.0 / clip_norm)
    clipped = [None if t is None else tensor(t) * ops.cast(scale, tensor(t).dtype) for t in t_list]
    return clipped, norm


def matmul(a, b, transpose_a=False, transpose_b=False, adjoint_a=False, adjoint_b=False, a_is_sparse=False,
           b_is_sparse=False, output_type=None, grad_a=False, grad_b=False, name=None) -> Tensor:
    """The matrix product over the last two axes (leading axes broadcast); both inputs need rank >= 2."""
    a, b = tensor(a), tensor(b)
    if a.ndim < 2 or b.ndim < 2:
        raise ValueError(f"matmul expects tensors of rank >= 2, got shapes {a.shape} and {b.shape}; use "
                         "tf.tensordot or tf.linalg.matvec for vectors, or tf.expand_dims first")
    if transpose_a or adjoint_a:
        a = ops.swapaxes(a, -1, -2)
    if transpose_b or adjoint_b:
        b = ops.swapaxes(b, -1, -2)
    if a.shape[-1] != b.shape[-2]:
        raise ValueError(f"matmul: the inner dimensions of shapes {a.shape} and {b.shape} differ "
                         f"({a.shape[-1]} vs {b.shape[-2]})")
    out = ops.matmul(a, b)
    return out if output_type is None else ops.cast(out, output_type)


def tensordot(a, b, axes, name=None) -> Tensor:
    """The sum of products over ``axes`` (an int: the last ``axes`` of ``a`` with the first of ``b``;
    or a pair of axis lists)."""
    return ops.tensordot(tensor(a), tensor(b), axes=axes)


def norm(tensor_, ord="euclidean", axis=None, keepdims=None, name=None) -> Tensor:  # noqa: A002
    """The vector norm (``ord`` ``"euclidean"``, 1, 2, ``np.inf``...) over ``axis`` (all elements if None),
    or a matrix norm over a pair of axes (``"fro"``, 1, ``np.inf``)."""
    x = tensor(tensor_)
    chosen = _axes(axis)
    if ord in ("euclidean", "fro", 2) and (chosen is None or isinstance(chosen, int) or ord == "fro"):
        return ops.sqrt(ops.sum(ops.square(x), axis=chosen, keepdims=bool(keepdims)))
    return ops.norm(x, ord=ord, axis=chosen, keepdims=bool(keepdims))
