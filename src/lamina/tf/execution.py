"""TensorFlow's execution names: ``function``, ``print``, ``GradientTape``, ``custom_gradient``,
``stop_gradient``, ``TensorSpec``, ``device``, ``name_scope``, ``executing_eagerly``.

``@tf.function`` (with or without arguments) traces the Python function's eager calls and
replays what they did to the tensors on later calls of the same signature, as TensorFlow runs
its graph (``compiled_function.py``): Python side effects happen while tracing only; what a
replay could not follow (a tensor's value read in Python) keeps the function eager.

>>> import lamina as tf
>>> @tf.function
... def double(x):
...     return x * 2
>>> float(double(tf.constant(3.0)))
6.0
>>> @tf.function(jit_compile=True, reduce_retracing=True)
... def square(x):
...     return x * x
>>> float(square(3.0))
9.0
"""
from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

from typing import Any

import contextlib
import enum
import functools
import logging
import sys

import numpy as np

from .. import _macros, ops
from ..ops import GradientTape, custom_gradient
from ..ops.tensor import Tensor
from ._convert import tensor
from .compiled_function import CompiledFunction

_FUNCTION_OPTIONS = frozenset(("input_signature", "autograph", "jit_compile", "reduce_retracing",
                               "experimental_implements", "experimental_autograph_options",
                               "experimental_attributes", "experimental_relax_shapes", "experimental_compile",
                               "experimental_follow_type_hints"))


def function(func=None, input_signature=None, autograph=True, jit_compile=None, reduce_retracing=False,
             **options) -> Callable:
    """Decorate ``func`` (``@function`` or ``@function(...)``): traced, then replayed per signature
    (``compiled_function.py``); the result keeps its name and docstring and binds as a method.
    ``input_signature`` converts and checks the arguments; the other options are accepted and
    change nothing (an unknown option raises, as in TensorFlow)."""
    unknown = sorted(set(options) - _FUNCTION_OPTIONS)
    if unknown:
        raise TypeError(f"function got unexpected keyword argument(s) {unknown}")

    def decorate(fn):
        if not callable(fn):
            raise TypeError(f"function expects a callable, got {fn!r}")

        compiled = CompiledFunction(fn)

        @functools.wraps(fn)
        def run(*args, **kwargs):
            if input_signature is not None:
                args = _conform(fn, input_signature, args)
            return compiled(*args, **kwargs)
        run.python_function = fn
        run.compiled = compiled  # .refused says why a signature stays eager
        run.input_signature = input_signature
        return run
    return decorate if func is None else decorate(func)


def _conform(fn, signature, args) -> tuple:
    """``args`` as tensors of the signature's dtypes, each checked against its ``TensorSpec``."""
    specs = list(signature)
    bound = args[1:] if len(args) == len(specs) + 1 and not isinstance(args[0], (Tensor, list, tuple, float, int)) \
        else args  # a method: ``self`` comes first
    if len(bound) != len(specs):
        raise TypeError(f"{fn.__name__} has an input_signature of {len(specs)} arguments, got {len(bound)} arguments")
    converted = []
    for i, (value, spec) in enumerate(zip(bound, specs)):
        x = ops.cast(tensor(value), spec.dtype) if not isinstance(value, Tensor) else value
        if not spec.is_compatible_with(x):
            raise ValueError(f"{fn.__name__}: argument {i} of shape {x.shape} and dtype {x.dtype} does not match "
                             f"its {spec}")
        converted.append(x)
    return tuple(args[:len(args) - len(bound)]) + tuple(converted)


def stop_gradient(input, name=None) -> Tensor:  # noqa: A002  (TensorFlow's argument name)
    """``input``'s value, with no gradient flowing back through it."""
    return ops.stop_gradient(tensor(input))


class TensorSpec:
    """The shape and dtype of a ``tf.function`` input (its ``input_signature``)."""

    def __init__(self, shape: Sequence[int | None] | None, dtype: str | np.dtype = "float32",
                 name: str | None = None):  # dtype: a name (tf.float32 is one) or a NumPy dtype
        self.shape = None if shape is None else tuple(None if d is None else int(d) for d in shape)
        self.dtype, self.name = dtype, name

    def is_compatible_with(self, value) -> bool:
        """Whether ``value``'s shape fits (None dimensions match anything) and its dtype is the spec's."""
        x = tensor(value)
        if self.shape is not None and (len(self.shape) != x.ndim or
                                       any(s is not None and s != d for s, d in zip(self.shape, x.shape))):
            return False
        return x.dtype == str(self.dtype)

    def __repr__(self) -> str:
        return f"TensorSpec(shape={self.shape}, dtype={self.dtype!r}, name={self.name!r})"


@contextlib.contextmanager
def device(device_name) -> Iterator[None]:
    """``with tf.device("/CPU:0"):`` -- lamina computes on the CPU, so this only checks the name."""
    if device_name is not None and not isinstance(device_name, str):
        raise TypeError(f"device expects a device name string, got {device_name!r}")
    yield


@contextlib.contextmanager
def name_scope(name) -> Iterator[str]:
    """``with tf.name_scope("block"):`` -- accepted; lamina's ops carry no names."""
    yield name


def get_logger() -> logging.Logger:
    """The ``logging`` logger of lamina (TensorFlow's ``tf.get_logger()`` is its own): scripts quiet
    it with ``tf.get_logger().setLevel("ERROR")``."""
    return logging.getLogger("lamina")


def executing_eagerly() -> bool:
    """True: lamina always runs eagerly."""
    return True


def _format(value, summarize: int) -> str:
    if isinstance(value, Tensor):
        value = value._value
    if isinstance(value, np.ndarray):
        edge = value.size if summarize is None or summarize < 0 else summarize
        formatter: Any = {"float_kind": lambda v: f"{v:.6g}", "int": str}
        return np.array2string(value, separator=" ", threshold=2 * edge if edge < value.size else value.size + 1,
                               edgeitems=max(edge, 1), formatter=formatter, max_line_width=10**9)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_format(k, summarize)}: {_format(v, summarize)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        inner = ", ".join(_format(v, summarize) for v in value)
        return f"[{inner}]" if isinstance(value, list) else f"({inner}{',' if len(value) == 1 else ''})"
    return str(value)


@_macros.stateful  # a graph op in TensorFlow: a replayed tf.function prints at every call
def print(*inputs, output_stream=None, summarize=3, sep=" ", end="\n", name=None) -> None:  # noqa: A001
    """Print ``inputs`` as TensorFlow does: tensors as their values (``[0 1 2 ... 7 8 9]``: the first
    and last ``summarize`` entries of each axis; -1 or None for all), nested lists and dicts inside
    out, to ``output_stream`` (``sys.stderr`` by default, as TensorFlow)."""
    stream = sys.stderr if output_stream is None else output_stream
    if not hasattr(stream, "write"):
        raise TypeError(f"print expects output_stream to be a file object such as sys.stdout, got {stream!r}")
    stream.write(sep.join(_format(v, summarize) for v in inputs) + end)


class UnconnectedGradients(str, enum.Enum):
    """``GradientTape.gradient``'s ``unconnected_gradients``: None (``NONE``) or zeros (``ZERO``) for a
    source the target does not depend on. Each member equals its string (``"none"``, ``"zero"``)."""
    NONE = "none"
    ZERO = "zero"


__all__ = ["GradientTape", "TensorSpec", "UnconnectedGradients", "custom_gradient", "device", "executing_eagerly",
           "function", "name_scope", "print", "stop_gradient"]
