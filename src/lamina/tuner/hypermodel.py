"""``HyperModel``: how a search builds and trains one model from its hyperparameters."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any


class HyperModel:
    """Subclass and define ``build(hp)`` (a compiled model); override ``fit`` to change how a
    trial trains (its return value: a ``History``, a dict of metrics or the objective's value).

    >>> import lamina
    >>> from lamina import tuner as kt
    >>> class Small(kt.HyperModel):
    ...     def build(self, hp):
    ...         model = lamina.Sequential([lamina.Input((3,)), lamina.layers.Dense(hp.Int("units", 2, 8))])
    ...         model.compile(optimizer="sgd", loss="mse")
    ...         return model
    >>> Small().build(kt.HyperParameters()).layers[0].units
    2
    """

    def __init__(self, name: str | None = None, tunable: bool = True):
        self.name, self.tunable = name, tunable

    def build(self, hp) -> Any:
        """A compiled model for the hyperparameters ``hp``."""
        raise NotImplementedError(f"{type(self).__name__} must define build(self, hp)")

    def fit(self, hp, model, *args, **kwargs) -> Any:
        """Train ``model``; by default ``model.fit(*args, **kwargs)`` with the search's arguments."""
        return model.fit(*args, **kwargs)


class _FunctionHyperModel(HyperModel):
    """A ``build_model(hp)`` function given where a HyperModel is expected."""

    def __init__(self, build: Callable):
        super().__init__(name=getattr(build, "__name__", None))
        self._build = build

    def build(self, hp) -> Any:
        return self._build(hp)


def get_hypermodel(hypermodel) -> HyperModel:
    """A ``HyperModel`` from one, or from a function of ``hp``."""
    if isinstance(hypermodel, HyperModel):
        return hypermodel
    if callable(hypermodel):
        return _FunctionHyperModel(hypermodel)
    raise TypeError(f"hypermodel must be a kt.HyperModel or a function build_model(hp), got {hypermodel!r}")
