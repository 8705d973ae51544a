"""Activation layers, as Keras 3's: ``ReLU``, ``LeakyReLU``, ``PReLU`` (a learned slope),
``ELU`` and ``Softmax`` (with Keras's explicit ``mask`` argument).

They are written in ``lamina.ops``, so the tape differentiates them; PReLU's slope ``alpha`` is a
trainable weight like any other. (``lamina.activations`` holds the functions these layers call.)

>>> import numpy as np, lamina
>>> lamina.layers.ReLU(max_value=10, negative_slope=0.5)(np.array([-10.0, -5.0, 0.0, 5.0, 20.0])).numpy().tolist()
[-5.0, -2.5, 0.0, 5.0, 10.0]
"""
from __future__ import annotations

import numbers
import warnings
from collections.abc import Sequence

from .. import activations as functions
from .. import constraints, initializers, ops, regularizers
from .._types import ConstraintLike, InitializerLike, RegularizerLike
from .layer import Layer


def _non_negative(owner: str, name: str, value, allow_none: bool = False):
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or value < 0:
        none = "None or " if allow_none else ""
        raise ValueError(f"{owner} expects {name} to be {none}a number >= 0, got {name}={value!r}")
    return value


class _ElementwiseActivation(Layer):
    """An activation layer: the output has the input's shape."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True
        self.built = True  # no weights (Keras builds these at construction)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)


class ReLU(_ElementwiseActivation):
    """``max(x, 0)``, with Keras's options: ``threshold`` (values at or below it give 0, or
    ``negative_slope * (x - threshold)``) and a ``max_value`` cap.

    >>> import numpy as np, lamina
    >>> lamina.layers.ReLU(threshold=1.0)(np.array([0.5, 1.0, 2.0])).numpy().tolist()
    [0.0, 0.0, 2.0]
    """

    def __init__(self, max_value: float | None = None, negative_slope: float = 0.0, threshold: float = 0.0, **kwargs):
        super().__init__(**kwargs)
        owner = f"ReLU '{self.name}'"
        self.max_value = _non_negative(owner, "max_value", max_value, allow_none=True)
        self.negative_slope = _non_negative(owner, "negative_slope", negative_slope)
        self.threshold = _non_negative(owner, "threshold", threshold)

    def call(self, inputs):
        return functions.relu(inputs, negative_slope=self.negative_slope, max_value=self.max_value,
                              threshold=self.threshold)

    def get_config(self):
        return {**super().get_config(), "max_value": self.max_value, "negative_slope": self.negative_slope,
                "threshold": self.threshold}


class LeakyReLU(_ElementwiseActivation):
    """``x`` where ``x >= 0``, else ``negative_slope * x`` (0.3 by default, as Keras's layer; the
    function ``lamina.activations.leaky_relu`` defaults to 0.2). The tf.keras 2 name ``alpha`` is
    accepted with a deprecation warning, as Keras 3 does.

    >>> import numpy as np, lamina
    >>> lamina.layers.LeakyReLU()(np.array([-10.0, 10.0])).numpy().tolist()
    [-3.0, 10.0]
    """

    def __init__(self, negative_slope: float = 0.3, **kwargs):
        if "alpha" in kwargs:
            negative_slope = kwargs.pop("alpha")
            warnings.warn("LeakyReLU: the argument `alpha` is deprecated; use `negative_slope` instead",
                          UserWarning, stacklevel=2)
        super().__init__(**kwargs)
        self.negative_slope = _non_negative(f"LeakyReLU '{self.name}'", "negative_slope", negative_slope)

    def call(self, inputs):
        return ops.leaky_relu(inputs, negative_slope=self.negative_slope)

    def get_config(self):
        return {**super().get_config(), "negative_slope": self.negative_slope}


class PReLU(Layer):
    """``x`` where ``x >= 0``, else ``alpha * x``, with ``alpha`` a trainable weight of the
    per-sample input shape (size 1 along ``shared_axes``, which share one slope).

    >>> import numpy as np, lamina
    >>> layer = lamina.layers.PReLU(alpha_initializer=lamina.initializers.Constant(0.25))
    >>> layer(np.array([[-4.0, 4.0]])).numpy().tolist(), layer.alpha.shape
    ([[-1.0, 4.0]], (2,))
    """

    def __init__(self, alpha_initializer: InitializerLike = "Zeros", alpha_regularizer: RegularizerLike = None,
                 alpha_constraint: ConstraintLike = None, shared_axes: int | list[int] | tuple[int, ...] | None = None,
                 **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True
        self.alpha_initializer = initializers.get(alpha_initializer)
        self.alpha_regularizer = regularizers.get(alpha_regularizer)
        self.alpha_constraint = constraints.get(alpha_constraint)
        if shared_axes is not None and not isinstance(shared_axes, (list, tuple)):
            shared_axes = [shared_axes]
        if shared_axes is not None and not all(isinstance(a, int) and not isinstance(a, bool) and a >= 1
                                               for a in shared_axes):
            raise ValueError(f"PReLU '{self.name}' expects shared_axes to be None or axes >= 1 (axis 0 is the "
                             f"batch), got shared_axes={shared_axes!r}")
        self.shared_axes = None if shared_axes is None else list(shared_axes)
        self.alpha = None

    def build(self, input_shape):
        sample = list(input_shape[1:])
        for axis in self.shared_axes or []:
            if axis > len(sample):
                raise ValueError(f"PReLU '{self.name}' got shared_axes={self.shared_axes}, but its inputs of shape "
                                 f"{tuple(input_shape)} have no axis {axis}")
            sample[axis - 1] = 1
        if None in sample:
            raise ValueError(f"PReLU '{self.name}' needs known input dimensions for its alpha weight, got inputs of "
                             f"shape {tuple(input_shape)} (share the unknown axes with shared_axes)")
        self.alpha = self.add_weight(shape=sample, initializer=self.alpha_initializer, name="alpha",
                                     regularizer=self.alpha_regularizer, constraint=self.alpha_constraint)
        self.built = True

    def call(self, inputs):
        shared = self.shared_axes or []
        sample = tuple(inputs.shape[1:])
        if len(sample) != len(self.alpha.shape) or any(
                axis not in shared and size != built for axis, (size, built) in enumerate(
                    zip(sample, self.alpha.shape), start=1)):
            raise ValueError(f"PReLU '{self.name}' was built for inputs of shape (None, *{self.alpha.shape}) "
                             f"(shared_axes={self.shared_axes}), got inputs of shape {tuple(inputs.shape)}")
        return ops.relu(inputs) - self.alpha * ops.relu(-inputs)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "alpha_initializer": initializers.serialize(self.alpha_initializer),
                "alpha_regularizer": regularizers.serialize(self.alpha_regularizer),
                "alpha_constraint": constraints.serialize(self.alpha_constraint), "shared_axes": self.shared_axes}


class ELU(_ElementwiseActivation):
    """``x`` where ``x > 0``, else ``alpha * (exp(x) - 1)``.

    >>> import numpy as np, lamina
    >>> round(float(lamina.layers.ELU(alpha=2.0)(np.array([-30.0]))[0]), 4)
    -2.0
    """

    def __init__(self, alpha: float = 1.0, **kwargs):
        super().__init__(**kwargs)
        if isinstance(alpha, bool) or not isinstance(alpha, numbers.Real):
            raise TypeError(f"ELU '{self.name}' expects alpha to be a number, got alpha={alpha!r}")
        self.alpha = alpha

    def call(self, inputs):
        return ops.elu(inputs, alpha=self.alpha)

    def get_config(self):
        # Keras 3 leaves alpha out of ELU's config (so its files forget it); lamina writes it
        return {**super().get_config(), "alpha": self.alpha}


def _large_negative(dtype: str) -> float:
    """What masked logits become before the softmax (Keras's values: float16 cannot hold -1e9)."""
    return -3e4 if dtype == "float16" else -1e9


class Softmax(_ElementwiseActivation):
    """``exp(x) / sum(exp(x))`` along ``axis`` (an int, or several axes normalized together).

    ``mask`` (a call argument, as Keras's): a tensor broadcastable to the inputs, True (or > 0.5)
    where a position counts; masked positions get probability 0.

    >>> import numpy as np, lamina
    >>> [round(float(p), 4) for p in lamina.layers.Softmax()(np.array([1.0, 2.0, 1.0]))]
    [0.2119, 0.5761, 0.2119]
    >>> lamina.layers.Softmax()(np.array([[1.0, 2.0, 1.0]]), mask=np.array([[True, False, True]])).numpy().tolist()
    [[0.5, 0.0, 0.5]]
    """

    def __init__(self, axis: int | Sequence[int] = -1, **kwargs):
        super().__init__(**kwargs)
        axes = axis if isinstance(axis, (list, tuple)) else [axis]
        if not axes or not all(isinstance(a, int) and not isinstance(a, bool) for a in axes):
            raise TypeError(f"Softmax '{self.name}' expects axis to be an int or a list of ints, got axis={axis!r}")
        self.axis = list(axis) if isinstance(axis, (list, tuple)) else axis

    def call(self, inputs, mask=None):
        if mask is not None:
            mask = self._boolean_mask(inputs, ops.convert_to_tensor(mask))
            inputs = ops.where(mask, inputs, _large_negative(inputs.dtype))
        if isinstance(self.axis, list) and len(self.axis) > 1:
            outputs = ops.exp(inputs - ops.logsumexp(inputs, axis=tuple(self.axis), keepdims=True))
        else:
            outputs = ops.softmax(inputs, axis=self.axis[0] if isinstance(self.axis, list) else self.axis)
        if mask is not None:  # a row masked everywhere would otherwise be uniform
            outputs = ops.where(mask, outputs, 0.0)
        return outputs

    def _boolean_mask(self, inputs, mask):
        if mask.ndim > inputs.ndim or any(m != 1 and m != i for m, i in zip(mask.shape[::-1], inputs.shape[::-1])):
            raise ValueError(f"Softmax '{self.name}' expects a mask broadcastable to its inputs (each mask dimension "
                             f"1 or equal to the input's, no more dimensions), got inputs of shape {inputs.shape} "
                             f"and a mask of shape {mask.shape}")
        return mask if mask.dtype == "bool" else ops.greater(mask, 0.5)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


__all__ = ["ReLU", "LeakyReLU", "PReLU", "ELU", "Softmax"]
