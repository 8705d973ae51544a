"""Losses with Keras's names, formulas and reductions, each with its gradient.

A loss function (``sparse_categorical_crossentropy(y_true, y_pred)``) returns one value per
sample. A ``Loss`` object reduces them (``"sum_over_batch_size"``: the weighted sum divided by
the batch size) and gives the gradient of that reduced value with respect to ``y_pred``.

>>> import numpy as np
>>> loss = SparseCategoricalCrossentropy()
>>> round(float(loss(np.array([0]), np.array([[0.5, 0.5]]))), 4)
0.6931
"""
from __future__ import annotations

import numpy as np

from . import backend


def _eps():
    return backend.epsilon()


def _sparse_labels(y_true, y_pred):
    labels = np.asarray(y_true)
    if labels.ndim == y_pred.ndim and labels.shape[-1] == 1:
        labels = labels[..., 0]
    return labels.astype(np.intp, copy=False)


def check_sparse_labels(y_true, n_classes: int, what: str = "y") -> None:
    """A clear error for labels that are not integers in ``[0, n_classes)``."""
    labels = np.asarray(y_true)
    if labels.size == 0:
        return
    if labels.dtype.kind == "f" and not np.array_equal(labels, np.floor(labels)):
        raise ValueError(f"Sparse categorical labels in {what} must be integers, got non-integer values")
    low, high = labels.min(), labels.max()
    if low < 0 or high >= n_classes:
        raise ValueError(f"Sparse categorical labels in {what} must be in [0, {n_classes}) for an output "
                         f"of {n_classes} units, got values from {low} to {high}")


# --- per-sample functions and their gradients (d loss_i / d y_pred_i) ---------------------------
def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False, ignore_class=None, axis=-1):
    """``-log(p[label])`` per sample, after normalizing and clipping ``p`` as Keras does."""
    y_pred = np.asarray(y_pred)
    labels = _sparse_labels(y_true, y_pred)
    log_p = _log_probabilities(y_pred, from_logits)
    return -np.take_along_axis(log_p, labels[..., None], axis=-1)[..., 0]


def categorical_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """``-sum(y_true * log(p))`` per sample."""
    y_pred = np.asarray(y_pred)
    y_true = np.asarray(y_true, dtype=y_pred.dtype)
    if label_smoothing:
        y_true = y_true * (1 - label_smoothing) + label_smoothing / y_true.shape[-1]
    return -(y_true * _log_probabilities(y_pred, from_logits)).sum(axis=-1)


def _log_probabilities(y_pred, from_logits):
    if from_logits:
        shifted = y_pred - y_pred.max(axis=-1, keepdims=True)
        return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    p = y_pred / y_pred.sum(axis=-1, keepdims=True)
    return np.log(np.clip(p, _eps(), 1 - _eps()))


def _crossentropy_grad(y_true_dense, y_pred, from_logits):
    """d(-sum(t * log q)) / d y_pred, with q = softmax(logits) or clip(p / sum p)."""
    if from_logits:
        shifted = np.exp(y_pred - y_pred.max(axis=-1, keepdims=True))
        q = shifted / shifted.sum(axis=-1, keepdims=True)
        return q * y_true_dense.sum(axis=-1, keepdims=True) - y_true_dense
    total = y_pred.sum(axis=-1, keepdims=True)
    q = y_pred / total
    inside = (q > _eps()) & (q < 1 - _eps())  # the clip stops the gradient outside
    t = y_true_dense * inside
    return -t / np.where(inside, y_pred, 1) + t.sum(axis=-1, keepdims=True) / total


def mean_squared_error(y_true, y_pred):
    """``mean((y_true - y_pred)**2)`` over the last axis."""
    y_pred = np.asarray(y_pred)
    return np.mean(np.square(y_pred - np.asarray(y_true, y_pred.dtype)), axis=-1)


def binary_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """Mean over the last axis of ``-(y log p + (1-y) log(1-p))``."""
    y_pred = np.asarray(y_pred)
    y_true = np.asarray(y_true, y_pred.dtype).reshape(y_pred.shape)
    if label_smoothing:
        y_true = y_true * (1 - label_smoothing) + 0.5 * label_smoothing
    if from_logits:  # log(1 + exp(-|x|)) + max(x, 0) - x * y, stable for any x
        per_unit = np.logaddexp(0, -np.abs(y_pred)) + np.maximum(y_pred, 0) - y_pred * y_true
    else:
        p = np.clip(y_pred, _eps(), 1 - _eps())
        per_unit = -(y_true * np.log(p) + (1 - y_true) * np.log(1 - p))
    return per_unit.mean(axis=-1)


# --- Loss objects -------------------------------------------------------------------------------
class Loss:
    """Base class: ``call`` gives per-sample losses, ``grad`` their derivatives.

    ``fused_activation`` names the output activation whose derivative cancels against this
    loss's (softmax for crossentropy, sigmoid for binary crossentropy): the gradient with
    respect to the pre-activation is then ``fused_grad``, simply ``p - y``, with no Jacobian.
    """

    fused_activation: str | None = None

    reductions = ("sum_over_batch_size", "sum", "mean", "none", None)

    def __init__(self, name=None, reduction="sum_over_batch_size", dtype=None):
        if reduction not in self.reductions:
            raise ValueError(f"{type(self).__name__} reduction must be one of {self.reductions}, got {reduction!r}")
        self.name = name or backend.snake_case(type(self).__name__)
        self.reduction = reduction
        self.dtype = dtype

    def call(self, y_true, y_pred):
        raise TypeError(f"{type(self).__name__} must implement call(y_true, y_pred)")

    def grad(self, y_true, y_pred):
        raise TypeError(f"{type(self).__name__} has no gradient: implement grad(y_true, y_pred)")

    def _weights(self, per_sample, sample_weight):
        if sample_weight is None:
            return None
        return np.broadcast_to(np.asarray(sample_weight, per_sample.dtype).reshape(
            np.shape(sample_weight) + (1,) * (per_sample.ndim - np.ndim(sample_weight))), per_sample.shape)

    def __call__(self, y_true, y_pred, sample_weight=None):
        y_pred = np.asarray(y_pred)
        per_sample = self.call(y_true, y_pred)
        weights = self._weights(per_sample, sample_weight)
        if weights is not None:
            per_sample = per_sample * weights
        if self.reduction in ("none", None):
            return per_sample
        total = per_sample.sum()
        if self.reduction == "sum":
            return total
        denominator = per_sample.size
        if self.reduction == "mean" and weights is not None:
            denominator = max(weights.sum(), _eps())
        return total / max(denominator, 1)

    def fused_grad(self, y_true, y_pred):
        raise TypeError(f"{type(self).__name__} has no fused gradient")

    def gradient(self, y_true, y_pred, sample_weight=None, fused=False):
        """The gradient of the reduced loss with respect to ``y_pred`` (with ``fused``, with
        respect to the pre-activation of ``fused_activation``)."""
        y_pred = np.asarray(y_pred)
        g = self.fused_grad(y_true, y_pred) if fused else self.grad(y_true, y_pred)
        per_sample_shape = y_pred.shape[:-1]
        if sample_weight is not None:
            w = np.asarray(sample_weight, y_pred.dtype).reshape(per_sample_shape)
            g = g * w[..., None]
        if self.reduction == "sum":
            return g
        if self.reduction == "mean" and sample_weight is not None:
            return g / max(float(np.sum(w)), _eps())
        return g / max(int(np.prod(per_sample_shape)), 1)

    def get_config(self):
        return {"name": self.name, "reduction": self.reduction}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class SparseCategoricalCrossentropy(Loss):
    """Crossentropy between integer labels and predicted class probabilities (or logits)."""

    def __init__(self, from_logits=False, ignore_class=None, reduction="sum_over_batch_size",
                 name="sparse_categorical_crossentropy", **kwargs):
        super().__init__(name, reduction, **kwargs)
        self.from_logits, self.ignore_class = from_logits, ignore_class
        self.fused_activation = None if from_logits else "softmax"

    def call(self, y_true, y_pred):
        return sparse_categorical_crossentropy(y_true, y_pred, self.from_logits)

    def _dense(self, y_true, y_pred):
        dense = np.zeros_like(y_pred)
        np.put_along_axis(dense, _sparse_labels(y_true, y_pred)[..., None], 1, axis=-1)
        return dense

    def grad(self, y_true, y_pred):
        return _crossentropy_grad(self._dense(y_true, y_pred), y_pred, self.from_logits)

    def fused_grad(self, y_true, y_pred):
        return y_pred - self._dense(y_true, y_pred)

    def get_config(self):
        return {**super().get_config(), "from_logits": self.from_logits, "ignore_class": self.ignore_class}


class CategoricalCrossentropy(Loss):
    """Crossentropy between one-hot (or soft) labels and predicted class probabilities."""

    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1, reduction="sum_over_batch_size",
                 name="categorical_crossentropy", **kwargs):
        super().__init__(name, reduction, **kwargs)
        if not 0 <= label_smoothing <= 1:
            raise ValueError(f"CategoricalCrossentropy label_smoothing must be in [0, 1], got {label_smoothing}")
        self.from_logits, self.label_smoothing, self.axis = from_logits, label_smoothing, axis
        self.fused_activation = None if from_logits else "softmax"

    def _targets(self, y_true, y_pred):
        y_true = np.asarray(y_true, y_pred.dtype)
        if self.label_smoothing:
            y_true = y_true * (1 - self.label_smoothing) + self.label_smoothing / y_true.shape[-1]
        return y_true

    def fused_grad(self, y_true, y_pred):
        t = self._targets(y_true, y_pred)
        return y_pred * t.sum(axis=-1, keepdims=True) - t

    def call(self, y_true, y_pred):
        return -(self._targets(y_true, y_pred) * _log_probabilities(y_pred, self.from_logits)).sum(axis=-1)

    def grad(self, y_true, y_pred):
        return _crossentropy_grad(self._targets(y_true, y_pred), y_pred, self.from_logits)

    def get_config(self):
        return {**super().get_config(), "from_logits": self.from_logits,
                "label_smoothing": self.label_smoothing, "axis": self.axis}


class MeanSquaredError(Loss):
    def __init__(self, reduction="sum_over_batch_size", name="mean_squared_error", **kwargs):
        super().__init__(name, reduction, **kwargs)

    def call(self, y_true, y_pred):
        return mean_squared_error(y_true, y_pred)

    def grad(self, y_true, y_pred):
        return 2 * (y_pred - np.asarray(y_true, y_pred.dtype).reshape(y_pred.shape)) / y_pred.shape[-1]


class BinaryCrossentropy(Loss):
    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1, reduction="sum_over_batch_size",
                 name="binary_crossentropy", **kwargs):
        super().__init__(name, reduction, **kwargs)
        if not 0 <= label_smoothing <= 1:
            raise ValueError(f"BinaryCrossentropy label_smoothing must be in [0, 1], got {label_smoothing}")
        self.from_logits, self.label_smoothing, self.axis = from_logits, label_smoothing, axis
        self.fused_activation = None if from_logits else "sigmoid"

    def _targets(self, y_true, y_pred):
        y_true = np.asarray(y_true, y_pred.dtype).reshape(y_pred.shape)
        return y_true * (1 - self.label_smoothing) + 0.5 * self.label_smoothing

    def fused_grad(self, y_true, y_pred):
        return (y_pred - self._targets(y_true, y_pred)) / y_pred.shape[-1]

    def call(self, y_true, y_pred):
        return binary_crossentropy(y_true, y_pred, self.from_logits, self.label_smoothing)

    def grad(self, y_true, y_pred):
        t = self._targets(y_true, y_pred)
        if self.from_logits:
            p = 1 / (1 + np.exp(-y_pred))
            return (p - t) / y_pred.shape[-1]
        inside = (y_pred > _eps()) & (y_pred < 1 - _eps())
        p = np.clip(y_pred, _eps(), 1 - _eps())
        return inside * (p - t) / (p * (1 - p)) / y_pred.shape[-1]

    def get_config(self):
        return {**super().get_config(), "from_logits": self.from_logits,
                "label_smoothing": self.label_smoothing, "axis": self.axis}


class LossFunctionWrapper(Loss):
    """A ``Loss`` around a per-sample function that has a registered gradient."""

    def __init__(self, fn, name=None, reduction="sum_over_batch_size", **kwargs):
        super().__init__(name or fn.__name__, reduction)
        self.fn, self.kwargs = fn, kwargs

    def call(self, y_true, y_pred):
        return self.fn(y_true, y_pred, **self.kwargs)

    def grad(self, y_true, y_pred):
        return _FUNCTION_CLASSES[self.fn](**self.kwargs).grad(y_true, y_pred)


mse = MSE = mean_squared_error
_FUNCTION_CLASSES = {
    sparse_categorical_crossentropy: SparseCategoricalCrossentropy,
    categorical_crossentropy: CategoricalCrossentropy,
    mean_squared_error: MeanSquaredError,
    binary_crossentropy: BinaryCrossentropy,
}
_REGISTRY = {fn.__name__: cls for fn, cls in _FUNCTION_CLASSES.items()} | {
    cls.__name__: cls for cls in _FUNCTION_CLASSES.values()} | {"mse": MeanSquaredError}


def register(name, cls, function=None):
    """Make a ``Loss`` class resolvable by name (and its per-sample function, if any)."""
    _REGISTRY[name] = _REGISTRY[cls.__name__] = cls
    if function is not None:
        _FUNCTION_CLASSES[function] = cls


def get(identifier) -> Loss:
    """Resolve a name (``"mse"``), a loss function, a class or a ``Loss``.

    >>> type(get("sparse_categorical_crossentropy")).__name__
    'SparseCategoricalCrossentropy'
    """
    if isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, Loss):
        return identifier()
    if isinstance(identifier, dict):
        cls = _REGISTRY.get(identifier.get("class_name"))
        if cls is None:
            raise ValueError(f"Unknown loss class {identifier.get('class_name')!r}")
        return cls.from_config(identifier.get("config", {}))
    if isinstance(identifier, str):
        if identifier in _REGISTRY:
            return _REGISTRY[identifier]()
        names = sorted(k for k in _REGISTRY if k[0].islower())
        raise ValueError(f"Unknown loss {identifier!r}. Valid names: {', '.join(names)}")
    if callable(identifier):
        if identifier in _FUNCTION_CLASSES:
            return _FUNCTION_CLASSES[identifier]()
        return CustomLoss(identifier)
    raise TypeError(f"loss must be a name, a function or a Loss, got {identifier!r}")


class CustomLoss(Loss):
    """A user's ``(y_true, y_pred) -> per-sample losses`` function; its gradient is taken
    numerically by central differences, one output unit at a time (correct, not fast)."""

    def __init__(self, fn, reduction="sum_over_batch_size"):
        super().__init__(getattr(fn, "__name__", "custom_loss"), reduction)
        self.fn = fn

    def call(self, y_true, y_pred):
        return np.asarray(self.fn(y_true, y_pred), dtype=y_pred.dtype)

    def grad(self, y_true, y_pred):
        y64 = y_pred.astype(np.float64)
        grad = np.empty_like(y64)
        step = 1e-6 if y_pred.dtype == np.float64 else 1e-3
        flat = y64.reshape(len(y64), -1)
        for j in range(flat.shape[1]):
            plus, minus = flat.copy(), flat.copy()
            plus[:, j] += step
            minus[:, j] -= step
            diff = (np.asarray(self.fn(y_true, plus.reshape(y64.shape)), np.float64)
                    - np.asarray(self.fn(y_true, minus.reshape(y64.shape)), np.float64))
            grad.reshape(len(y64), -1)[:, j] = diff.reshape(len(y64), -1).sum(axis=1) / (2 * step)
        return grad.astype(y_pred.dtype)
