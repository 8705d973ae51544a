"""``lamina.data``: TensorFlow's ``tf.data`` for MLP programs (``import lamina as tf`` then
``tf.data.Dataset``), on NumPy.

``Dataset.from_tensor_slices``, ``from_tensors``, ``range``, ``zip``, ``from_generator``, and
``batch``, ``unbatch``, ``shuffle``, ``map``, ``filter``, ``repeat``, ``take``, ``skip``,
``prefetch``, ``cache``, ``enumerate``, ``concatenate``, ``as_numpy_iterator``, ``cardinality``,
``len``, ``element_spec``. Iteration yields lamina Tensors; ``fit``, ``evaluate`` and ``predict``
take a batched dataset. A dataset is lazy: it reads its source when iterated, and a batch of rows
of ``from_tensor_slices`` arrays is read with one index per array.

>>> import numpy as np, lamina as tf
>>> ds = tf.data.Dataset.range(10).filter(lambda x: x % 3 == 0).map(lambda x: x * 10)
>>> [int(x) for x in ds]
[0, 30, 60, 90]
"""
from . import experimental
from .dataset import AUTOTUNE, INFINITE_CARDINALITY, UNKNOWN_CARDINALITY, Dataset

_FILE_DATASETS = ("TextLineDataset", "TFRecordDataset", "FixedLengthRecordDataset")


def __getattr__(name: str):
    """tf.data's file readers yield string tensors, which lamina has not: refused, saying what to use."""
    if name in _FILE_DATASETS:
        raise AttributeError(f"lamina has no tf.data.{name}: it yields string (bytes) tensors, which are out of "
                             "lamina's scope; read the file with NumPy, pandas or Python, turn its text into "
                             "numbers and use tf.data.Dataset.from_tensor_slices")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["AUTOTUNE", "INFINITE_CARDINALITY", "UNKNOWN_CARDINALITY", "Dataset", "experimental"]
