"""Weight constraints: projections applied to a weight after each optimizer step (Keras's formulas).

A constraint is called on a weight array and returns the projected array; the optimizer writes
it back into the variable.

>>> import numpy as np
>>> NonNeg()(np.array([-1.0, 2.0])).tolist()
[0.0, 2.0]
"""
from __future__ import annotations

import numpy as np

from . import backend
from ._resolve import UNRESOLVED, from_registry


def _axis(axis):
    return tuple(axis) if isinstance(axis, (list, tuple)) else axis


def _norms(w: np.ndarray, axis) -> np.ndarray:
    return np.sqrt(np.sum(np.square(w), axis=_axis(axis), keepdims=True))


class Constraint:
    """Base class: ``__call__(w)`` returns the projected weight (the base returns ``w``).

    >>> Constraint()(np.ones(2)).tolist()
    [1.0, 1.0]
    """

    def __call__(self, w: np.ndarray) -> np.ndarray:
        return w

    def get_config(self) -> dict:
        return {}

    @classmethod
    def from_config(cls, config: dict) -> Constraint:
        return cls(**config)


class MaxNorm(Constraint):
    """Scales each weight vector (the norm taken along ``axis``) down to norm at most ``max_value``.

    ``w * clip(norm, 0, max_value) / (epsilon + norm)``; for a Dense kernel ``(in, out)``,
    ``axis=0`` constrains the incoming weights of each unit.

    >>> MaxNorm(max_value=1.0)(np.array([[3.0], [4.0]])).round(4).tolist()
    [[0.6], [0.8]]
    """

    def __init__(self, max_value: float = 2, axis: int | list = 0):
        self.max_value = max_value
        self.axis = axis

    def __call__(self, w):
        w = np.asarray(w)
        norms = _norms(w, self.axis)
        return w * (np.clip(norms, 0, self.max_value) / (backend.epsilon() + norms))

    def get_config(self):
        return {"max_value": self.max_value, "axis": self.axis}


class MinMaxNorm(Constraint):
    """Moves each weight vector's norm into ``[min_value, max_value]``, by ``rate`` of the way.

    The target norm is ``rate * clip(norm, min_value, max_value) + (1 - rate) * norm``; the
    vector becomes ``w * target / (epsilon + norm)``.

    >>> MinMaxNorm(min_value=1.0, max_value=2.0)(np.array([[0.3], [0.4]])).round(4).tolist()
    [[0.6], [0.8]]
    """

    def __init__(self, min_value: float = 0.0, max_value: float = 1.0, rate: float = 1.0,
                 axis: int | list = 0):
        self.min_value = min_value
        self.max_value = max_value
        self.rate = rate
        self.axis = axis

    def __call__(self, w):
        w = np.asarray(w)
        norms = _norms(w, self.axis)
        desired = self.rate * np.clip(norms, self.min_value, self.max_value) + (1 - self.rate) * norms
        return w * (desired / (backend.epsilon() + norms))

    def get_config(self):
        return {"min_value": self.min_value, "max_value": self.max_value, "rate": self.rate,
                "axis": self.axis}


class NonNeg(Constraint):
    """Sets negative weights to zero: ``maximum(w, 0)``.

    >>> NonNeg()(np.array([-0.5, 0.5])).tolist()
    [0.0, 0.5]
    """

    def __call__(self, w):
        return np.maximum(w, 0)


class UnitNorm(Constraint):
    """Scales each weight vector (the norm taken along ``axis``) to unit norm: ``w / (epsilon + norm)``.

    >>> UnitNorm()(np.array([[3.0], [4.0]])).round(4).tolist()
    [[0.6], [0.8]]
    """

    def __init__(self, axis: int | list = 0):
        self.axis = axis

    def __call__(self, w):
        w = np.asarray(w)
        return w / (backend.epsilon() + _norms(w, self.axis))

    def get_config(self):
        return {"axis": self.axis}


# the function-style aliases Keras exports (``keras.constraints.max_norm(2)``)
max_norm, min_max_norm, non_neg, unit_norm = MaxNorm, MinMaxNorm, NonNeg, UnitNorm

_CLASSES = [Constraint, MaxNorm, MinMaxNorm, NonNeg, UnitNorm]
_REGISTRY = {c.__name__: c for c in _CLASSES} | {backend.snake_case(c.__name__): c for c in _CLASSES}


def serialize(constraint: Constraint | None) -> dict | None:
    """The Keras config of a constraint (None stays None).

    >>> serialize(MaxNorm(3))["config"]
    {'max_value': 3, 'axis': 0}
    """
    from .saving.serialization_lib import serialize_keras_object  # here: lamina.saving imports this module

    return serialize_keras_object(constraint)


def deserialize(config: dict) -> Constraint | None:
    """The constraint a Keras config describes (None for a None config)."""
    return get(config)


def get(identifier) -> Constraint | None:
    """Resolve None, a name (``"max_norm"``), a config dict, a class, an instance or a function.

    >>> get("non_neg").__class__.__name__
    'NonNeg'
    """
    if identifier is None:
        return None
    resolved = from_registry(identifier, Constraint, _REGISTRY, "constraint")
    if resolved is not UNRESOLVED:
        return resolved
    if callable(identifier):
        return identifier  # a projection needs no gradient: any function of w will do
    raise TypeError(f"constraint must be a name, a dict or a Constraint, got {identifier!r}")
