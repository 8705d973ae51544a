"""Intersection-over-union metrics (``IoU``, ``MeanIoU``, ``BinaryIoU``, ``OneHotIoU``,
``OneHotMeanIoU``), as Keras 3 defines them: a ``num_classes x num_classes`` confusion matrix
(rows the true class, columns the predicted one) summed over the updates in one variable,
``total_confusion_matrix``; a class's IoU is ``tp / (tp + fp + fn)`` read off it, and ``result``
averages it over the target classes that occurred (true or predicted).

As in Keras, the matrix is kept in the metric's ``dtype``, ``"int32"`` by default: labels,
predictions and sample weights are converted to it first, so a float weight of 0.7 counts as 0
(with Keras's warning) unless the metric is made with ``dtype="float32"``. Labels or predictions
outside ``[0, num_classes)``, and labels equal to ``ignore_class``, are left out.

>>> import numpy as np
>>> m = MeanIoU(num_classes=2)
>>> m.update_state(np.array([0, 0, 1, 1]), np.array([0, 1, 0, 1]))
>>> round(float(m.result()), 4)
0.3333
"""
from __future__ import annotations

import numbers
import warnings
from collections.abc import Sequence

import numpy as np

from .. import backend
from .metric import Metric


def _check_integer(owner: str, argument: str, value, low: int | None = None) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{owner} {argument} must be an integer, got {value!r} ({type(value).__name__})")
    if low is not None and value < low:
        raise ValueError(f"{owner} {argument} must be an integer >= {low}, got {value}")


def _check_flag(owner: str, argument: str, value) -> None:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{owner} {argument} must be True or False, got {value!r}")


def _class_ids(owner: str, target_class_ids, num_classes: int) -> list[int]:
    """The target class ids as a list of ints, each in ``[0, num_classes)``."""
    if isinstance(target_class_ids, (str, bytes)) or not isinstance(target_class_ids, (Sequence, np.ndarray)):
        raise TypeError(f"{owner} target_class_ids must be a list or tuple of class ids, got {target_class_ids!r}")
    ids = list(target_class_ids)
    if not ids:
        raise ValueError(f"{owner} target_class_ids must name at least one class, got {target_class_ids!r}")
    for class_id in ids:
        _check_integer(owner, "target_class_ids entry", class_id)
        if not 0 <= class_id < num_classes:
            raise ValueError(f"{owner} target class id {class_id} is out of range, which is [0, {num_classes})")
    return [int(class_id) for class_id in ids]


class _IoUBase(Metric):
    """The confusion matrix and its update; subclasses say which classes ``result`` averages."""

    def __init__(self, num_classes: int, name: str | None = None, dtype: str | None = None,
                 ignore_class: int | None = None, sparse_y_true: bool = True, sparse_y_pred: bool = True,
                 axis: int = -1):
        owner = type(self).__name__
        _check_integer(owner, "num_classes", num_classes, low=1)
        if ignore_class is not None:
            _check_integer(owner, "ignore_class", ignore_class)
        _check_flag(owner, "sparse_y_true", sparse_y_true)
        _check_flag(owner, "sparse_y_pred", sparse_y_pred)
        _check_integer(owner, "axis", axis)
        # int by default, as Keras: the matrix counts samples unless the weights are meant as floats
        super().__init__(name, backend.standardize_dtype(dtype) if dtype is not None else "int32")
        self.num_classes, self.ignore_class, self.axis = int(num_classes), ignore_class, axis
        self.sparse_y_true, self.sparse_y_pred = bool(sparse_y_true), bool(sparse_y_pred)
        self.total_cm = self.add_variable((self.num_classes, self.num_classes), name="total_confusion_matrix")

    def _in_dtype(self, values) -> np.ndarray:
        """``values`` converted to the metric's dtype (a float becomes an int by truncation, as
        Keras converts it), flattened."""
        return np.asarray(values).astype(self.dtype).reshape(-1)

    def _weights(self, sample_weight, n: int) -> np.ndarray:
        if sample_weight is None:
            return np.ones(n, self.dtype)
        if getattr(sample_weight, "dtype", None) is not None and np.dtype(sample_weight.dtype).kind == "f" \
                and np.dtype(self.dtype).kind in "iu":
            warnings.warn(f"{type(self).__name__}: float sample weights are truncated to the metric's dtype "
                          f"{self.dtype}; make the metric with dtype='float32' to weigh samples by fractions",
                          stacklevel=3)
        weights = self._in_dtype(sample_weight)
        if weights.size not in (1, n):
            raise ValueError(f"{type(self).__name__} sample_weight must have one weight per label ({n}) or be a "
                             f"scalar, got {weights.size} weights")
        return np.broadcast_to(weights, (n,))

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        if not self.sparse_y_true:
            y_true = np.argmax(np.asarray(y_true), axis=self.axis)
        if not self.sparse_y_pred:
            y_pred = np.argmax(np.asarray(y_pred), axis=self.axis)
        labels, predicted = self._in_dtype(y_true), self._in_dtype(y_pred)
        if labels.size != predicted.size:
            raise ValueError(f"{type(self).__name__} needs one prediction per label, got {labels.size} labels "
                             f"and {predicted.size} predictions")
        weights = self._weights(sample_weight, labels.size)
        n = self.num_classes
        counted = (labels >= 0) & (labels < n) & (predicted >= 0) & (predicted < n)
        if self.ignore_class is not None:
            counted &= labels != np.asarray(self.ignore_class).astype(self.dtype)
        cells = labels[counted].astype(np.int64) * n + predicted[counted].astype(np.int64)
        matrix = np.bincount(cells, weights=weights[counted].astype(np.float64), minlength=n * n)
        self.total_cm.assign_add(matrix.reshape(n, n).astype(self.dtype))

    def _mean_iou(self, class_ids: list[int]):
        """The IoU of each of ``class_ids`` averaged over those that occurred; float32, as Keras's."""
        matrix = np.asarray(self.total_cm._value)
        hits = np.diag(matrix)
        union = (matrix.sum(axis=0) + matrix.sum(axis=1) - hits)[class_ids].astype(np.float32)
        hits = hits[class_ids].astype(np.float32)
        epsilon = np.float32(backend.epsilon())
        occurred = union > 1e-9
        iou = np.where(occurred, hits / (union + epsilon), np.float32(0.0))
        # the sum over every target class: Keras sums along ``axis``, which fails unless it is -1 or 0
        return np.float32(iou.sum(dtype=np.float32) / (np.float32(occurred.sum()) + epsilon))

    def _base_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype, "num_classes": self.num_classes,
                "ignore_class": self.ignore_class, "sparse_y_pred": self.sparse_y_pred, "axis": self.axis}


class IoU(_IoUBase):
    """The IoU ``tp / (tp + fp + fn)`` of each class in ``target_class_ids``, averaged over those
    that occurred. Labels and predictions are class ids (``sparse_y_true`` / ``sparse_y_pred``
    False: one-hot or scores along ``axis``, reduced by argmax).

    >>> import numpy as np
    >>> m = IoU(num_classes=2, target_class_ids=[0])
    >>> m.update_state(np.array([0, 0, 1, 1]), np.array([0, 1, 0, 1]))
    >>> round(float(m.result()), 4)
    0.3333
    """

    def __init__(self, num_classes: int, target_class_ids: Sequence[int], name: str | None = None,
                 dtype: str | None = None, ignore_class: int | None = None, sparse_y_true: bool = True,
                 sparse_y_pred: bool = True, axis: int = -1):
        super().__init__(num_classes, name, dtype, ignore_class, sparse_y_true, sparse_y_pred, axis)
        self.target_class_ids = _class_ids(type(self).__name__, target_class_ids, self.num_classes)

    def result(self):
        return self._mean_iou(self.target_class_ids)

    def get_config(self) -> dict:
        return {**self._base_config(), "target_class_ids": self.target_class_ids, "sparse_y_true": self.sparse_y_true}


class MeanIoU(IoU):
    """The IoU averaged over every class that occurred (``IoU`` with all classes as targets).

    >>> import numpy as np
    >>> m = MeanIoU(num_classes=2, dtype="float32")
    >>> m.update_state(np.array([0, 0, 1, 1]), np.array([0, 1, 0, 1]), sample_weight=np.array([0.3, 0.3, 0.3, 0.1]))
    >>> round(float(m.result()), 4)
    0.2381
    """

    def __init__(self, num_classes: int, name: str | None = None, dtype: str | None = None,
                 ignore_class: int | None = None, sparse_y_true: bool = True, sparse_y_pred: bool = True,
                 axis: int = -1):
        _check_integer(type(self).__name__, "num_classes", num_classes, low=1)
        super().__init__(num_classes, list(range(num_classes)), name, dtype, ignore_class, sparse_y_true,
                         sparse_y_pred, axis)

    def get_config(self) -> dict:
        return {**self._base_config(), "sparse_y_true": self.sparse_y_true}


class BinaryIoU(IoU):
    """The IoU of two classes, a prediction counting as class 1 when it is at least ``threshold``
    (class 0 below it); averaged over ``target_class_ids`` (``[0]``, ``[1]`` or both).

    >>> import numpy as np
    >>> m = BinaryIoU(target_class_ids=[0, 1], threshold=0.3)
    >>> m.update_state(np.array([0, 1, 0, 1]), np.array([0.1, 0.2, 0.4, 0.7]))
    >>> round(float(m.result()), 4)
    0.3333
    """

    def __init__(self, target_class_ids: Sequence[int] = (0, 1), threshold: float = 0.5, name: str | None = None,
                 dtype: str | None = None):
        if isinstance(threshold, bool) or not isinstance(threshold, numbers.Real):
            raise TypeError(f"BinaryIoU threshold must be a number, got {threshold!r}")
        super().__init__(2, target_class_ids, name, dtype)
        self.threshold: float = threshold

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        # compared in float32, as Keras compares them (a float64 0.3 against threshold 0.3 included)
        predicted = (np.asarray(y_pred, np.float32) >= self.threshold).astype(self.dtype)
        super().update_state(self._in_dtype(y_true), predicted, sample_weight)

    def get_config(self) -> dict:
        return {"target_class_ids": self.target_class_ids, "threshold": self.threshold, "name": self.name,
                "dtype": self.dtype}


class OneHotIoU(IoU):
    """``IoU`` for one-hot labels (and, unless ``sparse_y_pred``, scores per class), each reduced
    to its class by argmax along ``axis``.

    >>> import numpy as np
    >>> m = OneHotIoU(num_classes=3, target_class_ids=[0, 2], dtype="float32")
    >>> y_true = np.array([[0, 0, 1], [1, 0, 0], [0, 1, 0], [1, 0, 0]])
    >>> y_pred = np.array([[0.2, 0.3, 0.5], [0.1, 0.2, 0.7], [0.5, 0.3, 0.1], [0.1, 0.4, 0.5]])
    >>> m.update_state(y_true, y_pred, sample_weight=np.array([0.1, 0.2, 0.3, 0.4]))
    >>> round(float(m.result()), 4)
    0.0714
    """

    def __init__(self, num_classes: int, target_class_ids: Sequence[int], name: str | None = None,
                 dtype: str | None = None, ignore_class: int | None = None, sparse_y_pred: bool = False,
                 axis: int = -1):
        super().__init__(num_classes, target_class_ids, name, dtype, ignore_class, False, sparse_y_pred, axis)

    def get_config(self) -> dict:
        return {**self._base_config(), "target_class_ids": self.target_class_ids}


class OneHotMeanIoU(MeanIoU):
    """``MeanIoU`` for one-hot labels (and, unless ``sparse_y_pred``, scores per class).

    >>> import numpy as np
    >>> m = OneHotMeanIoU(num_classes=3, dtype="float32")
    >>> y_true = np.array([[0, 0, 1], [1, 0, 0], [0, 1, 0], [1, 0, 0]])
    >>> y_pred = np.array([[0.2, 0.3, 0.5], [0.1, 0.2, 0.7], [0.5, 0.3, 0.1], [0.1, 0.4, 0.5]])
    >>> m.update_state(y_true, y_pred, sample_weight=np.array([0.1, 0.2, 0.3, 0.4]))
    >>> round(float(m.result()), 4)
    0.0476
    """

    def __init__(self, num_classes: int, name: str | None = None, dtype: str | None = None,
                 ignore_class: int | None = None, sparse_y_pred: bool = False, axis: int = -1):
        super().__init__(num_classes, name, dtype, ignore_class, False, sparse_y_pred, axis)

    def get_config(self) -> dict:
        return self._base_config()
