"""``Lambda``: a Python function as a layer, as Keras 3's.

The function runs on the layer's inputs (written in ``lamina.ops``, the tape differentiates it).
Its config stores the function as Keras does: a Python lambda as its bytecode (marshal + base64,
with its defaults and closure values), a named function by name. Loading a lambda from a file
runs code the file holds, so it is refused unless the user opts in (``safe_mode=False`` in
``load_model`` or ``from_config``, or ``lamina.config.enable_unsafe_deserialization()``); a named
function is found only through ``custom_objects`` or ``register_keras_serializable``.

>>> import numpy as np, lamina
>>> lamina.layers.Lambda(lambda x: x ** 2)(np.array([[1.0, 3.0]])).numpy().tolist()
[[1.0, 9.0]]
>>> x = lamina.Input((4,))
>>> lamina.layers.Lambda(lambda t: lamina.ops.sum(t, axis=-1, keepdims=True))(x).shape
(None, 1)
"""
from __future__ import annotations

import inspect
import types
from collections.abc import Callable, Mapping
from typing import Any

from ..backend.keras_tensor import KerasTensor
from ..ops.tensor import Tensor
from ..saving import safe_mode as safe_mode_lib
from ..saving.serialization_lib import deserialize_keras_object, serialize_keras_object
from .layer import Layer
from .shapes import run_on_stand_ins


def _is_python_lambda(fn) -> bool:
    return isinstance(fn, types.LambdaType) and fn.__name__ == "<lambda>"


def _is_shape(value) -> bool:
    return isinstance(value, (list, tuple)) and all(d is None or (isinstance(d, int) and not isinstance(d, bool))
                                                    for d in value)


class Lambda(Layer):
    """Wraps ``function(inputs, **arguments)`` as a layer.

    ``output_shape``: None (found by running the function on stand-in inputs), a shape without
    the batch axis, or a function of the whole input shape. ``mask`` must be None (lamina has no
    mask propagation). ``arguments``: keyword arguments for the function. When the function
    takes ``training`` (or ``mask``), the layer passes it.
    """

    def __init__(self, function: Callable,
                 output_shape: tuple[int | None, ...] | list[int | None] | Callable | None = None,
                 mask: Callable | Tensor | None = None,  # Keras's; lamina refuses any but None
                 arguments: dict[str, Any] | None = None, **kwargs):
        super().__init__(**kwargs)
        if not callable(function):
            raise TypeError(f"Lambda '{self.name}' expects a callable function, got {function!r:.100}")
        if mask is not None:
            raise ValueError(f"Lambda '{self.name}' got mask={mask!r:.100}, but lamina has no mask propagation, so "
                             "an output mask would be ignored: pass mask=None (or mask the values in the function)")
        if output_shape is not None and not callable(output_shape) and not _is_shape(output_shape):
            raise TypeError(f"Lambda '{self.name}' expects output_shape to be None, a shape tuple (without the batch "
                            f"axis) or a function of the input shape, got output_shape={output_shape!r:.100}")
        if arguments is not None and not isinstance(arguments, dict):
            raise TypeError(f"Lambda '{self.name}' expects arguments to be a dict of keyword arguments, "
                            f"got {arguments!r:.100}")
        self.function = function
        self.arguments = dict(arguments or {})
        self.mask = None
        self._output_shape = tuple(output_shape) if isinstance(output_shape, list) else output_shape
        names: Mapping[str, inspect.Parameter]
        try:
            names = inspect.signature(function).parameters
        except (TypeError, ValueError):
            names = {}
        self._fn_expects_training_arg = "training" in names
        self._fn_expects_mask_arg = "mask" in names
        self.built = True

    def call(self, inputs, mask=None, training=None):
        kwargs = dict(self.arguments)
        if self._fn_expects_mask_arg:
            kwargs["mask"] = mask
        if self._fn_expects_training_arg:
            kwargs["training"] = training
        return self.function(inputs, **kwargs)

    def compute_output_shape(self, input_shape):
        if self._output_shape is None:
            return _shapes_of(self.compute_output_spec(_symbolic(input_shape, self.dtype)))
        if callable(self._output_shape):
            return self._output_shape(input_shape)
        first = input_shape[0] if _is_shape(input_shape) else input_shape[0][0]
        return (first, *self._output_shape)

    def compute_output_spec(self, inputs, **kwargs):
        if self._output_shape is None:
            return run_on_stand_ins(lambda *a, **k: Layer.__call__(self, *a, **k), (inputs,), kwargs)
        shape = self.compute_output_shape(_shapes_of(inputs))
        if _is_shape(shape):
            return KerasTensor(tuple(shape), dtype=self.dtype)
        return [KerasTensor(tuple(s), dtype=self.dtype) for s in shape]

    # --- config ----------------------------------------------------------------------------
    def get_config(self):
        config = {**super().get_config(), "function": _serialize_function(self.function)}
        if self._output_shape is not None:
            config["output_shape"] = _serialize_function(self._output_shape) if callable(self._output_shape) \
                else list(self._output_shape)
        config["arguments"] = serialize_keras_object(self.arguments)
        return config

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None, safe_mode: bool | None = None):
        """A Lambda from ``get_config()`` output. A stored Python lambda is rebuilt only when
        ``safe_mode=False`` (or the enclosing load, or ``enable_unsafe_deserialization``, allows
        it); otherwise a ValueError says how to opt in."""
        config = dict(config)
        if "function" not in config:
            raise ValueError("Lambda.from_config needs a 'function' entry")
        config["function"] = _deserialize_function(config["function"], custom_objects, safe_mode, "function")
        if config.get("output_shape") is not None:
            shape = config["output_shape"]
            config["output_shape"] = tuple(shape) if _is_shape(shape) else \
                _deserialize_function(shape, custom_objects, safe_mode, "output_shape")
        if "arguments" in config:
            config["arguments"] = deserialize_keras_object(config["arguments"], custom_objects=custom_objects)
        return cls(**config)


def _symbolic(shape, dtype: str):
    if _is_shape(shape):
        return KerasTensor(tuple(shape), dtype=dtype)
    return [KerasTensor(tuple(s), dtype=dtype) for s in shape]


def _shapes_of(value):
    if isinstance(value, KerasTensor):
        return tuple(value.shape)
    return [tuple(v.shape) for v in value]


def _serialize_function(fn):
    """Keras's form: a Python lambda as ``__lambda__`` with its bytecode, a named function by name."""
    if _is_python_lambda(fn):
        code, defaults, closure = safe_mode_lib.dump_function(fn)
        return {"class_name": "__lambda__", "config": {"code": code, "defaults": serialize_keras_object(defaults),
                                                       "closure": serialize_keras_object(closure)}}
    return serialize_keras_object(fn)


def _deserialize_function(config, custom_objects, safe_mode, what: str):
    if isinstance(config, dict) and config.get("class_name") == "__lambda__":
        inner = config.get("config")
        if not isinstance(inner, dict):
            raise ValueError(f"Lambda's stored {what} must hold a config dict, got {inner!r:.100}")
        refusal = f"a Lambda layer whose {what} is a Python lambda"
        if safe_mode_lib.effective_safe_mode(safe_mode):  # before anything in the config is read
            raise ValueError(safe_mode_lib.REFUSAL.format(what=refusal))
        defaults, closure = (deserialize_keras_object(inner.get(key), custom_objects=custom_objects)
                             for key in ("defaults", "closure"))
        return safe_mode_lib.load_function(inner.get("code"), defaults, closure, safe_mode=False, what=refusal)
    function = deserialize_keras_object(config, custom_objects=custom_objects)
    if not callable(function):
        raise ValueError(f"Lambda's stored {what} must name a function, got {config!r:.100}")
    return function


__all__ = ["Lambda"]
