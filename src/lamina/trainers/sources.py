"""Where batches come from: arrays (indexed a batch at a time), or a source of ready batches
(a generator, a ``PyDataset``, or any object with ``__len__``/``__getitem__`` giving batches).

Either way an epoch is a sequence of ``(x, y, index, sample_weight)``: the trainer trains on
rows ``index`` of ``x`` and ``y`` (each an array, or a structure of arrays for a model of
several inputs or outputs). Arrays are never copied whole: a ``np.memmap`` is read a
batch at a time, so a file far larger than memory trains with flat memory use.
"""
from __future__ import annotations

import inspect
import warnings

import numpy as np

from ..utils.py_dataset import PyDataset
from . import data, structures


def is_batch_source(x) -> bool:
    """A generator, iterator, PyDataset, ``lamina.data.Dataset`` or batch sequence (not arrays,
    lists, tensors or pandas objects)."""
    if isinstance(x, PyDataset) or inspect.isgenerator(x) or hasattr(x, "__next__"):
        return True
    if isinstance(x, (np.ndarray, list, tuple, dict, str, bytes)) or hasattr(x, "to_numpy") or hasattr(x, "shape"):
        return False
    return (hasattr(x, "__getitem__") and hasattr(x, "__len__")) or hasattr(x, "__iter__")


class ArrayData:
    """``x``, ``y`` and optional sample weights as arrays; batches index into them."""

    def __init__(self, x, y, sample_weight, batch_size: int, shuffle, steps=None):
        self.x, self.y, self.sample_weight = x, y, sample_weight
        self.batch_size, self.shuffle = batch_size, shuffle
        self.n = structures.n_samples(x)
        self.slices = data.batch_slices(self.n, batch_size)
        if steps is not None:
            self.slices = self.slices[:data.positive_int(steps, "steps")]
        self.steps = len(self.slices)

    def epoch(self, rng):
        order = epoch_order(self.n, self.batch_size, self.shuffle, rng)
        for rows in self.slices:
            yield self.x, self.y, rows if order is None else order[rows], self.sample_weight

    def inference(self, blocked: bool):
        """``(steps done, x, y, rows, sample_weight)`` in order; in blocks of whole batches when
        ``blocked`` (nothing observes single batches): same results, and products on ~1024 rows
        run several times faster than on 32."""
        end = self.slices[-1].stop
        block = self.batch_size * max(1, 1024 // self.batch_size) if blocked else self.batch_size
        for rows in data.batch_slices(end, block):
            yield -(-rows.stop // self.batch_size), self.x, self.y, rows, self.sample_weight

    def on_epoch_end(self) -> None:
        pass


class BatchData:
    """Ready-made batches; ``prepare(x, y)`` checks each against the model and returns ``y``
    ready for the loss. A batch that disagrees with the first one is named in the error."""

    def __init__(self, source, steps, prepare, what: str = "x"):
        self.source, self.prepare, self.what = source, prepare, what
        if steps is None:
            if not hasattr(source, "__len__"):
                raise ValueError(f"{what} is a generator or iterator without a length: pass steps_per_epoch "
                                 "(and validation_steps for validation data), since lamina cannot tell an "
                                 "endless generator from a finite one")
            steps = len(source)
        self.steps = data.positive_int(steps, f"steps for {what}")
        indexable = hasattr(source, "__getitem__") and hasattr(source, "__len__")
        # an iterable that is not its own iterator (a Dataset) starts again each epoch
        self.reiterable = not indexable and not hasattr(source, "__next__")
        self.iterator = None if indexable else iter(source)
        self.sample_shape = None

    def _batch(self, step: int):
        if self.iterator is None:
            return self.source[step % len(self.source)]
        return next(self.iterator)

    def epoch(self, rng=None):
        if self.reiterable:
            self.iterator = iter(self.source)
        for step in range(self.steps):
            try:
                batch = self._batch(step)
            except StopIteration:
                warnings.warn(f"{self.what} ran out of data after {step} batches of the {self.steps} asked "
                              "for; training stops here", stacklevel=4)
                return
            x, y, sample_weight = unpack_batch(batch)
            x = data.features(x, f"batch {step} of {self.what}")
            leaves = structures.leaves(x)
            shapes = [leaf.shape[1:] for leaf in leaves]
            if self.sample_shape is None:
                self.sample_shape = shapes
            elif shapes != self.sample_shape:
                one = len(leaves) == 1
                got, before = (leaves[0].shape, self.sample_shape[0]) if one else (shapes, self.sample_shape)
                raise ValueError(f"batch {step} of {self.what} has x of shape {got}, but the earlier batches "
                                 f"had samples of shape {before}")
            n = structures.n_samples(x)
            try:
                y = self.prepare(x, None if y is None else data.targets(y, n, f"y in batch {step}"))
            except ValueError as error:
                raise ValueError(f"batch {step} of {self.what}: {error}") from None
            yield x, y, slice(0, n), data.sample_weights(sample_weight, n)

    def inference(self, blocked: bool):
        for step, (x, y, rows, sample_weight) in enumerate(self.epoch()):
            yield step + 1, x, y, rows, sample_weight

    def on_epoch_end(self) -> None:
        if hasattr(self.source, "on_epoch_end"):
            self.source.on_epoch_end()


def unpack_batch(batch) -> tuple:
    """``x``, ``(x,)``, ``(x, y)`` or ``(x, y, sample_weight)``."""
    if isinstance(batch, tuple):
        if not 1 <= len(batch) <= 3:
            raise ValueError(f"a batch must be x, (x, y) or (x, y, sample_weight), got a tuple of {len(batch)}")
        return (*batch, *([None] * (3 - len(batch))))
    return batch, None, None


def epoch_order(n: int, batch_size: int, shuffle, rng) -> np.ndarray | None:
    """Row order for one epoch: a fresh permutation, ``"batch"`` (shuffled within batches), or None."""
    if shuffle == "batch":
        order = np.arange(n)
        full = n - n % batch_size
        blocks = order[:full].reshape(-1, batch_size)
        order[:full] = rng.permuted(blocks, axis=1).reshape(-1)
        rng.shuffle(order[full:])
        return order
    return rng.permutation(n) if shuffle else None
