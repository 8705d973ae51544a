"""Stateful metrics (``update_state`` / ``result`` / ``reset_state``) with Keras's names.

>>> import numpy as np
>>> m = SparseCategoricalAccuracy()
>>> m.update_state(np.array([1, 0]), np.array([[0.1, 0.9], [0.2, 0.8]]))
>>> float(m.result())
0.5
"""
from __future__ import annotations

from typing import Callable

from .. import backend, losses
from .._resolve import UNRESOLVED, from_registry, unknown_name
from .accuracy_metrics import (
    Accuracy,
    BinaryAccuracy,
    CategoricalAccuracy,
    SparseCategoricalAccuracy,
    SparseTopKCategoricalAccuracy,
    TopKCategoricalAccuracy,
    accuracy,
    binary_accuracy,
    categorical_accuracy,
    sparse_categorical_accuracy,
    sparse_top_k_categorical_accuracy,
    top_k_categorical_accuracy,
)
from .confusion_metrics import AUC, F1Score, FBetaScore, Precision, Recall
from .correlation_metrics import (ConcordanceCorrelation, PearsonCorrelation, concordance_correlation,
                                  pearson_correlation)
from .iou_metrics import BinaryIoU, IoU, MeanIoU, OneHotIoU, OneHotMeanIoU
from .metric import Mean, MeanMetricWrapper, Metric, MetricVariable, Sum
from .regression_metrics import (
    BinaryCrossentropy,
    CategoricalCrossentropy,
    CategoricalHinge,
    CosineSimilarity,
    Hinge,
    KLDivergence,
    LogCoshError,
    MeanAbsoluteError,
    MeanAbsolutePercentageError,
    MeanSquaredError,
    MeanSquaredLogarithmicError,
    Poisson,
    R2Score,
    RootMeanSquaredError,
    SparseCategoricalCrossentropy,
    SquaredHinge,
)
from .threshold_metrics import (
    FalseNegatives,
    FalsePositives,
    PrecisionAtRecall,
    RecallAtPrecision,
    SensitivityAtSpecificity,
    SpecificityAtSensitivity,
    TrueNegatives,
    TruePositives,
)
# keras.metrics names the loss functions too (the very same functions as keras.losses)
from ..losses import (binary_crossentropy, binary_focal_crossentropy, categorical_crossentropy,
                      categorical_focal_crossentropy, categorical_hinge, hinge, huber, kl_divergence, log_cosh,
                      mean_absolute_error, mean_absolute_percentage_error, mean_squared_error,
                      mean_squared_logarithmic_error, poisson, sparse_categorical_crossentropy, squared_hinge)
from ..saving.kind_configs import deserialize_metric as deserialize, serialize

# --- names ---------------------------------------------------------------------------------------
_FUNCTION_CLASSES = {
    accuracy: Accuracy,
    sparse_categorical_accuracy: SparseCategoricalAccuracy,
    categorical_accuracy: CategoricalAccuracy,
    binary_accuracy: BinaryAccuracy,
    top_k_categorical_accuracy: TopKCategoricalAccuracy,
    sparse_top_k_categorical_accuracy: SparseTopKCategoricalAccuracy,
    pearson_correlation: PearsonCorrelation,
    concordance_correlation: ConcordanceCorrelation,
}
_CLASSES = (Mean, Sum, Accuracy, BinaryAccuracy, CategoricalAccuracy, SparseCategoricalAccuracy,
            TopKCategoricalAccuracy, SparseTopKCategoricalAccuracy, Precision, Recall, AUC, F1Score, FBetaScore,
            MeanSquaredError, MeanAbsoluteError, MeanAbsolutePercentageError, MeanSquaredLogarithmicError,
            RootMeanSquaredError, R2Score, CosineSimilarity, LogCoshError, Hinge, SquaredHinge, CategoricalHinge,
            KLDivergence, Poisson, BinaryCrossentropy, CategoricalCrossentropy, SparseCategoricalCrossentropy,
            TruePositives, FalsePositives, TrueNegatives, FalseNegatives, SensitivityAtSpecificity,
            SpecificityAtSensitivity, PrecisionAtRecall, RecallAtPrecision, PearsonCorrelation,
            ConcordanceCorrelation, IoU, MeanIoU, BinaryIoU, OneHotIoU, OneHotMeanIoU)
_ALIASES = {"mse": MeanSquaredError, "MSE": MeanSquaredError, "mae": MeanAbsoluteError, "MAE": MeanAbsoluteError,
            "mape": MeanAbsolutePercentageError, "MAPE": MeanAbsolutePercentageError,
            "msle": MeanSquaredLogarithmicError, "MSLE": MeanSquaredLogarithmicError,
            "bce": BinaryCrossentropy, "BCE": BinaryCrossentropy, "auc": AUC, "fbeta_score": FBetaScore}
# typed as plain classes: some (SensitivityAtSpecificity...) need an argument, so a name alone
# cannot build them (as in Keras)
_REGISTRY: dict[str, type] = (
    {cls.__name__: cls for cls in _CLASSES} | {backend.snake_case(cls.__name__): cls for cls in _CLASSES}
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
    ``Loss``) becomes the mean of its per-sample values. A metric class found by name keeps its
    own default name, as Keras's ``metrics.get`` (``compile`` logs it under the string given).
    ``"accuracy"`` needs the shapes to pick its kind.

    >>> get("mae").name, type(get("mae")).__name__
    ('mean_absolute_error', 'MeanAbsoluteError')
    >>> type(get("huber")).__name__
    'MeanMetricWrapper'
    """
    if isinstance(identifier, str):
        return _from_name(identifier, y_true_shape, y_pred_shape)
    if isinstance(identifier, losses.Loss):
        return MeanMetricWrapper(identifier.call, name=identifier.name)
    resolved = from_registry(identifier, Metric, _REGISTRY, "metric")
    if resolved is not UNRESOLVED:
        return resolved
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
        return _REGISTRY[name]()
    if name in losses._REGISTRY:
        return MeanMetricWrapper(losses.get(name).call, name=name)
    names = sorted({"accuracy", "acc", *(k for k in _REGISTRY if k[0].islower()),
                    *(k for k in losses._REGISTRY if k[0].islower())})
    raise unknown_name("metric", name, names)


__all__ = ["Metric", "MetricVariable", "Mean", "Sum", "MeanMetricWrapper", "Accuracy", "BinaryAccuracy",
           "CategoricalAccuracy", "SparseCategoricalAccuracy", "TopKCategoricalAccuracy",
           "SparseTopKCategoricalAccuracy", "Precision", "Recall", "AUC", "F1Score", "FBetaScore",
           "MeanSquaredError", "MeanAbsoluteError", "MeanAbsolutePercentageError", "MeanSquaredLogarithmicError",
           "RootMeanSquaredError", "R2Score", "CosineSimilarity", "LogCoshError", "Hinge", "SquaredHinge",
           "CategoricalHinge", "KLDivergence", "Poisson", "BinaryCrossentropy", "CategoricalCrossentropy",
           "SparseCategoricalCrossentropy", "accuracy", "binary_accuracy", "categorical_accuracy",
           "sparse_categorical_accuracy", "top_k_categorical_accuracy", "sparse_top_k_categorical_accuracy",
           "get", "register", "resolve_accuracy",
           "TruePositives", "FalsePositives", "TrueNegatives", "FalseNegatives", "SensitivityAtSpecificity",
           "SpecificityAtSensitivity", "PrecisionAtRecall", "RecallAtPrecision", "PearsonCorrelation",
           "ConcordanceCorrelation", "IoU", "MeanIoU", "BinaryIoU", "OneHotIoU", "OneHotMeanIoU",
           "pearson_correlation", "concordance_correlation",
           "mean_squared_error", "mean_absolute_error", "mean_absolute_percentage_error",
           "mean_squared_logarithmic_error", "binary_crossentropy", "categorical_crossentropy",
           "sparse_categorical_crossentropy", "binary_focal_crossentropy", "categorical_focal_crossentropy",
           "hinge", "squared_hinge", "categorical_hinge", "huber", "kl_divergence", "log_cosh", "poisson",
           "serialize", "deserialize"]
