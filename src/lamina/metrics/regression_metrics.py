"""Regression and probabilistic metrics: the means of loss functions, RMSE, R2Score."""
from __future__ import annotations

from typing import Any

import warnings

import numpy as np

from .. import losses
from .metric import Metric, Mean, MeanMetricWrapper, _align


def _cosine(y_true, y_pred, axis=-1):
    return -losses.cosine_similarity(y_true, y_pred, axis=axis)

# --- regression and probabilistic metrics (the mean of a loss function) -------------------------
class MeanSquaredError(MeanMetricWrapper):
    """The mean squared error between ``y_true`` and ``y_pred``, averaged over the samples seen."""
    def __init__(self, name: str | None = "mean_squared_error", dtype: str | None = None):
        super().__init__(losses.mean_squared_error, name, dtype)


class MeanAbsoluteError(MeanMetricWrapper):
    """The mean absolute error between ``y_true`` and ``y_pred``, averaged over the samples seen."""
    def __init__(self, name: str | None = "mean_absolute_error", dtype: str | None = None):
        super().__init__(losses.mean_absolute_error, name, dtype)


class MeanAbsolutePercentageError(MeanMetricWrapper):
    """The mean absolute percentage error between ``y_true`` and ``y_pred``, averaged over the samples seen."""
    def __init__(self, name: str | None = "mean_absolute_percentage_error", dtype: str | None = None):
        super().__init__(losses.mean_absolute_percentage_error, name, dtype)


class MeanSquaredLogarithmicError(MeanMetricWrapper):
    """The mean squared logarithmic error between ``y_true`` and ``y_pred``, averaged over the samples seen."""
    def __init__(self, name: str | None = "mean_squared_logarithmic_error", dtype: str | None = None):
        super().__init__(losses.mean_squared_logarithmic_error, name, dtype)


class LogCoshError(MeanMetricWrapper):
    """The log of the hyperbolic cosine of ``y_pred - y_true``, averaged over the samples seen."""
    def __init__(self, name: str | None = "logcosh", dtype: str | None = None):
        super().__init__(losses.log_cosh, name, dtype)


class CosineSimilarity(MeanMetricWrapper):
    """The mean cosine similarity (+1 for the same direction; the loss is its negative)."""

    def __init__(self, name: str | None = "cosine_similarity", dtype: str | None = None, axis: int = -1):
        super().__init__(_cosine, name, dtype, axis=axis)


class Hinge(MeanMetricWrapper):
    """The hinge loss between ``y_true`` and ``y_pred``, averaged over the samples seen."""
    def __init__(self, name: str | None = "hinge", dtype: str | None = None):
        super().__init__(losses.hinge, name, dtype)


class SquaredHinge(MeanMetricWrapper):
    """The squared hinge loss between ``y_true`` and ``y_pred``, averaged over the samples seen."""
    def __init__(self, name: str | None = "squared_hinge", dtype: str | None = None):
        super().__init__(losses.squared_hinge, name, dtype)


class CategoricalHinge(MeanMetricWrapper):
    """The categorical hinge loss between ``y_true`` and ``y_pred``, averaged over the samples seen."""
    def __init__(self, name: str | None = "categorical_hinge", dtype: str | None = None):
        super().__init__(losses.categorical_hinge, name, dtype)


class KLDivergence(MeanMetricWrapper):
    """The Kullback-Leibler divergence between ``y_true`` and ``y_pred``, averaged over the samples seen."""
    def __init__(self, name: str | None = "kl_divergence", dtype: str | None = None):
        super().__init__(losses.kl_divergence, name, dtype)


class Poisson(MeanMetricWrapper):
    """The Poisson loss between ``y_true`` and ``y_pred``, averaged over the samples seen."""
    def __init__(self, name: str | None = "poisson", dtype: str | None = None):
        super().__init__(losses.poisson, name, dtype)


class BinaryCrossentropy(MeanMetricWrapper):
    """The binary crossentropy between ``y_true`` and ``y_pred``, averaged over the samples seen."""
    def __init__(self, name: str | None = "binary_crossentropy", dtype: str | None = None, from_logits: bool = False,
                 label_smoothing: float = 0):
        super().__init__(losses.binary_crossentropy, name, dtype, from_logits=from_logits,
                         label_smoothing=label_smoothing)


class CategoricalCrossentropy(MeanMetricWrapper):
    """The categorical crossentropy between ``y_true`` and ``y_pred``, averaged over the samples seen."""
    def __init__(self, name: str | None = "categorical_crossentropy", dtype: str | None = None,
                 from_logits: bool = False, label_smoothing: float = 0, axis: int = -1):
        super().__init__(losses.categorical_crossentropy, name, dtype, from_logits=from_logits,
                         label_smoothing=label_smoothing, axis=axis)


class SparseCategoricalCrossentropy(MeanMetricWrapper):
    """The sparse categorical crossentropy between ``y_true`` and ``y_pred``, averaged over the samples seen."""
    def __init__(self, name: str | None = "sparse_categorical_crossentropy", dtype: str | None = None,
                 from_logits: bool = False, axis: int = -1):
        super().__init__(losses.sparse_categorical_crossentropy, name, dtype, from_logits=from_logits, axis=axis)


class RootMeanSquaredError(Mean):
    """``sqrt(mean((y_pred - y_true)**2))`` over everything seen so far.

    >>> import numpy as np
    >>> m = RootMeanSquaredError()
    >>> m.update_state(np.array([[0.0], [0.0]]), np.array([[3.0], [4.0]]))
    >>> round(float(m.result()), 4)
    3.5355
    """

    def __init__(self, name: str | None = "root_mean_squared_error", dtype: str | None = None):
        super().__init__(name, dtype)

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:  # type: ignore[override]  # Keras's
        y_true, y_pred = _align(y_true, y_pred)
        super().update_state(np.square(np.asarray(y_pred, np.float64) - y_true), sample_weight)

    def result(self):
        return self._as_result(np.sqrt(self.total / self.count)) if self.count else self._as_result(0.0)


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

    def __init__(self, class_aggregation: str | None = "uniform_average", num_regressors: int = 0,
                 name: str | None = "r2_score", dtype: str | None = None):
        super().__init__(name, dtype)
        if class_aggregation not in self.aggregations:
            raise ValueError(f"R2Score class_aggregation must be one of {self.aggregations}, "
                             f"got {class_aggregation!r}")
        if num_regressors < 0:
            raise ValueError(f"R2Score num_regressors must be >= 0, got {num_regressors}")
        self.class_aggregation, self.num_regressors = class_aggregation, num_regressors
        self.reset_state()

    def reset_state(self) -> None:
        self.sum: Any = None  # these four are sized by the first batch
        self.squared_sum: Any = None
        self.residual: Any = None
        self.count: Any = None
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
            return self._as_result(0.0)
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
        return self._as_result(score)

    def get_config(self) -> dict:
        return {**super().get_config(), "class_aggregation": self.class_aggregation,
                "num_regressors": self.num_regressors}
