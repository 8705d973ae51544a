"""Layers that normalize: ``BatchNormalization`` (over the batch), ``LayerNormalization`` (over each
sample's features) and ``UnitNormalization`` (to unit L2 norm).

``BatchNormalization`` and ``LayerNormalization`` are fused nodes (``fused.py``) whose backward passes
are the closed forms. With ``xhat = (x - mean) * inv`` and ``inv = 1/sqrt(var + eps)`` over ``N`` reduced
entries, ``dx = inv * (g - mean(g) - xhat * mean(g * xhat))`` where ``g = dy * gamma``: the mean and
variance depend on every reduced entry, hence the two correction terms. ``composite`` computes the
same in ops (the tests hold the closed forms to its automatic gradient).
"""
from __future__ import annotations

from typing import Any

from collections.abc import Sequence

import numpy as np

from .. import constraints, initializers, ops, regularizers
from .fused import FusedCall
from .layer import Layer


def check_axis(owner: str, axis, allow_list: bool) -> int | list:
    """An int axis (or a list of them when ``allow_list``), else a TypeError naming the value."""
    if allow_list and isinstance(axis, (list, tuple)):
        if all(isinstance(a, (int, np.integer)) and not isinstance(a, bool) for a in axis) and axis:
            return [int(a) for a in axis]
    elif isinstance(axis, (int, np.integer)) and not isinstance(axis, bool):
        return int(axis)
    expected = "an int or a list of ints" if allow_list else "an int"
    raise TypeError(f"{owner} expects axis to be {expected}, got axis={axis!r}")


def resolve_axes(owner: str, axes, ndim: int) -> tuple[int, ...]:
    """``axes`` (an int or a list) as non-negative ints for inputs of rank ``ndim``, batch axis excluded."""
    resolved = []
    for axis in [axes] if isinstance(axes, int) else axes:
        if not -ndim <= axis < ndim or axis % ndim == 0:
            raise ValueError(f"{owner} got axis={axes}, out of range for inputs of rank {ndim} "
                             f"(valid: 1..{ndim - 1} or -{ndim - 1}..-1; axis 0 is the batch)")
        resolved.append(axis % ndim)
    return tuple(resolved)


def _check_epsilon(owner: str, epsilon) -> float:
    if isinstance(epsilon, bool) or not isinstance(epsilon, (int, float, np.integer, np.floating)):
        raise TypeError(f"{owner} expects epsilon to be a float, got epsilon={epsilon!r}")
    if epsilon < 0:
        raise ValueError(f"{owner} expects epsilon >= 0, got epsilon={epsilon}")
    return float(epsilon)


class BatchNormalization(FusedCall, Layer):
    """Normalizes each feature (``axis``) with the batch's mean and variance while training, and with
    their moving averages at inference: ``gamma * (x - mean) / sqrt(var + epsilon) + beta``.

    While training the moving statistics follow ``moving = moving * momentum + batch * (1 - momentum)``
    (the batch variance is the biased one). With ``trainable = False`` the layer runs in inference mode,
    as in Keras.

    >>> import numpy as np, lamina
    >>> layer = lamina.layers.BatchNormalization()
    >>> y = layer(np.array([[1.0, 10.0], [3.0, 30.0]]), training=True)
    >>> np.round(y, 3).tolist()
    [[-1.0, -1.0], [1.0, 1.0]]
    >>> [w.name for w in layer.weights]
    ['gamma', 'beta', 'moving_mean', 'moving_variance']
    """

    def __init__(self, axis: int = -1, momentum: float = 0.99, epsilon: float = 1e-3, center: bool = True,
                 scale: bool = True, beta_initializer: Any = "zeros", gamma_initializer: Any = "ones",
                 moving_mean_initializer: Any = "zeros", moving_variance_initializer: Any = "ones",
                 beta_regularizer: Any = None, gamma_regularizer: Any = None,
                 beta_constraint: Any = None, gamma_constraint: Any = None, synchronized: bool = False,
                 **kwargs):
        super().__init__(**kwargs)
        owner = f"BatchNormalization '{self.name}'"
        self.axis = check_axis(owner, axis, allow_list=False)
        if isinstance(momentum, bool) or not isinstance(momentum, (int, float, np.integer, np.floating)) \
                or not 0.0 <= momentum <= 1.0:
            raise ValueError(f"{owner} expects momentum in [0, 1], got momentum={momentum!r}")
        self.momentum = float(momentum)
        self.epsilon = _check_epsilon(owner, epsilon)
        self.center, self.scale = bool(center), bool(scale)
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.moving_mean_initializer = initializers.get(moving_mean_initializer)
        self.moving_variance_initializer = initializers.get(moving_variance_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        self.beta_constraint = constraints.get(beta_constraint)
        self.gamma_constraint = constraints.get(gamma_constraint)
        self.synchronized = bool(synchronized)  # one device here: nothing to synchronize
        self.gamma = self.beta = self.moving_mean = self.moving_variance = None

    def build(self, input_shape):
        owner = f"BatchNormalization '{self.name}'"
        (axis,) = resolve_axes(owner, self.axis, len(input_shape))
        if input_shape[axis] is None:
            raise ValueError(f"{owner} needs a known size along axis={self.axis}, got inputs of shape {input_shape}")
        shape = (input_shape[axis],)
        self._reduce = tuple(d for d in range(len(input_shape)) if d != axis)
        self._broadcast = tuple(input_shape[d] if d == axis else 1 for d in range(len(input_shape)))
        # Keras creates (and saves) them in this order: gamma, beta, moving_mean, moving_variance.
        if self.scale:
            self.gamma = self.add_weight(shape, self.gamma_initializer, name="gamma",
                                         regularizer=self.gamma_regularizer, constraint=self.gamma_constraint)
        if self.center:
            self.beta = self.add_weight(shape, self.beta_initializer, name="beta",
                                        regularizer=self.beta_regularizer, constraint=self.beta_constraint)
        self.moving_mean = self.add_weight(shape, self.moving_mean_initializer, name="moving_mean", trainable=False)
        self.moving_variance = self.add_weight(shape, self.moving_variance_initializer, name="moving_variance",
                                               trainable=False)
        self.built = True

    def forward(self, x, training=False):
        batch_mode = bool(training) and self.trainable
        if batch_mode:
            mean = x.mean(axis=self._reduce)
            variance = x.var(axis=self._reduce)
            m = self.momentum
            for moving, batch in ((self.moving_mean, mean), (self.moving_variance, variance)):
                moving._value *= m
                moving._value += (1.0 - m) * batch
                moving._written()
        else:
            mean, variance = self.moving_mean._value, self.moving_variance._value
        inv = (1.0 / np.sqrt(variance + self.epsilon)).astype(x.dtype, copy=False).reshape(self._broadcast)
        xhat = (x - mean.reshape(self._broadcast).astype(x.dtype, copy=False)) * inv
        y = xhat * self.gamma._value.reshape(self._broadcast) if self.scale else xhat.copy()
        if self.center:
            y += self.beta._value.reshape(self._broadcast)
        return y, (xhat, inv, batch_mode)

    def backward(self, ctx, dy, needs=None):
        xhat, inv, batch_mode = ctx
        grads = ([(dy * xhat).sum(axis=self._reduce)] if self.scale else []) + \
            ([dy.sum(axis=self._reduce)] if self.center else [])
        g = dy * self.gamma._value.reshape(self._broadcast) if self.scale else dy
        if batch_mode:  # the batch statistics depend on x too
            g = g - g.mean(axis=self._reduce, keepdims=True) \
                - xhat * (g * xhat).mean(axis=self._reduce, keepdims=True)
        return g * inv, grads

    def composite(self, x, training=None):
        if training and self.trainable:
            mean, variance = ops.mean(x, axis=self._reduce), ops.var(x, axis=self._reduce)
        else:
            mean, variance = self.moving_mean, self.moving_variance
        shape = self._broadcast
        y = (x - ops.reshape(mean, shape)) * ops.rsqrt(ops.reshape(variance, shape) + self.epsilon)
        if self.scale:
            y = y * ops.reshape(self.gamma, shape)
        return y + ops.reshape(self.beta, shape) if self.center else y

    def get_config(self):
        return {**super().get_config(), "axis": self.axis, "momentum": self.momentum, "epsilon": self.epsilon,
                "center": self.center, "scale": self.scale,
                "beta_initializer": initializers.serialize(self.beta_initializer),
                "gamma_initializer": initializers.serialize(self.gamma_initializer),
                "moving_mean_initializer": initializers.serialize(self.moving_mean_initializer),
                "moving_variance_initializer": initializers.serialize(self.moving_variance_initializer),
                "beta_regularizer": regularizers.serialize(self.beta_regularizer),
                "gamma_regularizer": regularizers.serialize(self.gamma_regularizer),
                "beta_constraint": constraints.serialize(self.beta_constraint),
                "gamma_constraint": constraints.serialize(self.gamma_constraint),
                "synchronized": self.synchronized}


class LayerNormalization(FusedCall, Layer):
    """Normalizes each sample over ``axis`` (its features): ``gamma * (x - mean) / sqrt(var + epsilon) + beta``.
    With ``rms_scaling`` the output is ``gamma * x / sqrt(var + epsilon)`` (no centring, no beta), as Keras 3
    computes it.

    >>> import numpy as np, lamina
    >>> y = lamina.layers.LayerNormalization()(np.array([[1.0, 2.0, 3.0]]))
    >>> [round(float(v), 3) for v in y[0]]
    [-1.224, 0.0, 1.224]
    """

    def __init__(self, axis: int | Sequence[int] = -1, epsilon: float = 1e-3, center: bool = True, scale: bool = True,
                 rms_scaling: bool = False, beta_initializer: Any = "zeros", gamma_initializer: Any = "ones",
                 beta_regularizer: Any = None, gamma_regularizer: Any = None,
                 beta_constraint: Any = None, gamma_constraint: Any = None, **kwargs):
        super().__init__(**kwargs)
        owner = f"LayerNormalization '{self.name}'"
        self.axis = check_axis(owner, axis, allow_list=True)
        self.epsilon = _check_epsilon(owner, epsilon)
        self.center, self.scale, self.rms_scaling = bool(center), bool(scale), bool(rms_scaling)
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        self.beta_constraint = constraints.get(beta_constraint)
        self.gamma_constraint = constraints.get(gamma_constraint)
        self.gamma = self.beta = None

    def build(self, input_shape):
        owner = f"LayerNormalization '{self.name}'"
        axes = resolve_axes(owner, self.axis, len(input_shape))
        if any(input_shape[d] is None for d in axes):
            raise ValueError(f"{owner} needs known sizes along axis={self.axis}, got inputs of shape {input_shape}")
        shape = tuple(input_shape[d] for d in axes)  # in the order given, as Keras shapes gamma and beta
        self._axes = tuple(sorted(axes))
        self._others = tuple(d for d in range(len(input_shape)) if d not in axes)
        self._broadcast = tuple(input_shape[d] if d in axes else 1 for d in range(len(input_shape)))
        if isinstance(self.axis, int):
            self.axis = [self.axis]  # Keras keeps (and saves) the axis as a list once built
        if self.scale or self.rms_scaling:
            self.gamma = self.add_weight(shape, self.gamma_initializer, name="gamma",
                                         regularizer=self.gamma_regularizer, constraint=self.gamma_constraint)
        if self.center and not self.rms_scaling:
            self.beta = self.add_weight(shape, self.beta_initializer, name="beta",
                                        regularizer=self.beta_regularizer, constraint=self.beta_constraint)
        self.built = True

    def forward(self, x, training=False):
        mean = x.mean(axis=self._axes, keepdims=True)
        inv = 1.0 / np.sqrt(x.var(axis=self._axes, keepdims=True) + self.epsilon)
        xhat = (x - mean) * inv
        scaled = x * inv if self.rms_scaling else xhat
        y = scaled * self.gamma._value.reshape(self._broadcast) if self.gamma is not None else scaled.copy()
        if self.beta is not None:
            y += self.beta._value.reshape(self._broadcast)
        return y, (scaled, xhat, inv)

    def backward(self, ctx, dy, needs=None):
        scaled, xhat, inv = ctx
        grads = []
        if self._trainable_variables:
            shape = self._gamma_shape()
            grads = ([(dy * scaled).sum(axis=self._others).reshape(shape)] if self.gamma is not None else []) + \
                    ([dy.sum(axis=self._others).reshape(shape)] if self.beta is not None else [])
        g = dy * self.gamma._value.reshape(self._broadcast) if self.gamma is not None else dy
        if self.rms_scaling:  # d(x * inv): inv depends on x through the variance only
            dx = g - xhat * (g * scaled).mean(axis=self._axes, keepdims=True)
        else:
            dx = g - g.mean(axis=self._axes, keepdims=True) - xhat * (g * xhat).mean(axis=self._axes, keepdims=True)
        return dx * inv, grads

    def composite(self, x, training=None):
        inv = ops.rsqrt(ops.var(x, axis=self._axes, keepdims=True) + self.epsilon)
        y = x * inv if self.rms_scaling else (x - ops.mean(x, axis=self._axes, keepdims=True)) * inv
        if self.gamma is not None:
            y = y * ops.reshape(self.gamma, self._broadcast)
        return y + ops.reshape(self.beta, self._broadcast) if self.beta is not None else y

    def _gamma_shape(self):
        return (self.gamma if self.gamma is not None else self.beta).shape

    def get_config(self):
        return {**super().get_config(), "axis": self.axis, "epsilon": self.epsilon, "center": self.center,
                "scale": self.scale, "rms_scaling": self.rms_scaling,
                "beta_initializer": initializers.serialize(self.beta_initializer),
                "gamma_initializer": initializers.serialize(self.gamma_initializer),
                "beta_regularizer": regularizers.serialize(self.beta_regularizer),
                "gamma_regularizer": regularizers.serialize(self.gamma_regularizer),
                "beta_constraint": constraints.serialize(self.beta_constraint),
                "gamma_constraint": constraints.serialize(self.gamma_constraint)}


# Keras's floor on the squared norm, so an all-zero input maps to zero rather than NaN.
_MIN_SQUARED_NORM = 1e-12


class UnitNormalization(Layer):
    """Scales each sample to unit L2 norm over ``axis``: ``x / sqrt(max(sum(x**2), 1e-12))``.

    >>> import numpy as np, lamina
    >>> y = lamina.layers.UnitNormalization()(np.array([[3.0, 4.0]]))
    >>> [round(float(v), 6) for v in y[0]]
    [0.6, 0.8]
    """

    def __init__(self, axis: int | Sequence[int] = -1, **kwargs):
        super().__init__(**kwargs)
        self.axis = check_axis(f"UnitNormalization '{self.name}'", axis, allow_list=True)

    def build(self, input_shape):
        self._axes = resolve_axes(f"UnitNormalization '{self.name}'", self.axis, len(input_shape))
        self.built = True

    def call(self, inputs):
        squared = ops.sum(ops.square(inputs), axis=self._axes, keepdims=True)
        return inputs * ops.rsqrt(ops.maximum(squared, _MIN_SQUARED_NORM))

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}
