"""TensorFlow's names for ``import lamina as tf``: what tf.keras programs use next to Keras code.

Each name has TensorFlow's argument names and rules (``tf.reduce_mean``'s ``axis`` and
``keepdims``, ``tf.argmax``'s ``axis=0`` default, ``tf.split``'s sizes with a -1, ``tf.gather``'s
``batch_dims``, ``tf.range``'s dtype inference...) and is written in ``lamina.ops``, so a
``GradientTape`` differentiates it. ``lamina`` exports all of them at the top level, with the
namespaces ``math``, ``nn``, ``linalg``, ``dtypes``, ``errors`` and ``train`` (checkpoints: ``train.py``);
``lamina.random`` serves as ``tf.random`` and ``lamina.config`` as ``tf.config`` (its device
functions come from ``devices.py``).

>>> import lamina as tf
>>> w = tf.Variable([[1.0], [2.0]])
>>> x = tf.constant([[1.0, 1.0]])
>>> with tf.GradientTape() as tape:
...     loss = tf.reduce_mean(tf.square(tf.matmul(x, w)))
>>> tape.gradient(loss, w).numpy().tolist()
[[6.0], [6.0]]
"""
from . import devices, dtypes, errors, linalg, math, nn, summary, train
from .array_ops import (argsort, boolean_mask, broadcast_to, concat, expand_dims, gather, gather_nd, newaxis, pad,
                        rank, repeat, reshape, reverse, roll, shape, size, sort, split, squeeze, stack, tile, transpose,
                        unstack, where)
from .creation import (cast, constant, convert_to_tensor, eye, fill, identity, is_tensor, linspace, one_hot, ones,
                       ones_like, range, zeros, zeros_like)
from .dtypes import (DType, as_dtype, bfloat16, bool, double, float16, float32, float64, half, int8, int16, int32,
                     int64, uint8, uint16, uint32, uint64)
from ..ops.tensor_types import TensorShape
from .execution import (GradientTape, TensorSpec, UnconnectedGradients, custom_gradient, device, executing_eagerly,
                        function, get_logger, name_scope, print, stop_gradient)
from .math_ops import (abs, add, add_n, clip_by_global_norm, clip_by_norm, clip_by_value, cos, divide, equal, exp,
                       global_norm, greater, greater_equal, less, less_equal, log, logical_and, logical_not,
                       logical_or, matmul, maximum, minimum, multiply, negative, norm, not_equal, pow, round, rsqrt,
                       sigmoid, sign, sin, sqrt, square, subtract, tanh, tensordot, truediv)
from .reductions import (argmax, argmin, cumprod, cumsum, reduce_all, reduce_any, reduce_logsumexp, reduce_max,
                         reduce_mean, reduce_min, reduce_prod, reduce_std, reduce_sum, reduce_variance)
from .module import Module
from .variable import Variable, VariableAggregation, VariableSynchronization
from ._refused import refusal as _refusal

__all__ = sorted(name for name in dir() if not name.startswith("_") and name not in (
    "array_ops", "creation", "devices", "execution", "math_ops", "module", "reductions", "variable", "nn_ops",
    "compiled_function", "fused_function", "checkpoint", "checkpoint_file", "checkpoint_graph",
    "checkpoint_manager"))


def __getattr__(name: str):
    """A TensorFlow name lamina does not have (``tf.strings``, ``tf.ragged``, ...): refused, saying why."""
    if name.startswith("_"):  # dunder probes (pytest, doctest, copy) get Python's own error
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    raise _refusal(name)
