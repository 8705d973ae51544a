"""The losses Keras 3 added for segmentation masks (``Dice``, ``Tversky``), embeddings (``Circle``)
and noisy labels (``CategoricalGeneralizedCrossEntropy``), with Keras's arguments and configs.

Their per-sample functions are in ``functions.py``, written in ``lamina.ops``, so the tape
differentiates them as it does every other loss.

>>> import numpy as np
>>> round(float(Dice()(np.array([[1.0, 0.0]]), np.array([[0.5, 0.5]]))), 4)
0.5
"""
from __future__ import annotations

import numbers
from collections.abc import Sequence

from .functions import categorical_generalized_cross_entropy, circle, dice, tversky
from .loss import Loss, LossFunctionWrapper

Axis = int | Sequence[int] | None


def _check_number(owner: str, argument: str, value) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{owner} {argument} must be a number, got {value!r} ({type(value).__name__})")


def _check_axis(owner: str, axis) -> None:
    entries = axis if isinstance(axis, (list, tuple)) else [axis]
    if axis is not None and not all(isinstance(a, numbers.Integral) and not isinstance(a, bool) for a in entries):
        raise TypeError(f"{owner} axis must be None, an integer or a tuple of integers, got {axis!r}")


class Dice(LossFunctionWrapper):
    """``1 - 2 * sum(y_true * y_pred) / (sum(y_true) + sum(y_pred))`` over ``axis``. The default,
    ``axis=None``, sums over every axis (the batch's too): one value for the whole batch, as in
    Keras; ``axis=-1`` (or the non-batch axes) gives one value per sample.

    >>> import numpy as np
    >>> y_true = np.array([[1.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
    >>> y_pred = np.array([[0.9, 0.4, 0.1], [0.2, 0.0, 0.8]])
    >>> [round(float(v), 4) for v in Dice(axis=-1, reduction=None)(y_true, y_pred)]
    [0.2353, 0.8]
    """

    def __init__(self, reduction: str | None = "sum_over_batch_size", name: str | None = "dice", axis: Axis = None,
                 dtype: str | None = None):
        _check_axis("Dice", axis)
        super().__init__(dice, reduction, name, dtype, axis=axis)
        self.axis = axis

    def get_config(self) -> dict:
        return {**Loss.get_config(self), "axis": self.axis}


class Tversky(LossFunctionWrapper):
    """``1 - tp / (tp + alpha * missed + beta * added)`` over ``axis`` (``tp = sum(y_true * y_pred)``,
    ``missed = sum(y_true * (1 - y_pred))``, ``added = sum((1 - y_true) * y_pred)``); with
    ``alpha = beta = 0.5`` it is the Dice loss. ``axis=None`` sums over every axis, as ``Dice``.

    >>> import numpy as np
    >>> y_true, y_pred = np.array([[1.0, 1.0, 0.0]]), np.array([[0.5, 1.0, 0.5]])
    >>> round(float(Tversky(alpha=0.7, beta=0.3)(y_true, y_pred)), 4)
    0.25
    """

    def __init__(self, alpha: float = 0.5, beta: float = 0.5, reduction: str | None = "sum_over_batch_size",
                 name: str | None = "tversky", axis: Axis = None, dtype: str | None = None):
        _check_number("Tversky", "alpha", alpha)
        _check_number("Tversky", "beta", beta)
        _check_axis("Tversky", axis)
        super().__init__(tversky, reduction, name, dtype, alpha=alpha, beta=beta, axis=axis)
        self.alpha, self.beta, self.axis = alpha, beta, axis

    def get_config(self) -> dict:
        return {**Loss.get_config(self), "alpha": self.alpha, "beta": self.beta, "axis": self.axis}


class Circle(LossFunctionWrapper):
    """Circle loss between integer labels and L2-normalized embeddings (a Dense layer without
    activation, then ``UnitNormalization``): it pulls the embeddings of a label together and
    pushes the others apart, each pair weighted by how far it is from its optimum. ``gamma``
    scales the scores, ``margin`` relaxes them; ``remove_diagonal`` leaves out each sample's pair
    with itself. Samples with no pair of their label (or none of another) give 0 and are left
    out of the mean, as in Keras.

    >>> import numpy as np
    >>> embeddings = np.array([[1.0, 0.0], [0.8, 0.6], [0.0, 1.0], [-0.6, 0.8]])
    >>> round(float(Circle(gamma=2.0)(np.array([0, 0, 1, 1]), embeddings)), 4)
    0.9337
    """

    def __init__(self, gamma: float = 80.0, margin: float = 0.4, remove_diagonal: bool = True,
                 reduction: str | None = "sum_over_batch_size", name: str | None = "circle", dtype: str | None = None):
        _check_number("Circle", "gamma", gamma)
        _check_number("Circle", "margin", margin)
        if not isinstance(remove_diagonal, bool):
            raise TypeError(f"Circle remove_diagonal must be True or False, got {remove_diagonal!r}")
        super().__init__(circle, reduction, name, dtype, gamma=gamma, margin=margin, remove_diagonal=remove_diagonal)
        self.gamma, self.margin, self.remove_diagonal = gamma, margin, remove_diagonal

    def get_config(self) -> dict:
        return {**Loss.get_config(self), "gamma": self.gamma, "margin": self.margin,
                "remove_diagonal": self.remove_diagonal}


class CategoricalGeneralizedCrossEntropy(LossFunctionWrapper):
    """Generalized cross entropy (Zhang and Sabuncu, 2018): ``(1 - p ** q) / q`` per sample, ``p``
    the predicted probability of the integer label. ``q`` in (0, 1): towards 0 it behaves like
    crossentropy, towards 1 like the mean absolute error, which makes it robust to noisy labels.

    >>> import numpy as np
    >>> loss = CategoricalGeneralizedCrossEntropy(q=0.5)
    >>> round(float(loss(np.array([0, 1]), np.array([[0.64, 0.36], [0.19, 0.81]]))), 4)
    0.3
    """

    def __init__(self, q: float = 0.5, reduction: str | None = "sum_over_batch_size",
                 name: str | None = "categorical_generalized_cross_entropy", dtype: str | None = None):
        _check_number("CategoricalGeneralizedCrossEntropy", "q", q)
        if not 0 < q < 1:
            raise ValueError(f"CategoricalGeneralizedCrossEntropy q must be in the interval (0, 1), got {q}")
        super().__init__(categorical_generalized_cross_entropy, reduction, name, dtype, q=q)
        self.q = q

    def get_config(self) -> dict:
        return {**Loss.get_config(self), "q": self.q}
