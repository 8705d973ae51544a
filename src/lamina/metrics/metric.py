"""The base of every metric (``Metric``), its state variables, and the mean-style metrics
(``Mean``, ``Sum``, ``MeanMetricWrapper``)."""
from __future__ import annotations

from typing import Callable

import numpy as np

from .. import _macros, backend, initializers, losses  # noqa: F401  (losses: the doctests use it)
from ..variables import Variable


MetricVariable = Variable  # a metric's state is a Variable (``assign_add``, arithmetic), as in Keras
_STATEFUL = ("update_state", "result", "reset_state")


class Metric:
    """Base class. Subclasses implement ``update_state`` and ``result``; state created with
    ``add_variable`` is zeroed by the default ``reset_state``.

    >>> import numpy as np
    >>> class Positives(Metric):
    ...     def __init__(self, name="positives", dtype=None):
    ...         super().__init__(name=name, dtype=dtype)
    ...         self.count = self.add_variable(shape=(), initializer="zeros", name="count")
    ...     def update_state(self, y_true, y_pred, sample_weight=None):
    ...         self.count.assign_add(np.sum(np.asarray(y_pred) > 0.5))
    ...     def result(self):
    ...         return self.count.numpy()
    >>> m = Positives()
    >>> m.update_state(None, np.array([0.2, 0.9, 0.7]))
    >>> float(m.result())
    2.0
    """

    def __init__(self, name: str | None = None, dtype: str | np.dtype | None = None):
        self.name = name or backend.snake_case(type(self).__name__)
        self.dtype = dtype or backend.floatx()
        self._variables: list[MetricVariable] = []

    @property
    def variables(self) -> list[MetricVariable]:
        return list(self._variables)

    def add_variable(self, shape=(), initializer="zeros", dtype=None, aggregation="sum", name=None) -> MetricVariable:
        """A state variable (zeroed by ``reset_state``)."""
        shape = tuple(shape)
        value = initializers.required(initializer, f"{type(self).__name__}.add_variable")(shape, dtype or self.dtype)
        variable = Variable(np.array(value), name=name or f"variable_{len(self._variables)}",
                            trainable=False, path=f"{self.name}/{name}")
        self._variables.append(variable)
        return variable

    def add_weight(self, name=None, shape=(), initializer="zeros", dtype=None, aggregation="sum") -> MetricVariable:
        """``add_variable`` with the name first (the older Keras spelling)."""
        return self.add_variable(shape, initializer, dtype, aggregation, name)

    def update_state(self, *args, **kwargs):
        raise TypeError(f"{type(self).__name__} must implement update_state")

    def result(self):
        raise TypeError(f"{type(self).__name__} must implement result")

    def _as_result(self, value):
        """``value`` as a scalar of the metric's dtype (floatx by default, as in Keras)."""
        return np.asarray(value, self.dtype)[()]

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        # a metric's state may be plain Python numbers (Mean's): a tf.function's replay calls these again
        for name in _STATEFUL:
            if name in cls.__dict__ and not hasattr(cls.__dict__[name], "__wrapped_stateful__"):
                setattr(cls, name, _macros.stateful(cls.__dict__[name]))

    @_macros.stateful
    def reset_state(self) -> None:
        for variable in self._variables:
            variable.assign(np.zeros(variable.shape, variable._value.dtype))

    def __call__(self, *args, **kwargs):
        self.update_state(*args, **kwargs)
        return self.result()

    def fused_update(self, p, y_batch, link: str) -> bool:
        """A shortcut the fused training plan may take (the batch's probabilities ``p`` as an
        array, ``link`` the kind of output); False (the default): use ``update_state``."""
        return False

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype}

    @classmethod
    def from_config(cls, config: dict):
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name}>"


# --- reductions ----------------------------------------------------------------------------------
def _samplewise(values, sample_weight, reduce_fn):
    """Keras's ``reduce_to_samplewise_values``: one value per sample (the trailing axes reduced
    by ``reduce_fn``), already multiplied by its weight; and the weights, one per sample."""
    values = np.asarray(values, np.float64)
    weights = None
    if sample_weight is not None:
        weights = np.asarray(sample_weight, np.float64)
        if weights.ndim == values.ndim + 1 and weights.shape[-1] == 1:
            weights = weights[..., 0]
        elif values.ndim == weights.ndim + 1 and values.shape[-1] == 1 and weights.ndim == 1:
            weights = weights[:, None]
        if values.ndim > weights.ndim:
            values = reduce_fn(values, axis=tuple(range(weights.ndim, values.ndim)))
        weights = np.broadcast_to(weights, values.shape)
        values = values * weights
        if weights.ndim > 1:
            weights = reduce_fn(weights, axis=tuple(range(1, weights.ndim)))
    if values.ndim > 1:
        values = reduce_fn(values, axis=tuple(range(1, values.ndim)))
    return values, weights


class Mean(Metric):
    """The (weighted) mean of the values given so far, one value per sample (a sample's
    trailing axes are averaged first, as Keras does).

    >>> m = Mean()
    >>> m.update_state([1, 3, 5, 7], sample_weight=[1, 1, 0, 0])
    >>> float(m.result())
    2.0
    """

    def __init__(self, name: str | None = "mean", dtype: str | np.dtype | None = None):
        super().__init__(name, dtype)
        self.total = 0.0
        self.count = 0.0

    def reset_state(self) -> None:
        self.total = 0.0
        self.count = 0.0

    def update_state(self, values, sample_weight=None) -> None:
        values, weights = _samplewise(values, sample_weight, np.mean)
        self.total += float(values.sum())
        self.count += float(weights.sum()) if weights is not None else (len(values) if values.ndim else 1)

    def add(self, total: float, count: float) -> None:
        """Add a pre-summed ``total`` over ``count`` samples (the training loop's fast path)."""
        self.total += total
        self.count += count

    def result(self):
        return self._as_result(self.total / self.count) if self.count else self._as_result(0.0)


class Sum(Metric):
    """The (weighted) sum of the values given so far.

    >>> m = Sum()
    >>> m.update_state([[1, 3], [5, 7]], sample_weight=[1, 0])
    >>> float(m.result())
    4.0
    """

    def __init__(self, name: str | None = "sum", dtype: str | np.dtype | None = None):
        super().__init__(name, dtype)
        self.total = 0.0

    def reset_state(self) -> None:
        self.total = 0.0

    def update_state(self, values, sample_weight=None) -> None:
        self.total += float(_samplewise(values, sample_weight, np.sum)[0].sum())

    def result(self):
        return self._as_result(self.total)


def _align(y_true, y_pred):
    """As Keras's ``squeeze_or_expand_to_same_rank``: a trailing 1 on either side is matched."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_true.ndim == y_pred.ndim + 1 and y_true.shape[-1] == 1:
        y_true = y_true[..., 0]
    elif y_pred.ndim == y_true.ndim + 1 and y_pred.shape[-1] == 1:
        y_true = y_true[..., None]
    return y_true, y_pred


class MeanMetricWrapper(Mean):
    """The mean of ``fn(y_true, y_pred, **kwargs)`` per sample.

    >>> import numpy as np
    >>> m = MeanMetricWrapper(losses.mean_absolute_error, name="mae")
    >>> m.update_state(np.array([[1.0], [2.0]]), np.array([[1.5], [2.0]]))
    >>> float(m.result())
    0.25
    """

    def __init__(self, fn: Callable, name: str | None = None, dtype: str | np.dtype | None = None, **kwargs):
        super().__init__(name or getattr(fn, "__name__", "mean_metric_wrapper"), dtype)
        self.fn, self.kwargs = fn, kwargs

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:  # type: ignore[override]  # Keras's
        y_true, y_pred = _align(y_true, y_pred)
        super().update_state(self.fn(y_true, y_pred, **self.kwargs), sample_weight)

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype, **self.kwargs}
