"""Keras's core ops: conversion, ``cast``, ``shape``, ``stop_gradient``, ``custom_gradient``,
``jvp`` and the control flow (``cond``, ``switch``, ``fori_loop``, ``while_loop``, ``scan``,
``map``...), which run eagerly as the Python they describe."""
from __future__ import annotations

from typing import Any

import functools
import inspect
from collections.abc import Callable, Sequence

import numpy as np

from . import convert, dtypes
from . import tape as _tape
from .primitive import RAW, Primitive, defop
from .tensor import Tensor, TensorLike, to_array

_CAST = defop("cast", lambda a, dtype: convert.array(a).astype(dtype), lambda F, g, out, a, dtype: (g,))
_READ = defop("read", lambda a: a.copy(), lambda F, g, out, a: (g,))  # a snapshot: later writes do not show


def cast(x: TensorLike, dtype: str | np.dtype | type | None) -> Tensor:
    """``x`` in ``dtype`` (the gradient flows back through a cast between float dtypes)."""
    name = dtypes.standardize_dtype(dtype)
    if isinstance(x, Tensor) and x.dtype == name and not getattr(x, "_is_variable", False):
        return x
    return _CAST(x, dtype=name)


def saturate_cast(x: TensorLike, dtype: str | np.dtype | None) -> Tensor:
    """``cast`` after clipping ``x`` to the range ``dtype`` can hold."""
    name = dtypes.standardize_dtype(dtype)
    info = np.iinfo(name) if np.dtype(name).kind in "iu" else np.finfo(name)
    from .math_ops import clip
    return cast(clip(x, info.min, info.max), name)


def convert_to_tensor(x: TensorLike, dtype: str | np.dtype | None = None, sparse=None, ragged=None) -> Tensor:
    """``x`` (a tensor, Variable, array, number or nested list) as a tensor; Python floats become
    floatx and ints int32, NumPy arrays keep their dtype (``float64`` stays ``float64``)."""
    if sparse or ragged:
        raise ValueError("lamina has no sparse or ragged tensors: pass dense data")
    if getattr(x, "_is_variable", False):
        out = _READ(x)  # a recorded read, so a tape sees the variable through the tensor
        return out if dtype is None else cast(out, dtype)
    if isinstance(x, Tensor):
        return x if dtype is None else cast(x, dtype)
    return Tensor(to_array(x, dtype))


def convert_to_numpy(x) -> np.ndarray:
    """``x`` as a NumPy array (a copy of a tensor's value)."""
    if isinstance(x, Tensor):
        return x.numpy()
    return np.asarray(x)


def is_tensor(x) -> bool:
    """Whether ``x`` is a lamina tensor (a Variable is not: it holds one)."""
    return isinstance(x, Tensor) and not getattr(x, "_is_variable", False)


def shape(x) -> tuple:
    """The shape of ``x`` as a tuple of ints (None for a symbolic tensor's unknown dimension)."""
    if isinstance(x, Tensor) or hasattr(x, "_keras_history"):
        return tuple(x.shape)
    return tuple(convert.array(x).shape)


def dtype(x) -> str:
    """The Keras name of ``x``'s dtype (``"float32"``...)."""
    if hasattr(x, "_keras_history"):
        return x.dtype
    return dtypes.standardize_dtype(convert.array(x).dtype)


def ndim(x) -> int:
    """The number of axes of ``x``."""
    return len(shape(x))


def size(x) -> int:
    """The number of elements of ``x``."""
    return int(np.prod(shape(x)))


def stop_gradient(variable) -> Tensor:
    """``variable``'s value, with no gradient flowing back through it."""
    return Tensor(convert.array(variable))


def view(x: TensorLike, dtype: str | np.dtype | None = None) -> Tensor:
    """``x``'s bytes reinterpreted as ``dtype`` (no gradient)."""
    return Tensor(convert.array(x).view(dtypes.standardize_dtype(dtype)))


# --- custom gradients ---------------------------------------------------------------------------------
def custom_gradient(f: Callable):
    """Decorate ``f(*inputs) -> (outputs, grad_fn)``; the tape uses ``grad_fn(upstream)`` (which
    returns one gradient per input) instead of differentiating ``f``'s ops. When ``f`` reads
    trainable Variables, ``grad_fn(upstream, variables=...)`` returns ``(input_grads,
    variable_grads)``, as in TensorFlow."""

    @functools.wraps(f)
    def wrapper(*args, **kwargs):
        if not _tape.active():
            outputs, _ = f(*args, **kwargs)
            return outputs
        probe = _tape.GradientTape()
        with _tape.recording_only(probe):  # f's own ops are not recorded; the probe notices Variables
            outputs, grad_fn = f(*args, **kwargs)
        variables = list(probe.watched_variables())
        multi = isinstance(outputs, (tuple, list))
        # fresh tensors: an output that is one of the inputs (``return x, grad``) must be a new tape
        # value, or the tape would route its gradient to the input twice
        results = tuple(_fresh(o) for o in outputs) if multi else _fresh(outputs)
        prim = Primitive("custom_gradient", None, _custom_vjp(grad_fn, len(args), variables), multi_output=multi)
        _tape.record(prim, (*args, *variables), {}, results)
        return type(outputs)(results) if multi else results
    return wrapper


def _fresh(value) -> Tensor:
    return Tensor(convert_to_tensor(value)._value)


def _custom_vjp(grad_fn, n_inputs: int, variables: list):
    takes_variables = "variables" in inspect.signature(grad_fn).parameters

    def vjp(F, g, out, *args):
        upstream = tuple(_as_tensor(x) for x in g) if isinstance(g, tuple) else _as_tensor(g)
        if variables:
            if not takes_variables:
                raise TypeError(f"a custom_gradient function read the Variables {[v.path for v in variables]}: its "
                                "grad_fn must accept variables=... and return (input_grads, variable_grads)")
            input_grads, variable_grads = grad_fn(*_spread(upstream), variables=variables)
        else:
            input_grads, variable_grads = grad_fn(*_spread(upstream)), []
        if not isinstance(input_grads, (tuple, list)):
            input_grads = (input_grads,)
        if len(input_grads) != n_inputs:
            raise ValueError(f"a custom_gradient grad_fn returned {len(input_grads)} gradients for {n_inputs} inputs")
        grads = list(input_grads) + list(variable_grads)
        return tuple(None if gr is None else (convert.array(gr) if F is RAW else gr) for gr in grads)
    return vjp


def _as_tensor(x):
    return x if isinstance(x, Tensor) else Tensor(np.asarray(x))


def _spread(upstream):
    return upstream if isinstance(upstream, tuple) else (upstream,)


def jvp(fun: Callable, primals, tangents, has_aux: bool = False):
    """Forward-mode derivative: ``(fun(*primals), J @ tangents)`` (and ``aux`` with ``has_aux``),
    computed as the derivative of a VJP with respect to its cotangent."""
    primals = [convert_to_tensor(p) for p in primals]
    tangents = [convert_to_tensor(t) for t in tangents]
    with _tape.GradientTape(watch_accessed_variables=False) as outer:
        with _tape.GradientTape(watch_accessed_variables=False) as inner:
            inner.watch(primals)
            result = fun(*primals)
        outputs, aux = result if has_aux else (result, None)
        from .creation import zeros_like
        cotangent = zeros_like(outputs)
        outer.watch(cotangent)
        pulled = inner.gradient(outputs, primals, output_gradients=cotangent, unconnected_gradients="zero")
    pushed = outer.gradient(pulled, cotangent, output_gradients=tangents, unconnected_gradients="zero")
    return (outputs, pushed, aux) if has_aux else (outputs, pushed)


# --- control flow -------------------------------------------------------------------------------------
def cond(pred, true_fn: Callable, false_fn: Callable):
    """``true_fn()`` if ``pred`` holds, else ``false_fn()``."""
    return true_fn() if bool(pred) else false_fn()


def switch(index, branches, *operands) -> Any:
    """``branches[index](*operands)``, the index clipped to the valid range."""
    i = min(max(int(index), 0), len(branches) - 1)
    return branches[i](*operands)


def fori_loop(lower, upper, body_fun: Callable, init_val):
    """``init_val`` passed through ``body_fun(i, val)`` for ``i`` in ``range(lower, upper)``."""
    value = init_val
    for i in range(int(lower), int(upper)):
        value = body_fun(i, value)
    return value


def while_loop(cond, body, loop_vars, maximum_iterations=None) -> Any:
    """``loop_vars = body(*loop_vars)`` while ``cond(*loop_vars)`` (at most ``maximum_iterations``)."""
    single = not isinstance(loop_vars, (tuple, list))
    values = (loop_vars,) if single else tuple(loop_vars)
    count = 0
    while bool(cond(*values)) and (maximum_iterations is None or count < maximum_iterations):
        out = body(*values)
        values = (out,) if single or not isinstance(out, (tuple, list)) else tuple(out)
        count += 1
    return values[0] if single else type(loop_vars)(values)


def _stack_tree(items):
    from .shape_ops import stack
    first = items[0]
    if isinstance(first, (tuple, list)):
        return type(first)(_stack_tree([item[i] for item in items]) for i in range(len(first)))
    if isinstance(first, dict):
        return {k: _stack_tree([item[k] for item in items]) for k in first}
    return stack(items)


def _slices(xs, length):
    from .indexing import take
    if xs is None:
        return [None] * length
    if isinstance(xs, (tuple, list)):
        columns = [_slices(x, length) for x in xs]
        return [type(xs)(col[i] for col in columns) for i in range(length)]
    return [take(xs, i, axis=0) for i in range(length)]


def _leading_length(xs):
    if isinstance(xs, (tuple, list)):
        return _leading_length(xs[0])
    return shape(xs)[0]


def scan(f: Callable, init, xs: Sequence[TensorLike] | None = None, length=None, reverse: bool = False,
         unroll: int = 1):
    """``carry, y = f(carry, x)`` over the leading axis of ``xs``; returns the last carry and
    the stacked ``y``s."""
    n = _leading_length(xs) if xs is not None else int(length)
    items = _slices(xs, n)
    order = range(n - 1, -1, -1) if reverse else range(n)
    carry, ys = init, [None] * n
    for i in order:
        carry, ys[i] = f(carry, items[i])
    return carry, (None if ys and ys[0] is None else _stack_tree(ys))


def associative_scan(f: Callable, elems, reverse: bool = False, axis: int | Sequence[int] | None = 0):
    """The running ``f``-combination of ``elems`` along ``axis`` (``f`` associative)."""
    from .shape_ops import moveaxis
    moved = moveaxis(elems, axis, 0) if not isinstance(elems, (tuple, list)) else elems
    n = _leading_length(moved)
    items = _slices(moved, n)
    order = list(range(n - 1, -1, -1)) if reverse else list(range(n))
    out, acc = [None] * n, None
    for i in order:
        acc = items[i] if acc is None else (f(items[i], acc) if reverse else f(acc, items[i]))
        out[i] = acc
    stacked = _stack_tree(out)
    return moveaxis(stacked, 0, axis) if not isinstance(stacked, (tuple, list)) else stacked


def map(f: Callable, xs: Sequence[TensorLike]):
    """``f`` applied to each slice of ``xs`` along its leading axis, the results stacked."""
    n = _leading_length(xs)
    return _stack_tree([f(x) for x in _slices(xs, n)])


def vectorized_map(function: Callable, elements: TensorLike):
    """``map`` (run slice by slice: lamina executes eagerly)."""
    return map(function, elements)


def vectorize(pyfunc: Callable, *, excluded=None, signature=None):
    """``pyfunc`` applied element by element, as NumPy's ``vectorize`` (no gradient)."""
    vectorized = np.vectorize(pyfunc, excluded=excluded, signature=signature)

    @functools.wraps(pyfunc)
    def wrapper(*args, **kwargs):
        out = vectorized(*[convert.value(a) for a in args], **kwargs)
        return tuple(Tensor(o) for o in out) if isinstance(out, tuple) else Tensor(np.asarray(out))
    return wrapper
