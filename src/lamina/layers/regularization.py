"""Layers that regularize while training: ``Dropout``, ``GaussianNoise``, ``GaussianDropout``,
``AlphaDropout`` (active only with ``training=True``) and ``ActivityRegularization``.

Each draws its noise as an array and applies it with one op (``x * mask``, ``x + noise``), so the
tape's gradient uses the very same mask: no hand-written backward pass is needed.
"""
from __future__ import annotations

from collections.abc import Sequence

import math

import numpy as np

from .. import backend, ops, regularizers
from ..ops.primitive import Primitive
from . import call_context
from .layer import Layer


def _draw_forward(like, make):
    return make(like)


# A random draw as an op of its own (no gradient): ``make(inputs)`` gives the noise for inputs of
# that shape. Being an op, a compiled step (trainers/compiled_step.py) replays the draw itself at
# every batch, from the same stream in the same order as the eager step, instead of a frozen array.
_DRAW = Primitive("random_draw", _draw_forward)


def _check_number(owner: str, argument: str, value, low: float, high: float | None = None) -> float:
    """``value`` as a float in ``[low, high)`` (``[low, inf)`` without ``high``), else a clear error."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{owner} expects {argument} to be a float, got {value!r}")
    if not (low <= value and (high is None or value < high)):
        expected = f"in [{low}, {high})" if high is not None else f">= {low}"
        raise ValueError(f"{owner} expects {argument} {expected}, got {argument}={value}")
    return float(value)


def _check_noise_shape(owner: str, noise_shape) -> tuple | None:
    if noise_shape is None:
        return None
    if isinstance(noise_shape, str) or not hasattr(noise_shape, "__iter__"):
        raise ValueError(f"{owner} expects noise_shape to be a tuple of ints or None, got noise_shape={noise_shape!r}")
    noise_shape = tuple(noise_shape)
    for dim in noise_shape:
        if dim is not None and (isinstance(dim, bool) or not isinstance(dim, (int, np.integer)) or dim < 1):
            raise ValueError(f"{owner} expects noise_shape to hold positive ints or None, "
                             f"got noise_shape={noise_shape}")
    return noise_shape


class _RandomLayer(Layer):
    """A layer drawing noise: its own stream for an int ``seed``, else the global one."""

    def __init__(self, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.seed = seed
        self._generator = None if seed is None else backend.make_rng(seed)

    def _rng(self) -> np.random.Generator:
        if call_context.inferring_shapes():  # a symbolic call draws nothing, as in Keras: the streams stay put
            return np.random.default_rng(0)
        return self._generator if self._generator is not None else backend.global_rng()

    def _draw(self, inputs, make):
        """The noise ``make(inputs)`` draws (an array the shape ``make`` gives), as a tensor."""
        return _DRAW(inputs, make=make)

    def _mask_shape(self, x, noise_shape) -> tuple:
        """The concrete mask shape: ``noise_shape`` with its None entries taken from ``x``."""
        if noise_shape is None:
            return x.shape
        if len(noise_shape) != x.ndim:
            raise ValueError(f"{type(self).__name__} '{self.name}' has noise_shape={noise_shape}, which does not "
                             f"match the rank of its input of shape {x.shape}")
        shape = tuple(d if n is None else n for n, d in zip(noise_shape, x.shape))
        if any(n != 1 and n != d for n, d in zip(shape, x.shape)):
            raise ValueError(f"{type(self).__name__} '{self.name}' has noise_shape={noise_shape}, which does not "
                             f"broadcast to its input of shape {x.shape}")
        return shape


class Dropout(_RandomLayer):
    """Sets a fraction ``rate`` of its inputs to 0 while training, scaling the rest by ``1 / (1 - rate)``
    so that the expected sum is unchanged; does nothing at inference.

    >>> import numpy as np, lamina
    >>> layer = lamina.layers.Dropout(0.5, seed=0)
    >>> y = layer(np.ones((1, 6)), training=True)
    >>> sorted(set(y.ravel().tolist()))
    [0.0, 2.0]
    >>> layer(np.ones((1, 6))).tolist()     # inference: the identity
    [[1.0, 1.0, 1.0, 1.0, 1.0, 1.0]]
    """

    def __init__(self, rate: float, noise_shape: Sequence[int] | None = None, seed: int | None = None, **kwargs):
        super().__init__(seed, **kwargs)
        owner = f"Dropout '{self.name}'"
        self.rate = _check_number(owner, "rate", rate, 0.0, 1.0)
        self.noise_shape = _check_noise_shape(owner, noise_shape)

    def multiplier(self, shape: tuple, dtype) -> np.ndarray:
        """``keep / (1 - rate)`` for inputs of ``shape``: the one draw both training paths make
        (the fused step in ``trainers/fast_plan.py`` calls it too)."""
        keep = self._rng().random(shape, dtype=np.float64) >= self.rate
        return keep * np.asarray(1.0 / (1.0 - self.rate), dtype)

    def call(self, inputs, training=None):
        if not training or self.rate == 0.0:
            return inputs
        return inputs * self._draw(inputs, self._noise)

    def _noise(self, inputs: np.ndarray) -> np.ndarray:
        return self.multiplier(self._mask_shape(inputs, self.noise_shape), inputs.dtype)

    def fused_role(self) -> str | None:
        """``"dropout"``: the fused plan applies it through ``multiplier`` (the same masks)."""
        return "dropout" if type(self).call is Dropout.call and self.noise_shape is None else None

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed, "noise_shape": self.noise_shape}


class GaussianNoise(_RandomLayer):
    """Adds zero-centred Gaussian noise of standard deviation ``stddev`` while training.

    >>> import numpy as np, lamina
    >>> layer = lamina.layers.GaussianNoise(0.1, seed=0)
    >>> bool(np.all(layer(np.ones((2, 3)), training=True) != 1.0))
    True
    """

    def __init__(self, stddev: float, seed: int | None = None, **kwargs):
        super().__init__(seed, **kwargs)
        self.stddev = _check_number(f"GaussianNoise '{self.name}'", "stddev", stddev, 0.0)

    def call(self, inputs, training=None):
        if not training or self.stddev == 0.0:
            return inputs
        return inputs + self._draw(inputs, self._noise)

    def _noise(self, inputs: np.ndarray) -> np.ndarray:
        noise = self._rng().standard_normal(inputs.shape).astype(inputs.dtype, copy=False)
        noise *= self.stddev
        return noise

    def get_config(self):
        return {**super().get_config(), "stddev": self.stddev, "seed": self.seed}


class GaussianDropout(_RandomLayer):
    """Multiplies its inputs by noise drawn from ``N(1, rate / (1 - rate))`` while training.

    >>> import numpy as np, lamina
    >>> lamina.layers.GaussianDropout(0.2, seed=0)(np.ones((2, 3)), training=True).shape
    (2, 3)
    """

    def __init__(self, rate: float, seed: int | None = None, **kwargs):
        super().__init__(seed, **kwargs)
        self.rate = _check_number(f"GaussianDropout '{self.name}'", "rate", rate, 0.0, 1.0)

    def call(self, inputs, training=None):
        if not training or self.rate == 0.0:
            return inputs
        return inputs * self._draw(inputs, self._noise)

    def _noise(self, inputs: np.ndarray) -> np.ndarray:
        stddev = math.sqrt(self.rate / (1.0 - self.rate))
        return self._rng().normal(1.0, stddev, inputs.shape).astype(inputs.dtype, copy=False)

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed}


# SELU's constants: dropped units are set to SELU's negative saturation value alpha' = -scale * alpha.
_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


class AlphaDropout(_RandomLayer):
    """Dropout for self-normalizing (SELU) networks: dropped units become ``alpha' = -scale * alpha``,
    then ``a * x + b`` restores the input's mean and variance, with
    ``a = ((1 - rate) * (1 + rate * alpha'**2)) ** -0.5`` and ``b = -a * alpha' * rate``.

    >>> import numpy as np, lamina
    >>> lamina.layers.AlphaDropout(0.1, seed=0)(np.zeros((2, 3)), training=True).shape
    (2, 3)
    """

    def __init__(self, rate: float, noise_shape: Sequence[int] | None = None, seed: int | None = None, **kwargs):
        super().__init__(seed, **kwargs)
        owner = f"AlphaDropout '{self.name}'"
        self.rate = _check_number(owner, "rate", rate, 0.0, 1.0)
        self.noise_shape = _check_noise_shape(owner, noise_shape)

    def call(self, inputs, training=None):
        if not training or self.rate == 0.0:
            return inputs
        alpha_p = -_SELU_ALPHA * _SELU_SCALE
        a = ((1.0 - self.rate) * (1.0 + self.rate * alpha_p ** 2)) ** -0.5
        b = -a * alpha_p * self.rate
        keep = self._draw(inputs, self._keep)
        dtype = inputs.dtype
        return inputs * ops.cast(a * keep, dtype) + ops.cast(a * alpha_p * (1.0 - keep) + b, dtype)

    def _keep(self, inputs: np.ndarray) -> np.ndarray:
        return self._rng().random(self._mask_shape(inputs, self.noise_shape), dtype=np.float64) >= self.rate

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed, "noise_shape": self.noise_shape}


class ActivityRegularization(Layer):
    """Passes its input through and adds ``l1 * sum|y| + l2 * sum y**2`` to the losses, divided
    by the batch size (Keras 3.14+, as tf.keras 2).

    >>> import numpy as np, lamina
    >>> layer = lamina.layers.ActivityRegularization(l1=0.1)
    >>> _ = layer(np.array([[1.0, -2.0], [0.0, 3.0]]))
    >>> round(float(layer.losses[0]), 6)   # 0.1 * 6 / 2 rows
    0.3
    """

    def __init__(self, l1: float = 0.0, l2: float = 0.0, **kwargs):
        owner = f"ActivityRegularization '{kwargs.get('name', '')}'"
        l1, l2 = _check_number(owner, "l1", l1, 0.0), _check_number(owner, "l2", l2, 0.0)
        super().__init__(activity_regularizer=regularizers.L1L2(l1=l1, l2=l2), **kwargs)
        self.l1, self.l2 = l1, l2

    def get_config(self):
        config = super().get_config()
        config.pop("activity_regularizer", None)
        return {**config, "l1": self.l1, "l2": self.l2}
