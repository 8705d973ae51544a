"""Confusion counts at thresholds, shared by Precision, Recall and AUC (Keras's ``metrics_utils``).

A prediction counts as positive at threshold ``t`` when it is strictly greater than ``t``.

>>> import numpy as np
>>> counts = confusion_counts(np.array([0, 1, 1]), np.array([0.2, 0.7, 0.4]), np.array([0.5]))
>>> {k: v.tolist() for k, v in counts.items()}
{'tp': [1.0], 'fp': [0.0], 'tn': [1.0], 'fn': [1.0]}
"""
from __future__ import annotations

import numpy as np

from .. import backend

NEG_INF = -1e10  # what top_k filtering puts in place of the predictions it drops, as Keras does


def parse_thresholds(owner: str, thresholds, default: float) -> list[float]:
    """A list of thresholds, each in [0, 1] (``None``: ``[default]``)."""
    if thresholds is None:
        return [default]
    values = list(thresholds) if isinstance(thresholds, (list, tuple, np.ndarray)) else [thresholds]
    bad = [t for t in values if t is None or not 0 <= t <= 1]
    if bad:
        raise ValueError(f"{owner} thresholds must be in [0, 1], got {bad}")
    return [float(t) for t in values]


def auc_thresholds(num_thresholds: int) -> np.ndarray:
    """Keras's AUC grid: ``num_thresholds - 2`` evenly spaced points inside (0, 1), plus one just
    below 0 and one just above 1 so that every prediction in [0, 1] falls inside."""
    inner = [(i + 1) / (num_thresholds - 1) for i in range(num_thresholds - 2)]
    return np.array([0.0 - backend.epsilon()] + inner + [1.0 + backend.epsilon()])


def is_evenly_distributed(thresholds) -> bool:
    n = len(thresholds)
    return n >= 3 and np.allclose(thresholds, np.arange(n) / (n - 1), atol=backend.epsilon())


def filter_top_k(y_pred: np.ndarray, k: int) -> np.ndarray:
    """Keep the ``k`` largest predictions of each row, the others become ``NEG_INF``."""
    order = np.argsort(-y_pred, axis=-1, kind="stable")[..., :k]
    keep = np.zeros(y_pred.shape, bool)
    np.put_along_axis(keep, order, True, axis=-1)
    return np.where(keep, y_pred, NEG_INF)


def prepare(y_true, y_pred, sample_weight=None, top_k=None, class_id=None):
    """Labels, predictions and weights of one shape (after ``top_k`` and ``class_id``)."""
    y_pred = np.asarray(y_pred, np.float64)
    y_true = np.asarray(y_true, np.float64)
    if y_true.shape != y_pred.shape and y_true.size == y_pred.size:
        y_true = y_true.reshape(y_pred.shape)
    if top_k is not None:
        y_pred = filter_top_k(y_pred, top_k)
    weights = None
    if sample_weight is not None:
        weights = np.asarray(sample_weight, np.float64)
        if weights.ndim == y_pred.ndim and weights.shape[-1] == 1:
            weights = weights[..., 0]
        weights = weights.reshape(weights.shape + (1,) * (y_pred.ndim - weights.ndim))
        weights = np.broadcast_to(weights, y_pred.shape)
    if class_id is not None:
        if y_pred.ndim < 2:
            raise ValueError(f"class_id needs predictions of shape (samples, classes), got {y_pred.shape}")
        y_true, y_pred = y_true[..., class_id], y_pred[..., class_id]
        weights = None if weights is None else weights[..., class_id]
    return y_true, y_pred, weights


def confusion_counts(y_true, y_pred, thresholds, weights=None, multi_label=False, evenly=False) -> dict:
    """Weighted ``tp, fp, tn, fn`` at each threshold: shape ``(T,)``, or ``(T, labels)`` with
    ``multi_label``. ``evenly`` (thresholds on Keras's even grid) counts by bucketing each
    prediction once, as Keras does, instead of comparing it with every threshold."""
    thresholds = np.asarray(thresholds, np.float64)
    positive = (np.asarray(y_true) != 0).astype(np.float64)
    w = np.ones_like(y_pred) if weights is None else weights
    if multi_label:
        y_pred, positive, w = (a.reshape(-1, a.shape[-1]) for a in (y_pred, positive, w))
    else:
        y_pred, positive, w = (a.reshape(-1, 1) for a in (y_pred, positive, w))
    true_w, false_w = positive * w, (1 - positive) * w
    if evenly:
        tp, fp = _bucketed(np.clip(y_pred, 0.0, 1.0), true_w, false_w, thresholds)
    else:
        above = y_pred[None] > thresholds[:, None, None]  # (T, N, labels)
        tp, fp = (above * true_w).sum(axis=1), (above * false_w).sum(axis=1)
    counts = {"tp": tp, "fp": fp, "tn": false_w.sum(axis=0) - fp, "fn": true_w.sum(axis=0) - tp}
    return counts if multi_label else {k: v[:, 0] for k, v in counts.items()}


def _bucketed(y_pred, true_w, false_w, thresholds):
    """Bucket ``b`` holds predictions in ``(t[b], t[b+1]]``; a reversed cumulative sum over the
    buckets then counts, for each threshold, the predictions above it."""
    n = len(thresholds)
    bucket = np.ceil(y_pred * (n - 1)) - 1
    if thresholds[0] < 0:  # the grid starts just below 0: a prediction of 0 is above it
        bucket = np.maximum(bucket, 0)
    bucket = bucket.astype(np.intp)
    labels = y_pred.shape[1]
    valid = bucket >= 0
    flat = (bucket * labels + np.arange(labels))[valid]

    def count(values):
        per_bucket = np.bincount(flat, values[valid], minlength=n * labels).reshape(n, labels)
        return np.cumsum(per_bucket[::-1], axis=0)[::-1]

    return count(true_w), count(false_w)
