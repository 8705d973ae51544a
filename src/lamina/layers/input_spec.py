"""``InputSpec``: what a layer says about its first input (rank, dtype, shape, sizes along
axes), checked at each call before and after ``build``, as Keras 3 checks it.

>>> import lamina
>>> class Pairs(lamina.layers.Layer):
...     def __init__(self, **kwargs):
...         super().__init__(**kwargs)
...         self.input_spec = lamina.layers.InputSpec(ndim=2, axes={-1: 2})
>>> try:
...     Pairs(name="pairs")(lamina.ops.ones((3, 4)))
... except ValueError as error:
...     print(error)
Input 0 of layer 'pairs' is incompatible with the layer: expected axis -1 of size 2, found 4 (full shape (3, 4))
"""
from __future__ import annotations

from typing import Any

from .._errors import _LAYER
from .._errors import _shape as _shown_shape

__all__ = ["InputSpec", "assert_input_compatibility"]


def _shape(shape, what: str) -> tuple:
    if shape is None or not hasattr(shape, "__iter__"):
        raise ValueError(f"{what} must be a tuple of ints and Nones, got {shape!r}")
    dims = tuple(shape)
    for d in dims:
        if d is not None and (isinstance(d, (str, float, bool)) or not hasattr(d, "__index__") or int(d) < 0):
            raise ValueError(f"{what} must be a tuple of non-negative ints and Nones, got {shape!r}")
    return tuple(None if d is None else int(d) for d in dims)


def _dtype(dtype) -> str:
    from ..ops.dtypes import standardize_dtype
    return standardize_dtype(dtype)


class InputSpec:
    """The rank (``ndim``, ``min_ndim``, ``max_ndim``), ``dtype``, ``shape`` (batch included;
    None matches any size) and sizes along ``axes`` (``{-1: 8}``) a layer's input must have.
    ``allow_last_axis_squeeze`` lets a ``shape`` match with a last axis of 1 added or removed;
    ``name`` picks an input from a dict; ``optional`` lets the input be None. A layer sets
    ``self.input_spec`` (one spec, or a list of them, one per input)."""

    def __init__(self, dtype: Any = None, shape: Any = None, ndim: int | None = None, max_ndim: int | None = None,
                 min_ndim: int | None = None, axes: dict | None = None, allow_last_axis_squeeze: bool = False,
                 name: str | None = None, optional: bool = False):
        self.dtype = None if dtype is None else _dtype(dtype)
        self.shape = None if shape is None else _shape(shape, "InputSpec's shape")
        self.ndim = ndim if self.shape is None else len(self.shape)
        self.max_ndim, self.min_ndim = max_ndim, min_ndim
        self.name, self.optional = name, optional
        self.allow_last_axis_squeeze = allow_last_axis_squeeze
        try:
            self.axes = {int(k): v for k, v in (axes or {}).items()}
        except (AttributeError, TypeError, ValueError) as error:
            raise TypeError(f"InputSpec's axes must be a dict with int keys, got {axes!r}") from error
        highest = self.ndim or self.max_ndim
        if self.axes and highest is not None and max(self.axes) > highest - 1:
            raise ValueError(f"InputSpec's axes name axis {max(self.axes)}, beyond the highest of an input of "
                             f"rank {highest}: {highest - 1}")

    def __repr__(self) -> str:
        fields = [("dtype", self.dtype), ("shape", self.shape), ("ndim", self.ndim), ("max_ndim", self.max_ndim),
                  ("min_ndim", self.min_ndim), ("axes", self.axes)]
        return "InputSpec(" + ", ".join(f"{key}={value}" for key, value in fields if value) + ")"

    def get_config(self) -> dict:
        """The arguments that rebuild this spec (Keras's keys)."""
        return {"dtype": self.dtype, "shape": self.shape, "ndim": self.ndim, "max_ndim": self.max_ndim,
                "min_ndim": self.min_ndim, "axes": self.axes, "optional": self.optional}

    @classmethod
    def from_config(cls, config: dict) -> InputSpec:
        """The spec ``get_config`` described."""
        return cls(**config)


def _refused(spec: InputSpec, index: int, layer_name: str, detail: str) -> ValueError:
    named = f" (named '{spec.name}')" if spec.name else ""
    error = ValueError(f"Input {index}{named} of layer '{layer_name}' is incompatible with the layer: {detail}")
    setattr(error, _LAYER, True)  # it names the layer already: the call's error handling leaves it alone
    return error


def _check_rank(spec: InputSpec, shape: tuple, index: int, layer_name: str) -> None:
    ndim = len(shape)
    if spec.ndim is not None and not spec.allow_last_axis_squeeze and ndim != spec.ndim:
        raise _refused(spec, index, layer_name, f"expected ndim={spec.ndim}, found ndim={ndim} (full shape {shape})")
    if spec.max_ndim is not None and ndim > spec.max_ndim:
        raise _refused(spec, index, layer_name, f"expected max_ndim={spec.max_ndim}, found ndim={ndim} "
                                                f"(full shape {shape})")
    if spec.min_ndim is not None and ndim < spec.min_ndim:
        raise _refused(spec, index, layer_name, f"expected min_ndim={spec.min_ndim}, found ndim={ndim} "
                                                f"(full shape {shape})")


def _check_shape(spec: InputSpec, shape: tuple, index: int, layer_name: str) -> None:
    ndim = len(shape)
    for axis, size in spec.axes.items():
        if size is None:
            continue
        if not -ndim <= axis < ndim:
            raise _refused(spec, index, layer_name, f"axis {axis} does not exist in an input of ndim={ndim} "
                                                    f"(full shape {shape})")
        if shape[axis] is not None and shape[axis] != size:
            raise _refused(spec, index, layer_name, f"expected axis {axis} of size {size}, found {shape[axis]} "
                                                    f"(full shape {shape})")
    if spec.shape is None:
        return
    expected, given = spec.shape, shape
    if spec.allow_last_axis_squeeze:
        if len(given) == len(expected) + 1 and given[-1] == 1:
            given = given[:-1]
        elif len(expected) == len(given) + 1 and expected[-1] == 1:
            expected = expected[:-1]
    # ranks that still differ are compared on their leading axes (as Keras: the model checks the rank)
    if any(e is not None and g is not None and e != g for e, g in zip(expected, given)):
        raise _refused(spec, index, layer_name, f"expected shape={spec.shape}, found shape={shape}")


def _check(spec: InputSpec, x, index: int, layer_name: str) -> None:
    if not hasattr(x, "shape"):
        raise ValueError(f"Inputs to a layer should be tensors: layer '{layer_name}' got {x!r:.100} "
                         f"(of type {type(x).__name__}) as input {index}")
    # while a symbolic call infers its output shape on stand-in inputs, their made-up sizes are Nones
    shape = tuple(None if d is None else int(d) for d in _shown_shape(x))
    _check_rank(spec, shape, index, layer_name)
    if spec.dtype is not None and _dtype(x.dtype) != spec.dtype:
        raise _refused(spec, index, layer_name, f"expected dtype={spec.dtype}, found dtype={_dtype(x.dtype)}")
    _check_shape(spec, shape, index, layer_name)


def _ordered_inputs(specs: list, inputs, layer_name: str) -> list:
    from .. import tree
    names = [spec.name if spec is not None else None for spec in specs]
    if isinstance(inputs, dict) and names and all(names):
        missing = [name for name in names if name not in inputs]
        if missing:
            raise ValueError(f"Layer '{layer_name}' got a dict of inputs without {missing}: its keys are "
                             f"{list(inputs)}, the layer expects {names}")
        inputs = [inputs[name] for name in names]
    flat = tree.flatten(inputs)
    if len(flat) != len(specs):
        keyed = f" with the keys {names} (pass a dict)" if names and all(names) else ""
        raise ValueError(f"Layer '{layer_name}' expects {len(specs)} input(s){keyed}, but it received "
                         f"{len(flat)} input tensor(s)")
    return flat


def assert_input_compatibility(input_spec, inputs, layer_name: str) -> None:
    """Raise a ValueError naming the layer, the input, what was expected and what came, when
    ``inputs`` (a tensor or a structure of them) do not meet ``input_spec``."""
    if not input_spec:
        return
    from .. import tree
    if isinstance(input_spec, InputSpec) and not tree.is_nested(inputs):
        if not (inputs is None and input_spec.optional):
            _check(input_spec, inputs, 0, layer_name)
        return
    specs = tree.flatten(input_spec)
    for index, (x, spec) in enumerate(zip(_ordered_inputs(specs, inputs, layer_name), specs)):
        if spec is not None and not (x is None and spec.optional):
            _check(spec, x, index, layer_name)
