"""Stateful metrics (``update_state`` / ``result`` / ``reset_state``) with Keras's names.

>>> import numpy as np
>>> m = SparseCategoricalAccuracy()
>>> m.update_state(np.array([1, 0]), np.array([[0.1, 0.9], [0.2, 0.8]]))
>>> float(m.result())
0.5
"""
from __future__ import annotations

import numpy as np

from . import backend, losses


class Metric:
    """Base class. Subclasses implement ``update_state``, ``result`` and ``reset_state``."""

    def __init__(self, name=None, dtype=None):
        self.name = name or backend.snake_case(type(self).__name__)
        self.dtype = dtype or backend.floatx()

    def update_state(self, *args, **kwargs):
        raise TypeError(f"{type(self).__name__} must implement update_state")

    def result(self):
        raise TypeError(f"{type(self).__name__} must implement result")

    def reset_state(self):
        raise TypeError(f"{type(self).__name__} must implement reset_state")

    def __call__(self, *args, **kwargs):
        self.update_state(*args, **kwargs)
        return self.result()

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class Mean(Metric):
    """The (weighted) mean of the values given so far."""

    def __init__(self, name="mean", dtype=None):
        super().__init__(name, dtype)
        self.reset_state()

    def reset_state(self):
        self.total = 0.0
        self.count = 0.0

    def update_state(self, values, sample_weight=None):
        values = np.asarray(values, np.float64)
        if sample_weight is None:
            self.total += float(values.sum())
            self.count += values.size
        else:
            w = np.broadcast_to(np.asarray(sample_weight, np.float64).reshape(
                np.shape(sample_weight) + (1,) * (values.ndim - np.ndim(sample_weight))), values.shape)
            self.total += float((values * w).sum())
            self.count += float(w.sum())

    def add(self, total: float, count: float) -> None:
        """Add a pre-summed ``total`` over ``count`` samples (the training loop's fast path)."""
        self.total += total
        self.count += count

    def result(self):
        return np.float32(self.total / self.count) if self.count else np.float32(0.0)


class Sum(Mean):
    def __init__(self, name="sum", dtype=None):
        super().__init__(name, dtype)

    def result(self):
        return np.float32(self.total)


class MeanMetricWrapper(Mean):
    """The mean of ``fn(y_true, y_pred)`` per sample."""

    def __init__(self, fn, name=None, dtype=None, **kwargs):
        super().__init__(name or fn.__name__, dtype)
        self.fn, self.kwargs = fn, kwargs

    def update_state(self, y_true, y_pred, sample_weight=None):
        super().update_state(self.fn(y_true, np.asarray(y_pred), **self.kwargs), sample_weight)

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, **self.kwargs}


# --- accuracy functions (one value per sample) --------------------------------------------------
def sparse_categorical_accuracy(y_true, y_pred):
    """``argmax(y_pred) == y_true`` (a trailing 1 in ``y_true`` is squeezed)."""
    y_pred = np.asarray(y_pred)
    y_true = np.asarray(y_true)
    if y_true.ndim == y_pred.ndim and y_true.shape[-1] == 1:
        y_true = y_true[..., 0]
    return (y_pred.argmax(axis=-1) == y_true).astype(backend.floatx())


def categorical_accuracy(y_true, y_pred):
    """``argmax(y_pred) == argmax(y_true)``."""
    return (np.asarray(y_pred).argmax(axis=-1) == np.asarray(y_true).argmax(axis=-1)).astype(backend.floatx())


def binary_accuracy(y_true, y_pred, threshold=0.5):
    """Mean over the last axis of ``(y_pred > threshold) == y_true``."""
    y_pred = np.asarray(y_pred)
    y_true = np.asarray(y_true).reshape(y_pred.shape)
    return ((y_pred > threshold) == y_true).mean(axis=-1).astype(backend.floatx())


class SparseCategoricalAccuracy(MeanMetricWrapper):
    def __init__(self, name="sparse_categorical_accuracy", dtype=None):
        super().__init__(sparse_categorical_accuracy, name, dtype)


class CategoricalAccuracy(MeanMetricWrapper):
    def __init__(self, name="categorical_accuracy", dtype=None):
        super().__init__(categorical_accuracy, name, dtype)


class BinaryAccuracy(MeanMetricWrapper):
    def __init__(self, name="binary_accuracy", dtype=None, threshold=0.5):
        super().__init__(binary_accuracy, name, dtype, threshold=threshold)


class Accuracy(MeanMetricWrapper):
    """``y_pred == y_true``, element by element."""

    def __init__(self, name="accuracy", dtype=None):
        super().__init__(lambda t, p: (np.asarray(t) == np.asarray(p)).astype(backend.floatx()), name, dtype)


_FUNCTION_CLASSES = {
    sparse_categorical_accuracy: SparseCategoricalAccuracy,
    categorical_accuracy: CategoricalAccuracy,
    binary_accuracy: BinaryAccuracy,
}
_REGISTRY = {cls.__name__: cls for cls in (*_FUNCTION_CLASSES.values(), Accuracy, Mean, Sum)} | {
    fn.__name__: cls for fn, cls in _FUNCTION_CLASSES.items()}


def register(name, cls, function=None):
    """Make a ``Metric`` class resolvable by name (and its per-sample function, if any)."""
    _REGISTRY[name] = _REGISTRY[cls.__name__] = cls
    if function is not None:
        _FUNCTION_CLASSES[function] = cls


def resolve_accuracy(name: str, y_true_shape: tuple, y_pred_shape: tuple) -> Metric:
    """``"accuracy"`` becomes binary, sparse categorical or categorical accuracy from the shapes,
    as Keras decides it; the logged name stays as given."""
    if y_pred_shape[-1] == 1:
        return BinaryAccuracy(name=name)
    sparse = len(y_true_shape) < len(y_pred_shape) or (
        len(y_true_shape) == len(y_pred_shape) and y_true_shape[-1] == 1)
    return SparseCategoricalAccuracy(name=name) if sparse else CategoricalAccuracy(name=name)


def get(identifier, y_true_shape=None, y_pred_shape=None) -> Metric:
    """Resolve a metric name, function, class or object (``"accuracy"`` needs the shapes)."""
    if isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, Metric):
        return identifier()
    if isinstance(identifier, str):
        if identifier in ("accuracy", "acc"):
            return resolve_accuracy(identifier, y_true_shape, y_pred_shape)
        if identifier in _REGISTRY:
            return _REGISTRY[identifier]()
        loss_name = identifier if identifier in losses._REGISTRY else None
        if loss_name:
            return MeanMetricWrapper(losses.get(loss_name).call, name=identifier)
        names = sorted({"accuracy", "acc", *(k for k in _REGISTRY if k[0].islower()),
                        *(k for k in losses._REGISTRY if k[0].islower())})
        raise ValueError(f"Unknown metric {identifier!r}. Valid names: {', '.join(names)}")
    if callable(identifier):
        if identifier in _FUNCTION_CLASSES:
            return _FUNCTION_CLASSES[identifier]()
        return MeanMetricWrapper(identifier)
    raise TypeError(f"metric must be a name, a function or a Metric, got {identifier!r}")
