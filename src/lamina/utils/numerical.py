"""Array helpers from ``keras.utils``: one-hot encoding and normalization."""
from __future__ import annotations

import numpy as np


def to_categorical(x, num_classes: int | None = None) -> np.ndarray:
    """One-hot encode integer class labels; the class axis goes last.

    A trailing axis of length 1 is dropped first (labels shaped ``(n, 1)`` give ``(n, C)``),
    and ``num_classes`` defaults to ``max(x) + 1``. Returns float64, as Keras does for NumPy input.

    >>> to_categorical([0, 2, 1])
    array([[1., 0., 0.],
           [0., 0., 1.],
           [0., 1., 0.]])
    """
    labels = np.asarray(x)
    if labels.size and not np.all(np.equal(np.mod(labels, 1), 0)):
        raise ValueError(f"to_categorical expects integer class labels, got values such as "
                         f"{labels[np.mod(labels, 1) != 0].ravel()[:3].tolist()}")
    labels = labels.astype(np.int64)
    shape = labels.shape
    if len(shape) > 1 and shape[-1] == 1:
        shape = shape[:-1]
    labels = labels.reshape(-1)
    if labels.size and labels.min() < 0:
        raise ValueError(f"to_categorical expects labels >= 0, got {int(labels.min())}")
    if not num_classes:
        num_classes = int(labels.max()) + 1 if labels.size else 0
    elif labels.size and labels.max() >= num_classes:
        raise ValueError(f"to_categorical got label {int(labels.max())}, which does not fit "
                         f"num_classes={num_classes} (labels must be < num_classes)")
    categorical = np.zeros((labels.size, num_classes))
    categorical[np.arange(labels.size), labels] = 1
    return categorical.reshape(shape + (num_classes,))


def normalize(x, axis: int = -1, order: int = 2) -> np.ndarray:
    """Divide ``x`` by its ``order``-norm along ``axis`` (all-zero slices are left as they are).

    >>> normalize(np.array([[3.0, 4.0], [0.0, 0.0]]))
    array([[0.6, 0.8],
           [0. , 0. ]])
    """
    x = np.asarray(x)
    if not -x.ndim <= axis < max(x.ndim, 1):
        raise ValueError(f"normalize got axis={axis} for an array of shape {x.shape}")
    norm = np.atleast_1d(np.linalg.norm(x, order, axis))
    norm[norm == 0] = 1
    return x / np.expand_dims(norm, axis)
