"""Accuracy metrics: exact, binary, categorical, sparse categorical, top-k."""
from __future__ import annotations

import numpy as np

from .. import backend
from .metric import MeanMetricWrapper, _align


# --- accuracy functions (one value per sample) ---------------------------------------------------
def accuracy(y_true, y_pred) -> np.ndarray:
    """``y_pred == y_true``, element by element."""
    y_true, y_pred = _align(y_true, y_pred)
    return (y_true == y_pred).astype(backend.floatx())


def sparse_categorical_accuracy(y_true, y_pred) -> np.ndarray:
    """``argmax(y_pred) == y_true`` (a trailing 1 in ``y_true`` is squeezed)."""
    y_pred = np.asarray(y_pred)
    y_true = np.asarray(y_true)
    if y_true.ndim == y_pred.ndim and y_true.shape[-1] == 1:
        y_true = y_true[..., 0]
    return (y_pred.argmax(axis=-1) == y_true).astype(backend.floatx())


def categorical_accuracy(y_true, y_pred) -> np.ndarray:
    """``argmax(y_pred) == argmax(y_true)``."""
    return (np.asarray(y_pred).argmax(axis=-1) == np.asarray(y_true).argmax(axis=-1)).astype(backend.floatx())


def binary_accuracy(y_true, y_pred, threshold=0.5) -> np.ndarray:
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


def top_k_categorical_accuracy(y_true, y_pred, k=5) -> np.ndarray:
    """Whether the one-hot label's class is among the ``k`` highest predictions."""
    return _in_top_k(np.asarray(y_true).argmax(axis=-1), y_pred, k)


def sparse_top_k_categorical_accuracy(y_true, y_pred, k=5) -> np.ndarray:
    """Whether the integer label is among the ``k`` highest predictions."""
    y_pred = np.asarray(y_pred)
    y_true = np.asarray(y_true)
    if y_true.ndim == y_pred.ndim and y_true.shape[-1] == 1:
        y_true = y_true[..., 0]
    return _in_top_k(y_true, y_pred, k)



# --- accuracy metrics ----------------------------------------------------------------------------
class Accuracy(MeanMetricWrapper):
    """How often ``y_pred`` equals ``y_true`` exactly."""

    def __init__(self, name: str | None = "accuracy", dtype: str | None = None):
        super().__init__(accuracy, name, dtype)


class SparseCategoricalAccuracy(MeanMetricWrapper):
    """How often the highest prediction is the integer label."""

    def __init__(self, name: str | None = "sparse_categorical_accuracy", dtype: str | None = None):
        super().__init__(sparse_categorical_accuracy, name, dtype)

    def fused_update(self, p: np.ndarray, y_batch: np.ndarray, link: str) -> bool:
        """The fused plan's shortcut: count correct rows of the probabilities it already has."""
        if link != "sparse":
            return False
        self.add(float(np.count_nonzero(p.argmax(axis=1) == y_batch)), len(p))
        return True


class CategoricalAccuracy(MeanMetricWrapper):
    """How often the highest prediction is the one-hot label's class."""

    def __init__(self, name: str | None = "categorical_accuracy", dtype: str | None = None):
        super().__init__(categorical_accuracy, name, dtype)

    def fused_update(self, p: np.ndarray, y_batch: np.ndarray, link: str) -> bool:
        """The fused plan's shortcut: count correct rows of the probabilities it already has."""
        if link != "categorical":
            return False
        self.add(float(np.count_nonzero(p.argmax(axis=1) == y_batch.argmax(axis=1))), len(p))
        return True


class BinaryAccuracy(MeanMetricWrapper):
    """How often ``y_pred > threshold`` matches the 0/1 label."""

    def __init__(self, name: str | None = "binary_accuracy", dtype: str | None = None, threshold: float = 0.5):
        super().__init__(binary_accuracy, name, dtype, threshold=threshold)


class TopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the one-hot label is among the ``k`` highest predictions."""

    def __init__(self, k: int = 5, name: str | None = "top_k_categorical_accuracy", dtype: str | None = None):
        super().__init__(top_k_categorical_accuracy, name, dtype, k=k)


class SparseTopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the integer label is among the ``k`` highest predictions."""

    def __init__(self, k: int = 5, name: str | None = "sparse_top_k_categorical_accuracy", dtype: str | None = None):
        super().__init__(sparse_top_k_categorical_accuracy, name, dtype, k=k)
