"""Stateful metrics (``update_state`` / ``result`` / ``reset_state``) with Keras's names.

>>> import numpy as np
>>> m = SparseCategoricalAccuracy()
>>> m.update_state(np.array([1, 0]), np.array([[0.1, 0.9], [0.2, 0.8]]))
>>> float(m.result())
0.5
"""
from __future__ import annotations

import numbers
import warnings
from typing import Callable

import numpy as np

from . import _confusion, backend, initializers, losses
from .variables import Variable


class MetricVariable(np.lib.mixins.NDArrayOperatorsMixin, Variable):
    """A metric's state: a ``Variable`` that also does arithmetic and ``assign_add``, as a
    Keras metric's variables do (``self.total.assign_add(x)``, ``self.total + x``)."""

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        inputs = tuple(x.value if isinstance(x, Variable) else x for x in inputs)
        return getattr(ufunc, method)(*inputs, **kwargs)

    def assign_add(self, value) -> None:
        self.assign(self.value + np.asarray(value))

    def assign_sub(self, value) -> None:
        self.assign(self.value - np.asarray(value))

    def __float__(self) -> float:
        return float(self.value)


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

    def __init__(self, name: str | None = None, dtype=None):
        self.name = name or backend.snake_case(type(self).__name__)
        self.dtype = dtype or backend.floatx()
        self._variables: list[MetricVariable] = []

    @property
    def variables(self) -> list[MetricVariable]:
        return list(self._variables)

    def add_variable(self, shape=(), initializer="zeros", dtype=None, aggregation="sum", name=None) -> MetricVariable:
        """A state variable (zeroed by ``reset_state``)."""
        shape = tuple(shape)
        value = initializers.get(initializer)(shape, dtype or self.dtype)
        variable = MetricVariable(np.array(value), name=name or f"variable_{len(self._variables)}",
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

    def reset_state(self) -> None:
        for variable in self._variables:
            variable.assign(np.zeros(variable.shape, variable.value.dtype))

    def __call__(self, *args, **kwargs):
        self.update_state(*args, **kwargs)
        return self.result()

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

    def __init__(self, name="mean", dtype=None):
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
        return np.float32(self.total / self.count) if self.count else np.float32(0.0)


class Sum(Metric):
    """The (weighted) sum of the values given so far.

    >>> m = Sum()
    >>> m.update_state([[1, 3], [5, 7]], sample_weight=[1, 0])
    >>> float(m.result())
    4.0
    """

    def __init__(self, name="sum", dtype=None):
        super().__init__(name, dtype)
        self.total = 0.0

    def reset_state(self) -> None:
        self.total = 0.0

    def update_state(self, values, sample_weight=None) -> None:
        self.total += float(_samplewise(values, sample_weight, np.sum)[0].sum())

    def result(self):
        return np.float32(self.total)


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

    def __init__(self, fn: Callable, name=None, dtype=None, **kwargs):
        super().__init__(name or getattr(fn, "__name__", "mean_metric_wrapper"), dtype)
        self.fn, self.kwargs = fn, kwargs

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        y_true, y_pred = _align(y_true, y_pred)
        super().update_state(self.fn(y_true, y_pred, **self.kwargs), sample_weight)

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype, **self.kwargs}


# --- accuracy functions (one value per sample) ---------------------------------------------------
def accuracy(y_true, y_pred):
    """``y_pred == y_true``, element by element."""
    y_true, y_pred = _align(y_true, y_pred)
    return (y_true == y_pred).astype(backend.floatx())


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


def _in_top_k(labels, y_pred, k):
    """Whether each label's score is among the ``k`` largest of its row (ties count as in)."""
    y_pred = np.asarray(y_pred)
    if k >= y_pred.shape[-1]:
        return np.ones(y_pred.shape[:-1], backend.floatx())
    kth_largest = -np.partition(-y_pred, k - 1, axis=-1)[..., k - 1]
    scores = np.take_along_axis(y_pred, np.asarray(labels, np.intp)[..., None], axis=-1)[..., 0]
    return (scores >= kth_largest).astype(backend.floatx())


def top_k_categorical_accuracy(y_true, y_pred, k=5):
    """Whether the one-hot label's class is among the ``k`` highest predictions."""
    return _in_top_k(np.asarray(y_true).argmax(axis=-1), y_pred, k)


def sparse_top_k_categorical_accuracy(y_true, y_pred, k=5):
    """Whether the integer label is among the ``k`` highest predictions."""
    y_pred = np.asarray(y_pred)
    y_true = np.asarray(y_true)
    if y_true.ndim == y_pred.ndim and y_true.shape[-1] == 1:
        y_true = y_true[..., 0]
    return _in_top_k(y_true, y_pred, k)


def _cosine(y_true, y_pred, axis=-1):
    return -losses.cosine_similarity(y_true, y_pred, axis=axis)


# --- accuracy metrics ----------------------------------------------------------------------------
class Accuracy(MeanMetricWrapper):
    """How often ``y_pred`` equals ``y_true`` exactly."""

    def __init__(self, name="accuracy", dtype=None):
        super().__init__(accuracy, name, dtype)


class SparseCategoricalAccuracy(MeanMetricWrapper):
    """How often the highest prediction is the integer label."""

    def __init__(self, name="sparse_categorical_accuracy", dtype=None):
        super().__init__(sparse_categorical_accuracy, name, dtype)


class CategoricalAccuracy(MeanMetricWrapper):
    """How often the highest prediction is the one-hot label's class."""

    def __init__(self, name="categorical_accuracy", dtype=None):
        super().__init__(categorical_accuracy, name, dtype)


class BinaryAccuracy(MeanMetricWrapper):
    """How often ``y_pred > threshold`` matches the 0/1 label."""

    def __init__(self, name="binary_accuracy", dtype=None, threshold=0.5):
        super().__init__(binary_accuracy, name, dtype, threshold=threshold)


class TopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the one-hot label is among the ``k`` highest predictions."""

    def __init__(self, k=5, name="top_k_categorical_accuracy", dtype=None):
        super().__init__(top_k_categorical_accuracy, name, dtype, k=k)


class SparseTopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the integer label is among the ``k`` highest predictions."""

    def __init__(self, k=5, name="sparse_top_k_categorical_accuracy", dtype=None):
        super().__init__(sparse_top_k_categorical_accuracy, name, dtype, k=k)


# --- regression and probabilistic metrics (the mean of a loss function) -------------------------
class MeanSquaredError(MeanMetricWrapper):
    def __init__(self, name="mean_squared_error", dtype=None):
        super().__init__(losses.mean_squared_error, name, dtype)


class MeanAbsoluteError(MeanMetricWrapper):
    def __init__(self, name="mean_absolute_error", dtype=None):
        super().__init__(losses.mean_absolute_error, name, dtype)


class MeanAbsolutePercentageError(MeanMetricWrapper):
    def __init__(self, name="mean_absolute_percentage_error", dtype=None):
        super().__init__(losses.mean_absolute_percentage_error, name, dtype)


class MeanSquaredLogarithmicError(MeanMetricWrapper):
    def __init__(self, name="mean_squared_logarithmic_error", dtype=None):
        super().__init__(losses.mean_squared_logarithmic_error, name, dtype)


class LogCoshError(MeanMetricWrapper):
    def __init__(self, name="logcosh", dtype=None):
        super().__init__(losses.log_cosh, name, dtype)


class CosineSimilarity(MeanMetricWrapper):
    """The mean cosine similarity (+1 for the same direction; the loss is its negative)."""

    def __init__(self, name="cosine_similarity", dtype=None, axis=-1):
        super().__init__(_cosine, name, dtype, axis=axis)


class Hinge(MeanMetricWrapper):
    def __init__(self, name="hinge", dtype=None):
        super().__init__(losses.hinge, name, dtype)


class SquaredHinge(MeanMetricWrapper):
    def __init__(self, name="squared_hinge", dtype=None):
        super().__init__(losses.squared_hinge, name, dtype)


class CategoricalHinge(MeanMetricWrapper):
    def __init__(self, name="categorical_hinge", dtype=None):
        super().__init__(losses.categorical_hinge, name, dtype)


class KLDivergence(MeanMetricWrapper):
    def __init__(self, name="kl_divergence", dtype=None):
        super().__init__(losses.kl_divergence, name, dtype)


class Poisson(MeanMetricWrapper):
    def __init__(self, name="poisson", dtype=None):
        super().__init__(losses.poisson, name, dtype)


class BinaryCrossentropy(MeanMetricWrapper):
    def __init__(self, name="binary_crossentropy", dtype=None, from_logits=False, label_smoothing=0):
        super().__init__(losses.binary_crossentropy, name, dtype, from_logits=from_logits,
                         label_smoothing=label_smoothing)


class CategoricalCrossentropy(MeanMetricWrapper):
    def __init__(self, name="categorical_crossentropy", dtype=None, from_logits=False, label_smoothing=0, axis=-1):
        super().__init__(losses.categorical_crossentropy, name, dtype, from_logits=from_logits,
                         label_smoothing=label_smoothing, axis=axis)


class SparseCategoricalCrossentropy(MeanMetricWrapper):
    def __init__(self, name="sparse_categorical_crossentropy", dtype=None, from_logits=False, axis=-1):
        super().__init__(losses.sparse_categorical_crossentropy, name, dtype, from_logits=from_logits, axis=axis)


class RootMeanSquaredError(Mean):
    """``sqrt(mean((y_pred - y_true)**2))`` over everything seen so far.

    >>> import numpy as np
    >>> m = RootMeanSquaredError()
    >>> m.update_state(np.array([[0.0], [0.0]]), np.array([[3.0], [4.0]]))
    >>> round(float(m.result()), 4)
    3.5355
    """

    def __init__(self, name="root_mean_squared_error", dtype=None):
        super().__init__(name, dtype)

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        y_true, y_pred = _align(y_true, y_pred)
        super().update_state(np.square(np.asarray(y_pred, np.float64) - y_true), sample_weight)

    def result(self):
        return np.float32(np.sqrt(self.total / self.count)) if self.count else np.float32(0.0)


class R2Score(Metric):
    """The coefficient of determination ``1 - SS_res / SS_tot`` per output column, then
    aggregated; ``num_regressors > 0`` gives the adjusted R2.

    >>> import numpy as np
    >>> m = R2Score()
    >>> m.update_state(np.array([[1.0], [4.0], [3.0]]), np.array([[2.0], [4.0], [4.0]]))
    >>> round(float(m.result()), 5)
    0.57143
    """

    aggregations = (None, "uniform_average", "variance_weighted_average")

    def __init__(self, class_aggregation="uniform_average", num_regressors=0, name="r2_score", dtype=None):
        super().__init__(name, dtype)
        if class_aggregation not in self.aggregations:
            raise ValueError(f"R2Score class_aggregation must be one of {self.aggregations}, "
                             f"got {class_aggregation!r}")
        if num_regressors < 0:
            raise ValueError(f"R2Score num_regressors must be >= 0, got {num_regressors}")
        self.class_aggregation, self.num_regressors = class_aggregation, num_regressors
        self.reset_state()

    def reset_state(self) -> None:
        self.sum = self.squared_sum = self.residual = self.count = None  # sized by the first batch
        self.num_samples = 0

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        y_true, y_pred = _align(np.asarray(y_true, np.float64), np.asarray(y_pred, np.float64))
        if y_pred.ndim == 1:
            y_true, y_pred = y_true[:, None], y_pred[:, None]
        if y_pred.ndim != 2:
            raise ValueError(f"R2Score expects inputs of shape (batch_size, output_dim), got y_pred.shape="
                             f"{y_pred.shape}")
        weights = np.ones(1) if sample_weight is None else np.asarray(sample_weight, np.float64)
        if weights.ndim == 1:
            weights = weights[:, None]
        weights = np.broadcast_to(weights, y_true.shape)
        if self.sum is None:
            self.sum, self.squared_sum, self.residual, self.count = (np.zeros(y_pred.shape[1]) for _ in range(4))
        self.sum += (y_true * weights).sum(axis=0)
        self.squared_sum += (y_true * y_true * weights).sum(axis=0)
        self.residual += ((y_true - y_pred) ** 2 * weights).sum(axis=0)
        self.count += weights.sum(axis=0)
        self.num_samples += y_true.size

    def result(self):
        if self.sum is None:
            return np.float32(0.0)
        total = self.squared_sum - self.sum * (self.sum / self.count)
        with np.errstate(divide="ignore", invalid="ignore"):
            raw = 1 - self.residual / total
        raw = np.where(np.isinf(raw), 0.0, raw)
        if self.class_aggregation == "uniform_average":
            score = raw.mean()
        elif self.class_aggregation == "variance_weighted_average":
            score = (total * raw).sum() / total.sum()
        else:
            score = raw
        n, p = self.num_samples, self.num_regressors
        if p and p > n - 1:
            warnings.warn("More independent predictors than datapoints in adjusted R2 score. "
                          "Falling back to standard R2 score.", stacklevel=2)
        elif p and p == n - 1:
            warnings.warn("Division by zero in Adjusted R2 score. Falling back to standard R2 score.", stacklevel=2)
        elif p:
            score = 1 - (1 - score) * (n - 1) / (n - p - 1)
        return np.asarray(score, np.float32)[()]

    def get_config(self) -> dict:
        return {**super().get_config(), "class_aggregation": self.class_aggregation,
                "num_regressors": self.num_regressors}


# --- metrics from confusion counts ---------------------------------------------------------------
def _divide_no_nan(a, b):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return np.divide(a, b, out=np.zeros(np.broadcast(a, b).shape), where=b != 0)


class _ThresholdMetric(Metric):
    """Precision and Recall: counts at one or more thresholds (``top_k``, ``class_id`` as Keras)."""

    def __init__(self, thresholds=None, top_k=None, class_id=None, name=None, dtype=None):
        super().__init__(name, dtype)
        self.init_thresholds, self.top_k, self.class_id = thresholds, top_k, class_id
        default = _confusion.NEG_INF if top_k is not None else 0.5
        self.thresholds = _confusion.parse_thresholds(type(self).__name__, thresholds, default)
        self._evenly = _confusion.is_evenly_distributed(self.thresholds)
        self.true_positives = self.add_variable((len(self.thresholds),), name="true_positives")
        self.false_positives = self.add_variable((len(self.thresholds),), name="false_positives")
        self.false_negatives = self.add_variable((len(self.thresholds),), name="false_negatives")

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        y_true, y_pred, weights = _confusion.prepare(y_true, y_pred, sample_weight, self.top_k, self.class_id)
        counts = _confusion.confusion_counts(y_true, y_pred, self.thresholds, weights, evenly=self._evenly)
        self.true_positives.assign_add(counts["tp"])
        self.false_positives.assign_add(counts["fp"])
        self.false_negatives.assign_add(counts["fn"])

    def _single(self, values):
        values = values.astype(np.float32)
        return values[0] if len(self.thresholds) == 1 else values

    def get_config(self) -> dict:
        return {**super().get_config(), "thresholds": self.init_thresholds, "top_k": self.top_k,
                "class_id": self.class_id}


class Precision(_ThresholdMetric):
    """``tp / (tp + fp)``: of the predictions above the threshold, the share truly positive.

    >>> import numpy as np
    >>> m = Precision()
    >>> m.update_state(np.array([0, 1, 1, 1]), np.array([1, 0, 1, 1]))
    >>> round(float(m.result()), 4)
    0.6667
    """

    def result(self):
        tp = self.true_positives.value
        return self._single(_divide_no_nan(tp, tp + self.false_positives.value))


class Recall(_ThresholdMetric):
    """``tp / (tp + fn)``: of the truly positive, the share predicted above the threshold.

    >>> import numpy as np
    >>> m = Recall()
    >>> m.update_state(np.array([0, 1, 1, 1]), np.array([1, 0, 1, 1]))
    >>> round(float(m.result()), 4)
    0.6667
    """

    def result(self):
        tp = self.true_positives.value
        return self._single(_divide_no_nan(tp, tp + self.false_negatives.value))


class AUC(Metric):
    """Area under the ROC or PR curve, from counts at ``num_thresholds`` thresholds (Keras's grid
    and its Riemann sums: the trapezoid for ROC, Davis & Goadrich interpolation for PR).

    >>> import numpy as np
    >>> m = AUC(num_thresholds=3)
    >>> m.update_state(np.array([0, 0, 1, 1]), np.array([0, 0.5, 0.3, 0.9]))
    >>> round(float(m.result()), 4)
    0.75
    """

    curves = ("ROC", "PR")
    summation_methods = ("interpolation", "minoring", "majoring")

    def __init__(self, num_thresholds=200, curve="ROC", summation_method="interpolation", name=None, dtype=None,
                 thresholds=None, multi_label=False, num_labels=None, label_weights=None, from_logits=False):
        super().__init__(name, dtype)
        if str(curve).upper() not in self.curves:
            raise ValueError(f"AUC curve must be one of {self.curves}, got {curve!r}")
        if str(summation_method).lower() not in self.summation_methods:
            raise ValueError(f"AUC summation_method must be one of {self.summation_methods}, "
                             f"got {summation_method!r}")
        if thresholds is not None:
            inner = sorted(_confusion.parse_thresholds("AUC", thresholds, 0.5))
            self.num_thresholds = len(inner) + 2
            self._evenly = _confusion.is_evenly_distributed([0.0] + inner + [1.0])
            eps = backend.epsilon()
            self.thresholds = np.array([0.0 - eps] + inner + [1.0 + eps])
        else:
            if num_thresholds <= 1:
                raise ValueError(f"AUC num_thresholds must be > 1, got {num_thresholds}")
            self.num_thresholds, self._evenly = num_thresholds, True
            self.thresholds = _confusion.auc_thresholds(num_thresholds)
        if label_weights is not None and np.any(np.asarray(label_weights) < 0):
            raise ValueError(f"AUC label_weights must be non-negative, got {label_weights}")
        self._init_from_thresholds = thresholds is not None
        self.curve, self.summation_method = str(curve).upper(), str(summation_method).lower()
        self.multi_label, self.num_labels, self._from_logits = multi_label, num_labels, from_logits
        self.label_weights = None if label_weights is None else np.asarray(label_weights, np.float64)
        self.reset_state()

    def reset_state(self) -> None:
        self.true_positives = self.false_positives = self.true_negatives = self.false_negatives = None

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        y_pred = np.asarray(y_pred, np.float64)
        if self._from_logits:
            y_pred = 1 / (1 + np.exp(-y_pred))
        y_true, y_pred, weights = _confusion.prepare(y_true, y_pred, sample_weight)
        if self.label_weights is not None and not self.multi_label:
            weights = self.label_weights * (1.0 if weights is None else weights)
        counts = _confusion.confusion_counts(y_true, y_pred, self.thresholds, weights, self.multi_label,
                                             self._evenly)
        if self.true_positives is None:
            self.true_positives, self.false_positives = counts["tp"], counts["fp"]
            self.true_negatives, self.false_negatives = counts["tn"], counts["fn"]
        else:
            self.true_positives = self.true_positives + counts["tp"]
            self.false_positives = self.false_positives + counts["fp"]
            self.true_negatives = self.true_negatives + counts["tn"]
            self.false_negatives = self.false_negatives + counts["fn"]

    def result(self):
        if self.true_positives is None:
            return np.float32(0.0)
        if self.curve == "PR" and self.summation_method == "interpolation":
            return self._average_labels(self._interpolate_pr_auc())
        tp, fp, tn, fn = self.true_positives, self.false_positives, self.true_negatives, self.false_negatives
        recall = _divide_no_nan(tp, tp + fn)
        if self.curve == "ROC":
            x, y = _divide_no_nan(fp, fp + tn), recall
        else:
            x, y = recall, _divide_no_nan(tp, tp + fp)
        if self.summation_method == "interpolation":
            heights = (y[:-1] + y[1:]) / 2
        elif self.summation_method == "minoring":
            heights = np.minimum(y[:-1], y[1:])
        else:
            heights = np.maximum(y[:-1], y[1:])
        return self._average_labels((x[:-1] - x[1:]) * heights)

    def _interpolate_pr_auc(self):
        """Precision interpolated between thresholds as Davis & Goadrich (2006): true positives
        grow linearly with all positives, so precision integrates to a log term."""
        tp, fn = self.true_positives, self.false_negatives
        positives = tp + self.false_positives
        d_tp = tp[:-1] - tp[1:]
        d_p = positives[:-1] - positives[1:]
        slope = _divide_no_nan(d_tp, np.maximum(d_p, 0))
        intercept = tp[1:] - slope * positives[1:]
        both = (positives[:-1] > 0) & (positives[1:] > 0)
        ratio = np.where(both, _divide_no_nan(positives[:-1], np.maximum(positives[1:], 0)), 1.0)
        return _divide_no_nan(slope * (d_tp + intercept * np.log(np.where(ratio > 0, ratio, 1.0))),
                              np.maximum(tp[1:] + fn[1:], 0))

    def _average_labels(self, terms):
        if not self.multi_label:
            return np.float32(terms.sum())
        by_label = terms.sum(axis=0)
        if self.label_weights is None:
            return np.float32(by_label.mean())
        return np.float32(_divide_no_nan((by_label * self.label_weights).sum(), self.label_weights.sum()))

    def get_config(self) -> dict:
        config = {**super().get_config(), "num_thresholds": self.num_thresholds, "curve": self.curve,
                  "summation_method": self.summation_method, "multi_label": self.multi_label,
                  "num_labels": self.num_labels,
                  "label_weights": None if self.label_weights is None else self.label_weights.tolist(),
                  "from_logits": self._from_logits}
        if self._init_from_thresholds:
            config["thresholds"] = self.thresholds[1:-1].tolist()
        return config


class FBetaScore(Metric):
    """``(1 + beta**2) * precision * recall / (beta**2 * precision + recall)`` per class, then
    averaged (``None``: one score per class; ``"micro"``: from the pooled counts; ``"macro"``: the
    plain mean; ``"weighted"``: weighted by each class's support). Without a ``threshold`` each
    row's highest prediction is the positive one.

    >>> import numpy as np
    >>> m = FBetaScore(beta=2.0, threshold=0.5)
    >>> m.update_state(np.array([[1, 1, 1], [1, 0, 0], [1, 1, 0]]),
    ...                np.array([[0.2, 0.6, 0.7], [0.2, 0.6, 0.6], [0.6, 0.8, 0.0]]))
    >>> [round(float(v), 4) for v in m.result()]
    [0.3846, 0.9091, 0.8333]
    """

    averages = (None, "micro", "macro", "weighted")

    def __init__(self, average=None, beta=1.0, threshold=None, name="fbeta_score", dtype=None):
        super().__init__(name, dtype)
        if average not in self.averages:
            raise ValueError(f"{type(self).__name__} average must be one of {self.averages}, got {average!r}")
        if isinstance(beta, bool) or not isinstance(beta, numbers.Real) or not beta > 0:
            raise ValueError(f"{type(self).__name__} beta must be a number > 0, got {beta!r}")
        if threshold is not None and (isinstance(threshold, bool) or not isinstance(threshold, numbers.Real)
                                      or not 0 < threshold <= 1):
            raise ValueError(f"{type(self).__name__} threshold must be a number in (0, 1], got {threshold!r}")
        self.average, self.beta, self.threshold = average, float(beta), threshold
        self.reset_state()

    def reset_state(self) -> None:
        self.true_positives = self.false_positives = self.false_negatives = self.intermediate_weights = None

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        y_true, y_pred = np.asarray(y_true, np.float64), np.asarray(y_pred, np.float64)
        if y_true.ndim != 2 or y_pred.ndim != 2:
            raise ValueError(f"{type(self).__name__} expects inputs of shape (batch_size, output_dim), got "
                             f"y_pred.shape={y_pred.shape} and y_true.shape={y_true.shape}")
        if self.threshold is None:  # the row's maximum, unless the row is all zeros
            predicted = (y_pred >= y_pred.max(axis=-1, keepdims=True)) & (np.abs(y_pred) > 1e-9)
        else:
            predicted = y_pred > self.threshold
        predicted = predicted.astype(np.float64)
        w = 1.0 if sample_weight is None else np.asarray(sample_weight, np.float64).reshape(-1, 1)
        axis = None if self.average == "micro" else 0
        update = {"true_positives": predicted * y_true, "false_positives": predicted * (1 - y_true),
                  "false_negatives": (1 - predicted) * y_true, "intermediate_weights": y_true}
        for state, values in update.items():
            added = (values * w).sum(axis=axis)
            current = getattr(self, state)
            setattr(self, state, added if current is None else current + added)

    def result(self):
        if self.true_positives is None:
            return np.float32(0.0)
        eps, beta2 = backend.epsilon(), self.beta ** 2
        tp = self.true_positives
        precision = tp / (tp + self.false_positives + eps)
        recall = tp / (tp + self.false_negatives + eps)
        score = (1 + beta2) * precision * recall / (beta2 * precision + recall + eps)
        if self.average == "weighted":
            support = self.intermediate_weights
            score = (score * support / (support.sum() + eps)).sum()
        elif self.average is not None:
            score = np.mean(score)
        return np.asarray(score, np.float32)[()]

    def get_config(self) -> dict:
        return {**super().get_config(), "average": self.average, "beta": self.beta, "threshold": self.threshold}


class F1Score(FBetaScore):
    """``FBetaScore`` with ``beta=1``: the harmonic mean of precision and recall.

    >>> import numpy as np
    >>> m = F1Score(threshold=0.5)
    >>> m.update_state(np.array([[1, 1, 1], [1, 0, 0], [1, 1, 0]]),
    ...                np.array([[0.2, 0.6, 0.7], [0.2, 0.6, 0.6], [0.6, 0.8, 0.0]]))
    >>> [round(float(v), 4) for v in m.result()]
    [0.5, 0.8, 0.6667]
    """

    def __init__(self, average=None, threshold=None, name="f1_score", dtype=None):
        super().__init__(average=average, beta=1.0, threshold=threshold, name=name, dtype=dtype)

    def get_config(self) -> dict:
        config = super().get_config()
        del config["beta"]
        return config


# --- names ---------------------------------------------------------------------------------------
_FUNCTION_CLASSES = {
    accuracy: Accuracy,
    sparse_categorical_accuracy: SparseCategoricalAccuracy,
    categorical_accuracy: CategoricalAccuracy,
    binary_accuracy: BinaryAccuracy,
    top_k_categorical_accuracy: TopKCategoricalAccuracy,
    sparse_top_k_categorical_accuracy: SparseTopKCategoricalAccuracy,
}
_CLASSES = (Mean, Sum, Accuracy, BinaryAccuracy, CategoricalAccuracy, SparseCategoricalAccuracy,
            TopKCategoricalAccuracy, SparseTopKCategoricalAccuracy, Precision, Recall, AUC, F1Score, FBetaScore,
            MeanSquaredError, MeanAbsoluteError, MeanAbsolutePercentageError, MeanSquaredLogarithmicError,
            RootMeanSquaredError, R2Score, CosineSimilarity, LogCoshError, Hinge, SquaredHinge, CategoricalHinge,
            KLDivergence, Poisson, BinaryCrossentropy, CategoricalCrossentropy, SparseCategoricalCrossentropy)
_ALIASES = {"mse": MeanSquaredError, "MSE": MeanSquaredError, "mae": MeanAbsoluteError, "MAE": MeanAbsoluteError,
            "mape": MeanAbsolutePercentageError, "MAPE": MeanAbsolutePercentageError,
            "msle": MeanSquaredLogarithmicError, "MSLE": MeanSquaredLogarithmicError,
            "bce": BinaryCrossentropy, "BCE": BinaryCrossentropy, "auc": AUC, "fbeta_score": FBetaScore}
_REGISTRY = ({cls.__name__: cls for cls in _CLASSES} | {backend.snake_case(cls.__name__): cls for cls in _CLASSES}
             | {fn.__name__: cls for fn, cls in _FUNCTION_CLASSES.items()} | _ALIASES)


def register(name: str, cls: type, function: Callable | None = None) -> None:
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
    """Resolve a metric name, function, class, config dict or object; a loss (name, function or
    ``Loss``) becomes the mean of its per-sample values. A name given as a string is the name
    the metric is logged under, as in Keras. ``"accuracy"`` needs the shapes to pick its kind.

    >>> get("mae").name, type(get("mae")).__name__
    ('mae', 'MeanAbsoluteError')
    >>> type(get("huber")).__name__
    'MeanMetricWrapper'
    """
    if isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, Metric):
        return identifier()
    if isinstance(identifier, dict):
        cls = _REGISTRY.get(identifier.get("class_name"))
        if cls is None:
            raise ValueError(f"Unknown metric class {identifier.get('class_name')!r}")
        return cls.from_config(identifier.get("config", {}))
    if isinstance(identifier, losses.Loss):
        return MeanMetricWrapper(identifier.call, name=identifier.name)
    if isinstance(identifier, str):
        return _from_name(identifier, y_true_shape, y_pred_shape)
    if callable(identifier):
        if identifier in _FUNCTION_CLASSES:
            return _FUNCTION_CLASSES[identifier]()
        return MeanMetricWrapper(identifier)
    raise TypeError(f"metric must be a name, a function or a Metric, got {identifier!r}")


def _from_name(name: str, y_true_shape, y_pred_shape) -> Metric:
    if name in ("accuracy", "acc"):
        if y_true_shape is None or y_pred_shape is None:
            return Accuracy(name=name)
        return resolve_accuracy(name, y_true_shape, y_pred_shape)
    if name in _REGISTRY:
        metric = _REGISTRY[name]()
        metric.name = name
        return metric
    if name in losses._REGISTRY:
        return MeanMetricWrapper(losses.get(name).call, name=name)
    names = sorted({"accuracy", "acc", *(k for k in _REGISTRY if k[0].islower()),
                    *(k for k in losses._REGISTRY if k[0].islower())})
    raise ValueError(f"Unknown metric {name!r}. Valid names: {', '.join(names)}")
