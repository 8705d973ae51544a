"""Preprocessing layers: ``Normalization`` (learns a mean and variance with ``adapt``) and ``Rescaling``."""
from __future__ import annotations

from typing import Any

import math

import numpy as np
import numpy.typing as npt

from .. import backend
from ..ops.tensor import Tensor
from .layer import Layer, to_array

_ADAPT_ROWS = 4096  # rows per chunk in adapt: a large array is reduced without a float64 copy of it all


class Normalization(Layer):
    """Shifts and scales inputs to mean 0 and variance 1: ``(x - mean) / max(sqrt(variance), epsilon)``
    (``epsilon`` is ``backend.epsilon()``); with ``invert=True`` the inverse, ``mean + x * std``.

    The mean and variance are per index of ``axis`` (``None``: one scalar pair), either given or
    learned from data with ``adapt(data)`` before training. Learned ones are weights (``mean``,
    ``variance``, ``count``), none of them trainable, so saving a model keeps them.

    >>> import numpy as np, lamina
    >>> layer = lamina.layers.Normalization()
    >>> layer.adapt(np.array([[0.0, 7.0], [2.0, 9.0]]))
    >>> layer(np.array([[0.0, 7.0]])).tolist()
    [[-1.0, -1.0]]
    >>> lamina.layers.Normalization(mean=3.0, variance=4.0)(np.array([[5.0]])).tolist()
    [[1.0]]
    """

    def __init__(self, axis: int | list[int] | tuple[int, ...] | None = -1, mean: npt.ArrayLike | None = None,
                 variance: npt.ArrayLike | None = None, invert: bool = False, **kwargs):
        super().__init__(**kwargs)
        owner = f"Normalization '{self.name}'"
        if axis is None:
            axis = ()
        elif isinstance(axis, (int, np.integer)) and not isinstance(axis, bool):
            axis = (int(axis),)
        elif isinstance(axis, (list, tuple)) and all(
                isinstance(a, (int, np.integer)) and not isinstance(a, bool) for a in axis):
            axis = tuple(int(a) for a in axis)
        else:
            raise TypeError(f"{owner} expects axis to be an int, a tuple of ints or None, got axis={axis!r}")
        self.axis = axis
        if (mean is None) != (variance is None):
            raise ValueError(f"{owner} needs both mean and variance, or neither; got mean={mean!r}, "
                             f"variance={variance!r}")
        if mean is not None and variance is not None:  # (both or neither, checked above)
            if np.shape(mean) != np.shape(variance):
                raise ValueError(f"{owner} needs mean and variance of the same shape, got {np.shape(mean)} "
                                 f"and {np.shape(variance)}")
            if np.ndim(mean) > len(self.axis):
                raise ValueError(f"{owner} got mean of shape {np.shape(mean)}, of higher rank than the "
                                 f"{len(self.axis)} normalized axes (axis={self.axis})")
            if np.any(np.asarray(variance) < 0):
                raise ValueError(f"{owner} expects a non-negative variance, got variance={variance!r}")
        self.input_mean, self.input_variance = mean, variance
        self.invert = bool(invert)
        # the adapted statistics: weights made in build()
        self.adapt_mean: Any = None
        self.adapt_variance: Any = None
        self.count: Any = None
        self._adapted = False

    def build(self, input_shape):
        owner = f"Normalization '{self.name}'"
        ndim = len(input_shape)
        if any(not -ndim <= a < ndim for a in self.axis):
            raise ValueError(f"{owner} got axis={self.axis}, out of range for inputs of rank {ndim}")
        self._keep = tuple(sorted(a % ndim for a in self.axis))
        if any(input_shape[d] is None for d in self._keep):
            raise ValueError(f"{owner} needs known sizes along axis={self.axis}, got inputs of shape {input_shape}")
        self._reduce = tuple(d for d in range(ndim) if d not in self._keep)
        self._broadcast = tuple(input_shape[d] if d in self._keep else 1 for d in range(ndim))
        self._stats_shape = tuple(input_shape[d] for d in self._keep)
        if self.input_mean is None:
            # Keras keeps these as non-trainable variables (count only for older files) and saves them.
            self.adapt_mean = self.add_weight(self._stats_shape, "zeros", name="mean", trainable=False)
            self.adapt_variance = self.add_weight(self._stats_shape, "ones", name="variance", trainable=False)
            self.count = self.add_weight((), "zeros", dtype="int64", name="count", trainable=False)
        else:
            self._given = self._aligned(self.input_mean), self._aligned(self.input_variance)
        self.built = True

    def _aligned(self, value) -> np.ndarray:
        """A given mean/variance broadcast to the input's rank, its dimensions matched to the kept axes
        from the right (as Keras aligns them)."""
        value = np.asarray(value, dtype=self.dtype)
        expanded = [1] * len(self._broadcast)
        for i in range(1, value.ndim + 1):
            expanded[self._keep[-i]] = value.shape[-i]
        try:
            return np.broadcast_to(value.reshape(expanded), self._broadcast)
        except ValueError:
            raise ValueError(f"Normalization '{self.name}' cannot broadcast mean/variance of shape {value.shape} "
                             f"to the normalized axes of shape {self._stats_shape}") from None

    def adapt(self, data) -> None:
        """Learn the mean and variance of ``data`` (an array, or an iterable of batches, or of ``(x, y)``
        tuples) over every axis but ``axis``. Large arrays are reduced in chunks."""
        owner = f"Normalization '{self.name}'"
        if self.input_mean is not None:
            raise ValueError(f"{owner} was given mean and variance; adapt() would learn them from data instead: "
                             "create it without mean/variance to adapt it")
        if isinstance(data, tuple):
            data = data[0]
        if hasattr(data, "shape") or hasattr(data, "to_numpy"):
            array = to_array(data, f"adapt() of {owner}")
            batches = (array[i:i + _ADAPT_ROWS] for i in range(0, max(len(array), 1), _ADAPT_ROWS))
        elif hasattr(data, "__iter__"):
            batches = (to_array(b[0] if isinstance(b, tuple) else b, f"adapt() of {owner}") for b in data)
        else:
            raise TypeError(f"{owner}.adapt expects an array or an iterable of batches, got {type(data).__name__}")
        total_mean = total_var = None
        total_count = 0
        for batch in batches:
            if batch.size == 0:
                continue
            if not self.built:
                self.build((None, *batch.shape[1:]))
            self._check_adapt_batch(batch)
            batch = batch.astype(np.float64, copy=False)
            count = math.prod(batch.shape[d] for d in self._reduce)
            mean, var = batch.mean(axis=self._reduce), batch.var(axis=self._reduce)
            if total_mean is None:
                total_mean, total_var, total_count = mean, var, count
                continue
            # Chan et al.'s pairwise update: merge the two groups' means and squared deviations.
            total_count += count
            w = count / total_count
            new_mean = total_mean * (1 - w) + mean * w
            total_var = (total_var + (total_mean - new_mean) ** 2) * (1 - w) + (var + (mean - new_mean) ** 2) * w
            total_mean = new_mean
        if total_mean is None:
            raise ValueError(f"{owner}.adapt received no data")
        self.adapt_mean.assign(total_mean)
        self.adapt_variance.assign(total_var)
        self.count.assign(total_count)
        self._adapted = True

    def _check_adapt_batch(self, batch) -> None:
        shape = self._build_shapes if isinstance(self._build_shapes, tuple) else None
        if batch.ndim != len(self._broadcast) or any(batch.shape[d] != self._broadcast[d] for d in self._keep):
            raise ValueError(f"Normalization '{self.name}' was built for inputs of shape "
                             f"{shape or self._broadcast}, but adapt() got data of shape {batch.shape}")

    def finalize_state(self) -> None:
        """Mark the learned statistics as set (Keras calls this after loading the weights)."""
        self._adapted = True

    def set_weights(self, weights) -> None:
        super().set_weights(weights)
        self._adapted = True

    @property
    def mean(self) -> Tensor | None:
        """The mean subtracted, in the inputs' broadcast shape (``(1, features)`` for ``axis=-1``), as
        Keras's attribute: None until the layer is built with given statistics or adapted."""
        return self._statistic(0)

    @property
    def variance(self) -> Tensor | None:
        """The variance divided by (its square root), shaped as :attr:`mean`."""
        return self._statistic(1)

    def _statistic(self, which: int) -> Tensor | None:
        if not self.built:
            return None
        if self.input_mean is not None:
            return Tensor(np.array(self._given[which], dtype=self.dtype))
        if not (self._adapted or self.count._value.item() > 0):
            return None
        weight = self.adapt_mean if which == 0 else self.adapt_variance
        return Tensor(weight._value.reshape(self._broadcast).astype(self.dtype))

    def _statistics(self, dtype) -> tuple[np.ndarray, np.ndarray]:
        if self.input_mean is not None:
            mean, variance = self._given
        elif self._adapted or self.count._value.item() > 0:
            mean = self.adapt_mean._value.reshape(self._broadcast)
            variance = self.adapt_variance._value.reshape(self._broadcast)
        else:
            raise ValueError(f"Normalization '{self.name}' has no mean and variance yet: call "
                             "layer.adapt(data) first, or pass mean= and variance=")
        std = np.maximum(np.sqrt(variance), backend.epsilon())
        return mean.astype(dtype, copy=False), std.astype(dtype, copy=False)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def call(self, inputs):
        mean, std = self._statistics(inputs.dtype)
        return mean + inputs * std if self.invert else (inputs - mean) / std

    def get_config(self):
        return {**super().get_config(), "axis": self.axis, "invert": self.invert,
                "mean": np.array(self.input_mean).tolist(), "variance": np.array(self.input_variance).tolist()}


class Rescaling(Layer):
    """Multiplies by ``scale`` and adds ``offset``: ``Rescaling(1 / 255)`` maps pixels to ``[0, 1]``.

    >>> import numpy as np, lamina
    >>> lamina.layers.Rescaling(1 / 127.5, offset=-1)(np.array([[0.0, 255.0]])).tolist()
    [[-1.0, 1.0]]
    """

    def __init__(self, scale: float | list | tuple | np.ndarray, offset: float | list | tuple | np.ndarray = 0.0,
                 **kwargs):
        super().__init__(**kwargs)
        owner = f"Rescaling '{self.name}'"
        self.scale = _number_or_array(owner, "scale", scale)
        self.offset = _number_or_array(owner, "offset", offset)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def call(self, inputs):
        return inputs * np.asarray(self.scale, inputs.dtype) + np.asarray(self.offset, inputs.dtype)

    def get_config(self):
        return {**super().get_config(), "scale": _serialize_value(self.scale),
                "offset": _serialize_value(self.offset)}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for key in ("scale", "offset"):
            value = config.get(key)
            if isinstance(value, dict) and value.get("class_name") == "__numpy__":
                config[key] = np.asarray(value["config"]["value"], dtype=value["config"]["dtype"])
        return cls(**config)


def _number_or_array(owner: str, argument: str, value):
    if isinstance(value, bool):
        raise TypeError(f"{owner} expects {argument} to be a number or an array of numbers, got {value!r}")
    if isinstance(value, (int, float, np.integer, np.floating)):
        return float(value)
    array = np.asarray(value) if isinstance(value, (list, tuple, np.ndarray)) else None
    if array is None or array.dtype.kind not in "iuf":
        raise TypeError(f"{owner} expects {argument} to be a number or an array of numbers, got {value!r}")
    return array


def _serialize_value(value):
    """A float as itself; an array in Keras's ``__numpy__`` form."""
    if isinstance(value, np.ndarray):
        return {"class_name": "__numpy__", "config": {"value": value.tolist(), "dtype": value.dtype.name}}
    return value
