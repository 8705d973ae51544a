"""Metrics read off the confusion counts at thresholds: the counts themselves (``TruePositives``,
``FalsePositives``, ``TrueNegatives``, ``FalseNegatives``) and the best value of one rate where
another reaches a target (``SensitivityAtSpecificity``, ``SpecificityAtSensitivity``,
``PrecisionAtRecall``, ``RecallAtPrecision``), as Keras 3 defines them.

The counting is ``_confusion``'s, shared with Precision, Recall and AUC: a prediction is
positive at threshold ``t`` when it is strictly greater than ``t``.

>>> import numpy as np
>>> m = TruePositives(thresholds=[0.3, 0.6])
>>> m.update_state(np.array([0, 1, 1, 1]), np.array([0.9, 0.5, 0.7, 0.2]))
>>> m.result().tolist()
[2.0, 1.0]
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from . import _confusion
from .confusion_metrics import _divide_no_nan
from .metric import Metric

Thresholds = float | Sequence[float] | None


# --- the four counts -----------------------------------------------------------------------------
class _ConditionCount(Metric):
    """One confusion count (``condition``: ``"tp"``, ``"fp"``, ``"tn"`` or ``"fn"``) at each
    threshold, summed over the updates in one variable named ``accumulator`` as in Keras, so a
    file's stored state and ``variables`` match Keras's."""

    condition = ""

    def __init__(self, thresholds: Thresholds = None, name: str | None = None, dtype: str | None = None):
        super().__init__(name, dtype)
        self.init_thresholds = thresholds
        self.thresholds = _confusion.parse_thresholds(type(self).__name__, thresholds, 0.5)
        self._evenly = _confusion.is_evenly_distributed(self.thresholds)
        self.accumulator = self.add_variable((len(self.thresholds),), name="accumulator")

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        y_true, y_pred, weights = _confusion.prepare(y_true, y_pred, sample_weight)
        counts = _confusion.confusion_counts(y_true, y_pred, self.thresholds, weights, evenly=self._evenly)
        self.accumulator.assign_add(counts[self.condition])

    def result(self):
        values = np.array(self.accumulator._value, self.dtype)  # a copy: the next update adds in place
        return values[0] if len(self.thresholds) == 1 else values

    def get_config(self) -> dict:
        return {**super().get_config(), "thresholds": self.init_thresholds}


class TruePositives(_ConditionCount):
    """The (weighted) number of positives predicted above the threshold, one count per threshold.

    >>> import numpy as np
    >>> m = TruePositives()
    >>> m.update_state(np.array([0, 1, 1, 1]), np.array([1, 0, 1, 1]))
    >>> float(m.result())
    2.0
    """

    condition = "tp"


class FalsePositives(_ConditionCount):
    """The (weighted) number of negatives predicted above the threshold, one count per threshold.

    >>> import numpy as np
    >>> m = FalsePositives()
    >>> m.update_state(np.array([0, 1, 0, 0]), np.array([0, 0, 1, 1]), sample_weight=np.array([0, 0, 1, 0]))
    >>> float(m.result())
    1.0
    """

    condition = "fp"


class TrueNegatives(_ConditionCount):
    """The (weighted) number of negatives predicted at or below the threshold, one count per threshold.

    >>> import numpy as np
    >>> m = TrueNegatives()
    >>> m.update_state(np.array([0, 1, 0, 0]), np.array([1, 1, 0, 0]))
    >>> float(m.result())
    2.0
    """

    condition = "tn"


class FalseNegatives(_ConditionCount):
    """The (weighted) number of positives predicted at or below the threshold, one count per threshold.

    >>> import numpy as np
    >>> m = FalseNegatives()
    >>> m.update_state(np.array([0, 1, 1, 1]), np.array([0, 1, 0, 0]))
    >>> float(m.result())
    2.0
    """

    condition = "fn"


# --- one rate where another reaches a target -----------------------------------------------------
_COUNTS = (("tp", "true_positives"), ("fp", "false_positives"), ("tn", "true_negatives"),
           ("fn", "false_negatives"))


class _RateAtRate(Metric):
    """The four counts on Keras's grid of ``num_thresholds`` thresholds (0 and 1 included; just
    0.5 when ``num_thresholds == 1``); ``result`` is the largest ``dependent`` rate over the
    thresholds whose ``constrained`` rate is at least the target (0 when none is).

    ``target_name`` is the constructor argument holding the target (``"specificity"``...):
    Keras stores it under that name in the config, next to ``num_thresholds``."""

    target_name = ""

    def __init__(self, target: float, num_thresholds: int, class_id: int | None, name: str | None,
                 dtype: str | None):
        super().__init__(name, dtype)
        if not 0 <= target <= 1:
            raise ValueError(f"Argument `{self.target_name}` must be in the range [0, 1]. "
                             f"Received: {self.target_name}={target}")
        if num_thresholds <= 0:
            raise ValueError(f"Argument `num_thresholds` must be an integer > 0. "
                             f"Received: num_thresholds={num_thresholds}")
        self.value, self.num_thresholds, self.class_id = target, num_thresholds, class_id
        setattr(self, self.target_name, target)
        if num_thresholds == 1:
            self.thresholds, self._evenly = [0.5], False
        else:  # evenly spaced from 0 to 1: counted by bucketing, as Keras counts them
            inner = [(i + 1) / (num_thresholds - 1) for i in range(num_thresholds - 2)]
            self.thresholds, self._evenly = [0.0] + inner + [1.0], True
        for _, attribute in _COUNTS:
            setattr(self, attribute, self.add_variable((len(self.thresholds),), name=attribute))

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        y_true, y_pred, weights = _confusion.prepare(y_true, y_pred, sample_weight, class_id=self.class_id)
        counts = _confusion.confusion_counts(y_true, y_pred, self.thresholds, weights, evenly=self._evenly)
        for key, attribute in _COUNTS:
            getattr(self, attribute).assign_add(counts[key])

    def _rates(self) -> dict:
        tp, fp, tn, fn = (np.asarray(getattr(self, attribute)._value, np.float64) for _, attribute in _COUNTS)
        recall = _divide_no_nan(tp, tp + fn)
        return {"sensitivity": recall, "recall": recall, "specificity": _divide_no_nan(tn, tn + fp),
                "precision": _divide_no_nan(tp, tp + fp)}

    def _best(self, dependent: str, constrained: str):
        rates = self._rates()
        feasible = rates[constrained] >= self.value
        return self._as_result(np.max(np.where(feasible, rates[dependent], 0.0), initial=0.0))

    def get_config(self) -> dict:
        return {**super().get_config(), "class_id": self.class_id, "num_thresholds": self.num_thresholds,
                self.target_name: getattr(self, self.target_name)}


class SensitivityAtSpecificity(_RateAtRate):
    """The best sensitivity (recall, ``tp / (tp + fn)``) over the thresholds where specificity
    (``tn / (tn + fp)``) is at least ``specificity``.

    >>> import numpy as np
    >>> m = SensitivityAtSpecificity(0.5)
    >>> m.update_state(np.array([0, 0, 0, 1, 1]), np.array([0, 0.3, 0.8, 0.3, 0.8]))
    >>> float(m.result())
    0.5
    """

    target_name = "specificity"

    def __init__(self, specificity: float, num_thresholds: int = 200, class_id: int | None = None,
                 name: str | None = None, dtype: str | None = None):
        super().__init__(specificity, num_thresholds, class_id, name, dtype)

    def result(self):
        return self._best("sensitivity", "specificity")


class SpecificityAtSensitivity(_RateAtRate):
    """The best specificity (``tn / (tn + fp)``) over the thresholds where sensitivity
    (``tp / (tp + fn)``) is at least ``sensitivity``.

    >>> import numpy as np
    >>> m = SpecificityAtSensitivity(0.5)
    >>> m.update_state(np.array([0, 0, 0, 1, 1]), np.array([0, 0.3, 0.8, 0.3, 0.8]))
    >>> round(float(m.result()), 4)
    0.6667
    """

    target_name = "sensitivity"

    def __init__(self, sensitivity: float, num_thresholds: int = 200, class_id: int | None = None,
                 name: str | None = None, dtype: str | None = None):
        super().__init__(sensitivity, num_thresholds, class_id, name, dtype)

    def result(self):
        return self._best("specificity", "sensitivity")


class PrecisionAtRecall(_RateAtRate):
    """The best precision (``tp / (tp + fp)``) over the thresholds where recall
    (``tp / (tp + fn)``) is at least ``recall``.

    >>> import numpy as np
    >>> m = PrecisionAtRecall(0.5)
    >>> m.update_state(np.array([0, 0, 0, 1, 1]), np.array([0, 0.3, 0.8, 0.3, 0.8]))
    >>> float(m.result())
    0.5
    """

    target_name = "recall"

    def __init__(self, recall: float, num_thresholds: int = 200, class_id: int | None = None,
                 name: str | None = None, dtype: str | None = None):
        super().__init__(recall, num_thresholds, class_id, name, dtype)

    def result(self):
        return self._best("precision", "recall")


class RecallAtPrecision(_RateAtRate):
    """The best recall (``tp / (tp + fn)``) over the thresholds where precision
    (``tp / (tp + fp)``) is at least ``precision``; 0 when no threshold reaches it.

    >>> import numpy as np
    >>> m = RecallAtPrecision(0.8)
    >>> m.update_state(np.array([0, 0, 1, 1]), np.array([0, 0.5, 0.3, 0.9]))
    >>> float(m.result())
    0.5
    """

    target_name = "precision"

    def __init__(self, precision: float, num_thresholds: int = 200, class_id: int | None = None,
                 name: str | None = None, dtype: str | None = None):
        super().__init__(precision, num_thresholds, class_id, name, dtype)

    def result(self):
        return self._best("recall", "precision")
