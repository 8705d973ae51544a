"""``PyDataset``: a dataset defined by batches, as ``keras.utils.PyDataset``."""
from __future__ import annotations

import abc


class PyDataset(abc.ABC):
    """Subclass it: ``__len__`` is the number of batches, ``__getitem__(i)`` returns batch ``i``
    as ``x``, ``(x, y)`` or ``(x, y, sample_weight)``; ``on_epoch_end`` runs after each epoch
    (shuffle there). lamina reads the batches in order in the training thread: ``workers``,
    ``use_multiprocessing`` and ``max_queue_size`` are accepted for compatibility and kept as
    attributes.

    >>> import numpy as np
    >>> class Batches(PyDataset):
    ...     def __len__(self):
    ...         return 3
    ...     def __getitem__(self, index):
    ...         return np.full((4, 2), index, "float32"), np.zeros(4)
    >>> len(Batches())
    3
    """

    def __init__(self, workers: int = 1, use_multiprocessing: bool = False, max_queue_size: int = 10):
        self.workers, self.use_multiprocessing, self.max_queue_size = workers, use_multiprocessing, max_queue_size

    @abc.abstractmethod
    def __len__(self) -> int:
        """The number of batches in one epoch."""

    @abc.abstractmethod
    def __getitem__(self, index: int):
        """Batch ``index``: ``x``, ``(x, y)`` or ``(x, y, sample_weight)``."""

    def on_epoch_end(self) -> None:  # noqa: B027  (a hook a subclass may override, not must)
        """Called after every epoch."""

    @property
    def num_batches(self) -> int:
        return len(self)
