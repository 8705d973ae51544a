"""Metrics from confusion counts: Precision, Recall, AUC, F-scores."""
from __future__ import annotations

import numbers
from typing import TypeAlias

import numpy as np
import numpy.typing as npt

from .. import backend
from . import _confusion
from .metric import Metric

# one threshold, or several; None for the metric's default
Thresholds: TypeAlias = float | list[float] | tuple[float, ...] | np.ndarray | None


# --- metrics from confusion counts ---------------------------------------------------------------
def _divide_no_nan(a, b):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return np.divide(a, b, out=np.zeros(np.broadcast(a, b).shape), where=b != 0)


_COUNT_NAMES = {"tp": "true_positives", "fp": "false_positives", "fn": "false_negatives"}


class _ThresholdMetric(Metric):
    """Precision and Recall: counts at one or more thresholds (``top_k``, ``class_id`` as Keras).
    Each keeps only the two counts its ratio needs (``counts``), as Keras does, so its
    ``variables`` (and what a file stores for it) are Keras's."""

    counts: tuple = ()

    def __init__(self, thresholds: Thresholds = None, top_k: int | None = None, class_id: int | None = None,
                 name: str | None = None, dtype: str | np.dtype | None = None):
        super().__init__(name, dtype)
        self.init_thresholds, self.top_k, self.class_id = thresholds, top_k, class_id
        default = _confusion.NEG_INF if top_k is not None else 0.5
        self.thresholds = _confusion.parse_thresholds(type(self).__name__, thresholds, default)
        self._evenly = _confusion.is_evenly_distributed(self.thresholds)
        for count in self.counts:
            setattr(self, _COUNT_NAMES[count], self.add_variable((len(self.thresholds),), name=_COUNT_NAMES[count]))

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        y_true, y_pred, weights = _confusion.prepare(y_true, y_pred, sample_weight, self.top_k, self.class_id)
        counts = _confusion.confusion_counts(y_true, y_pred, self.thresholds, weights, evenly=self._evenly)
        for count in self.counts:
            getattr(self, _COUNT_NAMES[count]).assign_add(counts[count])

    def _single(self, values):
        values = values.astype(self.dtype)
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

    counts = ("tp", "fp")

    def result(self):
        tp = self.true_positives._value
        return self._single(_divide_no_nan(tp, tp + self.false_positives._value))


class Recall(_ThresholdMetric):
    """``tp / (tp + fn)``: of the truly positive, the share predicted above the threshold.

    >>> import numpy as np
    >>> m = Recall()
    >>> m.update_state(np.array([0, 1, 1, 1]), np.array([1, 0, 1, 1]))
    >>> round(float(m.result()), 4)
    0.6667
    """

    counts = ("tp", "fn")

    def result(self):
        tp = self.true_positives._value
        return self._single(_divide_no_nan(tp, tp + self.false_negatives._value))


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

    def __init__(self, num_thresholds: int = 200, curve: str = "ROC", summation_method: str = "interpolation",
                 name: str | None = None, dtype: str | np.dtype | None = None, thresholds: Thresholds = None,
                 multi_label: bool = False, num_labels: int | None = None, label_weights: npt.ArrayLike | None = None,
                 from_logits: bool = False):
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
            return self._as_result(0.0)
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
            return self._as_result(terms.sum())
        by_label = terms.sum(axis=0)
        if self.label_weights is None:
            return self._as_result(by_label.mean())
        return self._as_result(_divide_no_nan((by_label * self.label_weights).sum(), self.label_weights.sum()))

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
    # declared here: mypy knows no float that is a numbers.Real, so it reads what follows the
    # checks in __init__ as unreachable and infers nothing from the assignment there
    average: str | None
    beta: float
    threshold: float | None

    def __init__(self, average: str | None = None, beta: float = 1.0, threshold: float | None = None,
                 name: str | None = "fbeta_score", dtype: str | np.dtype | None = None):
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
            return self._as_result(0.0)
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
        return self._as_result(score)

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

    def __init__(self, average: str | None = None, threshold: float | None = None, name: str | None = "f1_score",
                 dtype: str | np.dtype | None = None):
        super().__init__(average=average, beta=1.0, threshold=threshold, name=name, dtype=dtype)

    def get_config(self) -> dict:
        config = super().get_config()
        del config["beta"]
        return config
