"""Weight regularizers: penalties added to the loss, with Keras's names, defaults and formulas.

A regularizer is called on a weight (a Variable or a tensor) and returns the penalty as a
scalar tensor, computed in ``lamina.ops``, so the tape differentiates it with everything else.
Any callable ``weight -> scalar`` in ops is a regularizer too.

>>> import numpy as np
>>> float(L2(2.0)(np.ones((5, 5))))
50.0
"""
from __future__ import annotations

import math

import numpy as np

from . import backend, ops
from ._resolve import UNRESOLVED, from_registry


def _non_negative(value, name: str, owner: str) -> float:
    """``value`` as a float, or a ValueError naming the argument (Keras's check)."""
    if (isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating))
            or not math.isfinite(value) or value < 0):
        raise ValueError(f"{owner} expects {name} to be a non-negative float, got {name}={value!r}")
    return float(value)


class Regularizer:
    """Base class: ``__call__(x)`` returns the penalty of the weight ``x`` (written in ops).

    >>> from lamina import ops
    >>> class Half(Regularizer):
    ...     def __call__(self, x):
    ...         return 0.5 * ops.sum(x)
    >>> float(Half()(np.ones(4)))
    2.0
    """

    def __call__(self, x):
        return ops.convert_to_tensor(0.0)

    def get_config(self) -> dict:
        return {}

    @classmethod
    def from_config(cls, config: dict) -> Regularizer:
        return cls(**config)


class L1L2(Regularizer):
    """``l1 * sum(abs(x)) + l2 * sum(square(x))``.

    ``L1L2()`` penalizes nothing (both factors default to 0, as in Keras); the name ``"l1_l2"``
    gives ``L1L2(l1=0.01, l2=0.01)``.

    >>> float(L1L2(l1=0.5, l2=0.25)(np.array([-2.0, 2.0])))
    4.0
    """

    def __init__(self, l1: float = 0.0, l2: float = 0.0):
        self.l1 = _non_negative(0.0 if l1 is None else l1, "l1", "L1L2")
        self.l2 = _non_negative(0.0 if l2 is None else l2, "l2", "L1L2")

    def __call__(self, x):
        penalty = ops.convert_to_tensor(0.0)
        if self.l1:
            penalty = penalty + self.l1 * ops.sum(ops.abs(x))
        if self.l2:
            penalty = penalty + self.l2 * ops.sum(ops.square(x))
        return penalty

    def get_config(self):
        return {"l1": self.l1, "l2": self.l2}


class L1(Regularizer):
    """``l1 * sum(abs(x))`` (its gradient ``l1 * sign(x)``, 0 at 0).

    >>> float(L1(0.5)(np.array([-2.0, 1.0])))
    1.5
    """

    def __init__(self, l1: float = 0.01):
        self.l1 = _non_negative(0.01 if l1 is None else l1, "l1", "L1")

    def __call__(self, x):
        return self.l1 * ops.sum(ops.abs(x))

    def get_config(self):
        return {"l1": self.l1}


class L2(Regularizer):
    """``l2 * sum(square(x))``.

    >>> float(L2(0.5)(np.array([-2.0, 1.0])))
    2.5
    """

    def __init__(self, l2: float = 0.01):
        self.l2 = _non_negative(0.01 if l2 is None else l2, "l2", "L2")

    def __call__(self, x):
        return self.l2 * ops.sum(ops.square(x))

    def get_config(self):
        return {"l2": self.l2}


class OrthogonalRegularizer(Regularizer):
    """Pushes the rows (``mode="rows"``) or columns (``"columns"``) of a 2D weight to be orthogonal.

    With ``v_i`` the vectors scaled to unit norm (``v / max(norm(v), epsilon)``) and ``n`` of them,
    the penalty is ``factor * 0.5 * sum_{i != j} |v_i . v_j| / (n * (n - 1) / 2)``, Keras's formula.
    With fewer than two vectors there are no pairs and the penalty is 0 (Keras divides 0 by 0).

    >>> round(float(OrthogonalRegularizer(factor=1.0)(np.array([[1.0, 0.0], [1.0, 1.0]]))), 4)
    0.7071
    """

    def __init__(self, factor: float = 0.01, mode: str = "rows"):
        self.factor = _non_negative(factor, "factor", "OrthogonalRegularizer")
        if mode not in ("rows", "columns"):
            raise ValueError(f"OrthogonalRegularizer expects mode 'rows' or 'columns', got mode={mode!r}")
        self.mode = mode

    def _vectors(self, x):
        x = ops.convert_to_tensor(x)
        if x.ndim != 2:
            raise ValueError(f"OrthogonalRegularizer expects a weight of rank 2, got shape {x.shape}")
        return x if self.mode == "rows" else ops.transpose(x)

    def _scale(self, n: int) -> float:
        return 0.0 if n < 2 else self.factor * 0.5 / (n * (n - 1) / 2.0)

    def __call__(self, x):
        v = self._vectors(x)
        unit = v / ops.maximum(ops.norm(v, axis=1, keepdims=True), backend.epsilon())
        product = ops.abs(ops.matmul(unit, ops.transpose(unit)))
        off_diagonal = ops.sum(product) - ops.trace(product)
        return self._scale(v.shape[0]) * off_diagonal

    def get_config(self):
        return {"factor": self.factor, "mode": self.mode}


# the function-style aliases Keras exports (``keras.regularizers.l2(0.01)``)
l1, l2, l1_l2, orthogonal_regularizer = L1, L2, L1L2, OrthogonalRegularizer

_CLASSES = [Regularizer, L1, L2, L1L2, OrthogonalRegularizer]
_REGISTRY = {c.__name__: c for c in _CLASSES} | {backend.snake_case(c.__name__): c for c in _CLASSES}
_REGISTRY |= {"l1l2": L1L2}
_BY_NAME = {"l1_l2": lambda: L1L2(l1=0.01, l2=0.01)}  # Keras documents 0.01 for both by name


def serialize(regularizer: Regularizer | None) -> dict | None:
    """The Keras config of a regularizer (None stays None).

    >>> serialize(L2(0.5))["config"]
    {'l2': 0.5}
    """
    from .saving.serialization_lib import serialize_keras_object  # here: lamina.saving imports this module

    return serialize_keras_object(regularizer)


def deserialize(config: dict) -> Regularizer | None:
    """The regularizer a Keras config describes (None for a None config)."""
    return get(config)


def get(identifier) -> Regularizer | None:
    """Resolve None, a name (``"l2"``), a config dict, a class or an instance.

    >>> get("l2").l2
    0.01
    """
    if identifier is None:
        return None
    if isinstance(identifier, str) and identifier in _BY_NAME:
        return _BY_NAME[identifier]()
    resolved = from_registry(identifier, Regularizer, _REGISTRY, "regularizer")
    if resolved is not UNRESOLVED:
        return resolved
    if callable(identifier):  # a function of the weight, written in ops
        return identifier
    raise TypeError(f"regularizer must be a name, a dict or a Regularizer, got {identifier!r}")
