"""Losses with Keras's names, formulas and reductions: the ``Loss`` classes and the lookup.

A loss function (``sparse_categorical_crossentropy(y_true, y_pred)``, in ``functions.py``)
returns one value per sample; a ``Loss`` object reduces them (``loss.py``). Everything is
written in ``lamina.ops``, so a ``GradientTape`` differentiates any loss, a user's function or
``Loss`` subclass included.

>>> import numpy as np
>>> loss = SparseCategoricalCrossentropy()
>>> round(float(loss(np.array([0]), np.array([[0.5, 0.5]]))), 4)
0.6931
"""
from __future__ import annotations

from typing import Callable

import numpy as np  # noqa: F401  (the doctests use it)

from .. import ops
from . import links
from .._resolve import UNRESOLVED, from_registry
from .functions import (binary_crossentropy, binary_focal_crossentropy, categorical_crossentropy,  # noqa: F401
                        categorical_focal_crossentropy, categorical_hinge, check_label_smoothing, check_sparse_labels,
                        cosine_similarity, hinge, huber, kl_divergence, log_cosh, mean_absolute_error,
                        mean_absolute_percentage_error, mean_squared_error, mean_squared_logarithmic_error, poisson,
                        sparse_categorical_crossentropy, squared_hinge)
from .functions import categorical_generalized_cross_entropy, circle, dice, tversky
from .keras3_losses import CategoricalGeneralizedCrossEntropy, Circle, Dice, Tversky
from .loss import REDUCTIONS, Loss, LossFunctionWrapper, reduce_weighted_values  # noqa: F401

__all__ = ["sparse_categorical_crossentropy", "categorical_crossentropy", "binary_crossentropy",
           "binary_focal_crossentropy", "categorical_focal_crossentropy", "mean_squared_error", "mean_absolute_error",
           "mean_absolute_percentage_error", "mean_squared_logarithmic_error", "huber", "log_cosh", "kl_divergence",
           "poisson", "cosine_similarity", "hinge", "squared_hinge", "categorical_hinge", "Loss",
           "LossFunctionWrapper", "SparseCategoricalCrossentropy", "CategoricalCrossentropy", "BinaryCrossentropy",
           "BinaryFocalCrossentropy", "CategoricalFocalCrossentropy", "MeanSquaredError", "MeanAbsoluteError",
           "MeanAbsolutePercentageError", "MeanSquaredLogarithmicError", "Huber", "LogCosh", "KLDivergence", "Poisson",
           "CosineSimilarity", "Hinge", "SquaredHinge", "CategoricalHinge", "mse", "MSE", "mae", "MAE", "mape", "MAPE",
           "msle", "MSLE", "kld", "KLD", "bce", "BCE", "logcosh", "dice", "tversky", "circle",
           "categorical_generalized_cross_entropy", "Dice", "Tversky", "Circle", "CategoricalGeneralizedCrossEntropy"]


def _unless_overridden(loss, link):
    """A link holds only for the loss as lamina computes it: not for a subclass's own ``call``."""
    plain = type(loss).call is LossFunctionWrapper.call and type(loss).__call__ is Loss.__call__
    return link if plain else None


class SparseCategoricalCrossentropy(LossFunctionWrapper):
    """Crossentropy between integer labels and predicted class probabilities (or logits).

    >>> import numpy as np
    >>> loss = SparseCategoricalCrossentropy(ignore_class=-1)
    >>> round(float(loss(np.array([0, -1]), np.array([[0.5, 0.5], [0.9, 0.1]]))), 4)
    0.6931
    """

    def __init__(self, from_logits: bool = False, ignore_class: int | None = None,
                 reduction: str | None = "sum_over_batch_size", name: str | None = "sparse_categorical_crossentropy",
                 dtype: str | None = None):
        super().__init__(sparse_categorical_crossentropy, reduction, name, dtype,
                         from_logits=from_logits, ignore_class=ignore_class)
        self.from_logits, self.ignore_class = from_logits, ignore_class

    def canonical_link(self, activation):
        plain = not self.from_logits and self.ignore_class is None and self.reduction == "sum_over_batch_size"
        return _unless_overridden(self, links.SparseSoftmax() if plain and activation == "softmax" else None)

    def mask(self, y_true, y_pred):
        if self.ignore_class is None:
            return None
        labels = ops.convert_to_numpy(y_true)
        if labels.ndim == len(y_pred.shape) and labels.shape[-1] == 1:
            labels = labels[..., 0]
        return labels != self.ignore_class

    def get_config(self) -> dict:
        return {**Loss.get_config(self), "from_logits": self.from_logits, "ignore_class": self.ignore_class}


class CategoricalCrossentropy(LossFunctionWrapper):
    """Crossentropy between one-hot (or soft) labels and predicted class probabilities."""

    def __init__(self, from_logits: bool = False, label_smoothing: float = 0.0, axis: int = -1,
                 reduction: str | None = "sum_over_batch_size", name: str | None = "categorical_crossentropy",
                 dtype: str | None = None):
        check_label_smoothing("CategoricalCrossentropy", label_smoothing)
        super().__init__(categorical_crossentropy, reduction, name, dtype, from_logits=from_logits,
                         label_smoothing=label_smoothing, axis=axis)
        self.from_logits, self.label_smoothing, self.axis = from_logits, label_smoothing, axis

    def canonical_link(self, activation):
        plain = not self.from_logits and not self.label_smoothing and self.reduction == "sum_over_batch_size"
        softmax = plain and activation == "softmax" and self.axis == -1
        return _unless_overridden(self, links.CategoricalSoftmax() if softmax else None)


class BinaryCrossentropy(LossFunctionWrapper):
    """Crossentropy between 0/1 labels and predicted probabilities (or logits), per output unit."""

    def __init__(self, from_logits: bool = False, label_smoothing: float = 0.0, axis: int = -1,
                 reduction: str | None = "sum_over_batch_size", name: str | None = "binary_crossentropy",
                 dtype: str | None = None):
        check_label_smoothing("BinaryCrossentropy", label_smoothing)
        super().__init__(binary_crossentropy, reduction, name, dtype, from_logits=from_logits,
                         label_smoothing=label_smoothing, axis=axis)
        self.from_logits, self.label_smoothing, self.axis = from_logits, label_smoothing, axis

    def canonical_link(self, activation):
        plain = not self.from_logits and not self.label_smoothing and self.reduction == "sum_over_batch_size"
        sigmoid = plain and activation == "sigmoid" and self.axis == -1
        return _unless_overridden(self, links.BinarySigmoid() if sigmoid else None)


class BinaryFocalCrossentropy(LossFunctionWrapper):
    """Binary crossentropy that down-weights easy examples by ``(1 - p_t) ** gamma``.

    >>> import numpy as np
    >>> loss = BinaryFocalCrossentropy(gamma=2.0, from_logits=True)
    >>> round(float(loss(np.array([0, 1, 0, 0]), np.array([-18.6, 0.51, 2.94, -12.8]))), 3)
    0.691
    """

    def __init__(self, apply_class_balancing: bool = False, alpha: float = 0.25, gamma: float = 2.0,
                 from_logits: bool = False, label_smoothing: float = 0.0, axis: int = -1,
                 reduction: str | None = "sum_over_batch_size", name: str | None = "binary_focal_crossentropy",
                 dtype: str | None = None):
        check_label_smoothing("BinaryFocalCrossentropy", label_smoothing)
        _check_gamma("BinaryFocalCrossentropy", gamma)
        super().__init__(binary_focal_crossentropy, reduction, name, dtype,
                         apply_class_balancing=apply_class_balancing, alpha=alpha, gamma=gamma,
                         from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)
        self.apply_class_balancing, self.alpha, self.gamma = apply_class_balancing, alpha, gamma
        self.from_logits, self.label_smoothing, self.axis = from_logits, label_smoothing, axis


class CategoricalFocalCrossentropy(LossFunctionWrapper):
    """Categorical crossentropy weighted by ``alpha * (1 - p) ** gamma`` per class."""

    def __init__(self, alpha: float = 0.25, gamma: float = 2.0, from_logits: bool = False, label_smoothing: float = 0.0,
                 axis: int = -1, reduction: str | None = "sum_over_batch_size",
                 name: str | None = "categorical_focal_crossentropy", dtype: str | None = None):
        check_label_smoothing("CategoricalFocalCrossentropy", label_smoothing)
        _check_gamma("CategoricalFocalCrossentropy", gamma)
        super().__init__(categorical_focal_crossentropy, reduction, name, dtype, alpha=alpha, gamma=gamma,
                         from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)
        self.alpha, self.gamma = alpha, gamma
        self.from_logits, self.label_smoothing, self.axis = from_logits, label_smoothing, axis


def _check_gamma(owner, gamma):
    if gamma < 0:
        raise ValueError(f"{owner} gamma must be >= 0, got {gamma}")


class MeanSquaredError(LossFunctionWrapper):
    """``mean((y_true - y_pred)**2)`` per sample."""

    def __init__(self, reduction: str | None = "sum_over_batch_size", name: str | None = "mean_squared_error",
                 dtype: str | None = None):
        super().__init__(mean_squared_error, reduction, name, dtype)

    def canonical_link(self, activation):
        plain = self.reduction == "sum_over_batch_size"
        return _unless_overridden(self, links.SquaredLinear() if plain and activation == "linear" else None)


class MeanAbsoluteError(LossFunctionWrapper):
    """``mean(|y_true - y_pred|)`` per sample."""

    def __init__(self, reduction: str | None = "sum_over_batch_size", name: str | None = "mean_absolute_error",
                 dtype: str | None = None):
        super().__init__(mean_absolute_error, reduction, name, dtype)


class MeanAbsolutePercentageError(LossFunctionWrapper):
    """``100 * mean(|(y_true - y_pred) / y_true|)`` per sample."""

    def __init__(self, reduction: str | None = "sum_over_batch_size",
                 name: str | None = "mean_absolute_percentage_error", dtype: str | None = None):
        super().__init__(mean_absolute_percentage_error, reduction, name, dtype)


class MeanSquaredLogarithmicError(LossFunctionWrapper):
    """``mean((log(y_true + 1) - log(y_pred + 1))**2)`` per sample."""

    def __init__(self, reduction: str | None = "sum_over_batch_size",
                 name: str | None = "mean_squared_logarithmic_error", dtype: str | None = None):
        super().__init__(mean_squared_logarithmic_error, reduction, name, dtype)


class Huber(LossFunctionWrapper):
    """Quadratic for errors up to ``delta``, linear beyond."""

    def __init__(self, delta: float = 1.0, reduction: str | None = "sum_over_batch_size",
                 name: str | None = "huber_loss", dtype: str | None = None):
        if not delta > 0:
            raise ValueError(f"Huber delta must be a positive number, got {delta}")
        super().__init__(huber, reduction, name, dtype, delta=delta)
        self.delta = delta


class LogCosh(LossFunctionWrapper):
    """``mean(log(cosh(y_pred - y_true)))`` per sample."""

    def __init__(self, reduction: str | None = "sum_over_batch_size", name: str | None = "log_cosh",
                 dtype: str | None = None):
        super().__init__(log_cosh, reduction, name, dtype)


class KLDivergence(LossFunctionWrapper):
    """Kullback-Leibler divergence ``sum(y_true * log(y_true / y_pred))`` per sample."""

    def __init__(self, reduction: str | None = "sum_over_batch_size", name: str | None = "kl_divergence",
                 dtype: str | None = None):
        super().__init__(kl_divergence, reduction, name, dtype)


class Poisson(LossFunctionWrapper):
    """``mean(y_pred - y_true * log(y_pred))`` per sample."""

    def __init__(self, reduction: str | None = "sum_over_batch_size", name: str | None = "poisson",
                 dtype: str | None = None):
        super().__init__(poisson, reduction, name, dtype)


class CosineSimilarity(LossFunctionWrapper):
    """Negative cosine similarity along ``axis`` (-1 when the vectors point the same way)."""

    def __init__(self, axis: int = -1, reduction: str | None = "sum_over_batch_size",
                 name: str | None = "cosine_similarity", dtype: str | None = None):
        super().__init__(cosine_similarity, reduction, name, dtype, axis=axis)
        self.axis = axis


class Hinge(LossFunctionWrapper):
    """``mean(max(1 - y_true * y_pred, 0))`` per sample; 0/1 labels become -1/1."""

    def __init__(self, reduction: str | None = "sum_over_batch_size", name: str | None = "hinge",
                 dtype: str | None = None):
        super().__init__(hinge, reduction, name, dtype)


class SquaredHinge(LossFunctionWrapper):
    """``mean(max(1 - y_true * y_pred, 0)**2)`` per sample; 0/1 labels become -1/1."""

    def __init__(self, reduction: str | None = "sum_over_batch_size", name: str | None = "squared_hinge",
                 dtype: str | None = None):
        super().__init__(squared_hinge, reduction, name, dtype)


class CategoricalHinge(LossFunctionWrapper):
    """``max(max_other - true_score + 1, 0)`` per sample, for one-hot labels."""

    def __init__(self, reduction: str | None = "sum_over_batch_size", name: str | None = "categorical_hinge",
                 dtype: str | None = None):
        super().__init__(categorical_hinge, reduction, name, dtype)


_FUNCTION_CLASSES = {
    sparse_categorical_crossentropy: SparseCategoricalCrossentropy,
    categorical_crossentropy: CategoricalCrossentropy,
    binary_crossentropy: BinaryCrossentropy,
    binary_focal_crossentropy: BinaryFocalCrossentropy,
    categorical_focal_crossentropy: CategoricalFocalCrossentropy,
    mean_squared_error: MeanSquaredError,
    mean_absolute_error: MeanAbsoluteError,
    mean_absolute_percentage_error: MeanAbsolutePercentageError,
    mean_squared_logarithmic_error: MeanSquaredLogarithmicError,
    huber: Huber,
    log_cosh: LogCosh,
    kl_divergence: KLDivergence,
    poisson: Poisson,
    cosine_similarity: CosineSimilarity,
    hinge: Hinge,
    squared_hinge: SquaredHinge,
    categorical_hinge: CategoricalHinge,
    dice: Dice,
    tversky: Tversky,
    circle: Circle,
    categorical_generalized_cross_entropy: CategoricalGeneralizedCrossEntropy,
}
mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error
mape = MAPE = mean_absolute_percentage_error
msle = MSLE = mean_squared_logarithmic_error
kld = KLD = kl_divergence
bce = BCE = binary_crossentropy
logcosh = log_cosh
_ALIASES = {"mse": mse, "MSE": mse, "mae": mae, "MAE": mae, "mape": mape, "MAPE": mape, "msle": msle,
            "MSLE": msle, "kld": kld, "KLD": kld, "bce": bce, "BCE": bce, "logcosh": log_cosh}
_REGISTRY = ({fn.__name__: cls for fn, cls in _FUNCTION_CLASSES.items()}
             | {cls.__name__: cls for cls in _FUNCTION_CLASSES.values()}
             | {alias: _FUNCTION_CLASSES[fn] for alias, fn in _ALIASES.items()})
# Keras's losses.get knows neither name (its table leaves them out), so compile(loss=...) refuses
# them; a saved config still names the class, and a file still loads it
for _unlisted in ("categorical_generalized_cross_entropy", "CategoricalGeneralizedCrossEntropy"):
    del _REGISTRY[_unlisted]


def register(name: str, cls: type, function: Callable | None = None) -> None:
    """Make a ``Loss`` class resolvable by name (and its per-sample function, if any)."""
    _REGISTRY[name] = _REGISTRY[cls.__name__] = cls
    if function is not None:
        _FUNCTION_CLASSES[function] = cls


def get(identifier) -> Loss:
    """Resolve a name (``"mse"``), a loss function, a class, a config dict or a ``Loss``.

    >>> type(get("sparse_categorical_crossentropy")).__name__
    'SparseCategoricalCrossentropy'
    """
    resolved = from_registry(identifier, Loss, _REGISTRY, "loss")
    if resolved is not UNRESOLVED:
        return resolved
    if callable(identifier):
        if identifier in _FUNCTION_CLASSES:
            return _FUNCTION_CLASSES[identifier]()
        return LossFunctionWrapper(identifier, name=getattr(identifier, "__name__", None))
    raise TypeError(f"loss must be a name, a function or a Loss, got {identifier!r}")
