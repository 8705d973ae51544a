"""``tf.math``: the element-wise math, the reductions and the ranking functions under one name.

>>> import lamina as tf
>>> float(tf.math.reduce_logsumexp([0.0, 0.0])) == float(tf.math.log(2.0))
True
>>> tf.math.top_k([1.0, 3.0, 2.0], k=2).indices.numpy().tolist()
[1, 2]
"""
from .array_ops import argsort, sort
from .math_ops import (abs, acos, acosh, add, add_n, asin, asinh, atan, atan2, atanh, ceil, cos, cosh, divide,
                       divide_no_nan, equal, erf, erfc, exp, expm1, floor, floordiv, floormod, greater, greater_equal,
                       is_finite, is_inf, is_nan, less, less_equal, log, log1p, log_sigmoid, logical_and, logical_not,
                       logical_or, logical_xor, maximum, minimum, mod, multiply, multiply_no_nan, negative, not_equal,
                       pow, reciprocal, round, rsqrt, sigmoid, sign, sin, sinh, softplus, softsign, sqrt, square,
                       squared_difference, subtract, tan, tanh, truediv, xlogy)
from .nn_ops import l2_normalize, log_softmax, softmax
from .reductions import (argmax, argmin, confusion_matrix, count_nonzero, cumprod, cumsum, in_top_k, reduce_all,
                         reduce_any, reduce_euclidean_norm, reduce_logsumexp, reduce_max, reduce_mean, reduce_min,
                         reduce_prod, reduce_std, reduce_sum, reduce_variance, segment_sum, top_k,
                         unsorted_segment_sum)

__all__ = sorted(name for name in dir() if not name.startswith("_") and name not in (
    "array_ops", "math_ops", "nn_ops", "reductions"))


def __getattr__(name: str):
    """A tf.math name lamina does not have: refused, saying so (dunder probes get Python's own error)."""
    if name.startswith("_"):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from ._refused import refusal
    raise refusal(name, "tf.math")
