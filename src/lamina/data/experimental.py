"""``tf.data.experimental``: the names of it that MLP programs use (``AUTOTUNE``, ``cardinality``)."""
from __future__ import annotations

from typing import Any

from .dataset import AUTOTUNE, INFINITE_CARDINALITY, UNKNOWN_CARDINALITY, Dataset

__all__ = ["AUTOTUNE", "INFINITE_CARDINALITY", "UNKNOWN_CARDINALITY", "cardinality"]


def cardinality(dataset: Dataset) -> Any:
    """``dataset.cardinality()``: the number of elements, or ``INFINITE_CARDINALITY`` /
    ``UNKNOWN_CARDINALITY``, as an int64 scalar tensor."""
    return dataset.cardinality()
