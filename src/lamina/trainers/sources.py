"""Where batches come from: arrays (indexed a batch at a time), or a source of ready batches
(a generator, a ``PyDataset``, or any object with ``__len__``/``__getitem__`` giving batches).

Either way an epoch is a sequence of ``(x, y, index, sample_weight)``: the trainer trains on
rows ``index`` of ``x`` and ``y`` (each an array, or a structure of arrays for a model of
several inputs or outputs). Arrays are never copied whole: a ``np.memmap`` is read a
batch at a time, so a file far larger than memory trains with flat memory use.
"""
from __future__ import annotations

from typing import Any, Callable

import inspect
import itertools
import sys
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
    """``x``, ``y`` and optional sample weights as arrays; batches index into them.

    With ``steps`` below the number of batches, an epoch takes the next ``steps`` batches of the
    current pass over the data, as Keras's epoch iterator does: the following epoch goes on where
    this one stopped, and a pass that runs out ends its epoch early (with Keras's warning); the
    next epoch starts a new pass, in a new order when shuffling."""

    def __init__(self, x: Any, y: Any, sample_weight: Any, batch_size: int, shuffle: bool | str,
                 steps: int | None = None):
        self.x, self.y, self.sample_weight = x, y, sample_weight
        self.batch_size, self.shuffle = batch_size, shuffle
        self.n = structures.n_samples(x)
        self.pass_slices = data.batch_slices(self.n, batch_size)
        self.slices = self.pass_slices
        if steps is not None:
            self.slices = self.slices[:data.positive_int(steps, "steps")]
        self.steps = len(self.slices)
        self._next_batch, self._order = 0, None  # where the current pass is, and its row order

    def epoch(self, rng):
        if self.steps == len(self.pass_slices):
            order = epoch_order(self.n, self.batch_size, self.shuffle, rng)
            for rows in self.slices:
                yield self.x, self.y, rows if order is None else order[rows], self.sample_weight
            return
        if self._next_batch == 0:
            self._order = epoch_order(self.n, self.batch_size, self.shuffle, rng)
        start = self._next_batch
        chunk = self.pass_slices[start:start + self.steps]
        self._next_batch = 0 if start + self.steps >= len(self.pass_slices) else start + self.steps
        for rows in chunk:
            yield self.x, self.y, rows if self._order is None else self._order[rows], self.sample_weight
        if len(chunk) < self.steps:
            warnings.warn(f"Your input ran out of data: this epoch took {len(chunk)} of its {self.steps} "
                          "batches; the next one starts a new pass over the data (as in Keras)", stacklevel=4)

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

    def __init__(self, source: Any, steps: int | None, prepare: Callable, what: str = "x"):
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
        self.sample_shape: list | None = None

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
            yield self._checked(step, batch)

    def _checked(self, step: int, batch) -> tuple:
        """``(x, y, rows, sample_weight)`` of one batch, checked against the model and the earlier batches."""
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
        return x, y, slice(0, n), data.sample_weights(sample_weight, n)

    def inference(self, blocked: bool):
        for step, (x, y, rows, sample_weight) in enumerate(self.epoch()):
            yield step + 1, x, y, rows, sample_weight

    def on_epoch_end(self) -> None:
        if hasattr(self.source, "on_epoch_end"):
            self.source.on_epoch_end()


def is_dataset(x) -> bool:
    """Whether ``x`` is a ``lamina.data.Dataset`` (never true before lamina.data is imported)."""
    module = sys.modules.get("lamina.data.dataset")
    return module is not None and isinstance(x, module.Dataset)


def refuse_batch_size(x, batch_size) -> None:
    """A Dataset is batched already: ``batch_size`` with one is an error, as tf.keras made it."""
    if batch_size is not None and is_dataset(x):
        raise ValueError(f"batch_size={batch_size!r} was given with a lamina.data.Dataset, which is batched "
                         "already: leave batch_size out and set the batch size with dataset.batch(...)")


def batch_source(x, steps, prepare, what: str = "x", class_weight=None, output_units=None):
    """``DatasetData`` for a Dataset, ``BatchData`` for other batch sources."""
    if is_dataset(x):
        return DatasetData(x, steps, prepare, what, class_weight, output_units)
    if class_weight is not None:
        raise ValueError("when x is a generator its batches carry the weights: pass class_weight=None "
                         "(or give the weights as the third item of each batch)")
    return BatchData(x, steps, prepare, what)


class DatasetData(BatchData):
    """A ``lamina.data.Dataset`` of batches, read by Keras's rule for datasets. Without ``steps``
    each epoch is one fresh iteration to its end (its cardinality, when known, is the epoch's
    length; an endless dataset is refused). With ``steps`` one iteration goes on across epochs,
    ``steps`` batches each, and starts again once a finite dataset has given all its batches; an
    epoch that meets that end early stops there, with Keras's warning. Evaluation (``inference``)
    starts a fresh iteration each time, as Keras's ``evaluate`` does. ``class_weight`` weighs each
    batch's samples by their class (times the batch's own weights), as for arrays."""

    def __init__(self, dataset: Any, steps: int | None, prepare: Callable, what: str = "x",
                 class_weight: dict | None = None, output_units: Callable | None = None):
        from ..data.dataset import INFINITE_CARDINALITY
        # BatchData.__init__ is not run: it sizes an epoch by len(), which a Dataset refuses when its
        # length is infinite or unknown; the attributes BatchData's methods read are set here
        self.source, self.prepare, self.what = dataset, prepare, what
        self.class_weight, self.output_units = class_weight, output_units
        count = dataset._cardinality()
        if steps is None and count == INFINITE_CARDINALITY:
            argument = "validation_steps" if what == "validation_data" else "steps_per_epoch"
            raise ValueError(f"{what} is an infinite dataset (repeat() without a count): pass {argument} to say "
                             "how many batches make one epoch")
        if count == 0:
            raise ValueError(f"{what} is an empty dataset: it has no batches")
        self.batches_in_dataset = count if count >= 0 else None  # None: known only at the end
        self.given_steps = None if steps is None else data.positive_int(steps, f"steps for {what}")
        # None for a dataset of unknown length (after filter): the progress bar counts without a target
        self.steps = self.given_steps if self.given_steps is not None else self.batches_in_dataset  # type: ignore[assignment]
        self.iterator = None
        self.seen = 0  # batches read from the current iteration
        self.sample_shape = None
        self.batch_rows = dataset._batch_rows()
        if self.batch_rows is not None:
            self._check_arrays(self.batch_rows[0])

    def _check_arrays(self, arrays) -> None:
        """Batches of rows of ``from_tensor_slices`` arrays: the arrays checked once, as ``ArrayData``'s,
        and each batch handed to the step as those arrays and its row numbers (the fused plan gathers
        the rows itself, as from arrays given to fit)."""
        x, y, sample_weight = unpack_batch(arrays)
        self.x = data.features(x, self.what)
        self.n = structures.n_samples(self.x)
        self.y = self.prepare(self.x, None if y is None else data.targets(y, self.n))
        self.sample_weight = data.sample_weights(sample_weight, self.n)
        if self.class_weight is not None:
            self.sample_weight = data.class_sample_weights(self.class_weight, self.y, self.sample_weight,
                                                           self._units())
        self.batch_size = self.source.batch_size  # the prefetcher reads it as ArrayData's

    def _fresh_iteration(self):
        return self.batch_rows[1]() if self.batch_rows is not None else self.source._iterate()

    def _emit(self, step: int, batch) -> tuple:
        if self.batch_rows is not None:  # ``batch`` is row numbers
            return self.x, self.y, batch, self.sample_weight
        try:
            return self._checked(step, batch)
        except ValueError as error:
            if self.source._row_plan() is None:
                raise
            # single rows of from_tensor_slices, the commonest slip: say so rather than only the shapes
            raise ValueError(f"{error}. {self.what} is a dataset of single rows, not of batches: "
                             "call .batch(batch_size) on it, as fit expects") from None

    def epoch(self, rng=None):
        if self.iterator is None or self.given_steps is None:
            self.iterator, self.seen = self._fresh_iteration(), 0
        for step in range(self.given_steps) if self.given_steps is not None else itertools.count():
            batch = None
            if self.batches_in_dataset is None or self.seen < self.batches_in_dataset:
                batch = next(self.iterator, None)
            if batch is None:  # the dataset has given all its batches
                self.iterator = None
                if self.given_steps is not None:
                    warnings.warn(f"{self.what} ran out of data after {step} of this epoch's {self.given_steps} "
                                  "batches: make sure the dataset gives at least steps_per_epoch * epochs batches "
                                  "(repeat() it); the next epoch starts it again", stacklevel=4)
                return
            self.seen += 1
            yield self._emit(step, batch)
        if self.batches_in_dataset is not None and self.seen >= self.batches_in_dataset:
            self.iterator = None  # read to its end: the next epoch starts a fresh iteration

    def _checked(self, step: int, batch) -> tuple:
        x, y, rows, sample_weight = super()._checked(step, batch)
        if self.class_weight is not None:
            if y is None:
                raise ValueError(f"class_weight needs targets: the batches of {self.what} have no y")
            sample_weight = data.class_sample_weights(self.class_weight, y, sample_weight, self._units())
        return x, y, rows, sample_weight

    def _units(self) -> int | None:
        """The model's output units (class_weight's classes), asked when the model is built."""
        return None if self.output_units is None else self.output_units()

    def inference(self, blocked: bool):
        self.iterator = None  # evaluation reads from the dataset's start every time
        yield from super().inference(blocked)


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
