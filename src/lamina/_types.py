"""Type aliases for the loosely typed arguments Keras takes: names, config dicts or objects.

Each says what the matching ``get`` (or check) accepts at runtime, no narrower: a name
(``"relu"``), a config dict (``{"class_name": ..., "config": ...}``), a class, an instance or
a function (a class and an instance of these bases are callables too).
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol, TypeAlias

import numpy as np


class NamedDType(Protocol):
    """A Keras ``DTypePolicy`` (or anything else with the dtype's ``name``)."""

    @property
    def name(self) -> str: ...


class Writable(Protocol):
    """A text stream as the progress output uses it: ``write`` (``flush`` and ``isatty`` are
    called when present)."""

    def write(self, text: str, /) -> object: ...


# a layer's, loss's or metric's dtype: a name ("float32"), a NumPy dtype or scalar type
# (np.float32), a Keras DTypePolicy or its config dict; None for the default (floatx())
DTypeLike: TypeAlias = str | np.dtype | type | dict | NamedDType | None
# activations.get: a name, an Activation, a public activation function, any callable, a config dict
ActivationLike: TypeAlias = str | dict | Callable | None
# initializers.get: a name ("glorot_uniform"), a config dict, an Initializer class or instance, a function
InitializerLike: TypeAlias = str | dict | Callable
# regularizers.get / constraints.get: as an initializer, or None for none
RegularizerLike: TypeAlias = str | dict | Callable | None
ConstraintLike: TypeAlias = str | dict | Callable | None
# a shape without the batch axis, as layers.conversion.as_shape takes it: one int, or a sequence
# of ints (None for a dimension not known yet)
ShapeLike: TypeAlias = int | Sequence[int | None]
# an optimizer's learning_rate: a number, a LearningRateSchedule (called with the step) or a
# function of no arguments (called at each step), as Optimizer.learning_rate's setter takes them
LearningRateLike: TypeAlias = float | Callable
