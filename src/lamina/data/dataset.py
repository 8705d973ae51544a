"""``Dataset``: TensorFlow's ``tf.data.Dataset`` for data that fits NumPy, lazily.

A dataset is a description (a source and the transformations after it); nothing is read until it
is iterated, and each iteration streams from the source again: ``repeat()`` does not copy, a
``shuffle`` keeps only its buffer, a ``batch`` reads its rows when it is asked for.

>>> import numpy as np, lamina as tf
>>> ds = tf.data.Dataset.from_tensor_slices((np.arange(6.0), np.arange(6))).batch(4)
>>> [(x.numpy().tolist(), y.numpy().tolist()) for x, y in ds]
[([0.0, 1.0, 2.0, 3.0], [0, 1, 2, 3]), ([4.0, 5.0], [4, 5])]
>>> len(ds), int(ds.repeat().cardinality()) == tf.data.INFINITE_CARDINALITY
(2, True)
"""
from __future__ import annotations

from typing import Any, Callable, Iterator

import numpy as np

from . import structure

INFINITE_CARDINALITY = -1  # TensorFlow's constants: ``cardinality()`` of an endless dataset
UNKNOWN_CARDINALITY = -2  # ... and of one whose length cannot be told without iterating (filter)
AUTOTUNE = -1  # accepted wherever TensorFlow takes it (prefetch, num_parallel_calls)


def count_argument(value: Any, name: str, lowest: int) -> int:
    """An int argument of at least ``lowest``: a TypeError for other types, a ValueError below."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        array = np.asarray(getattr(value, "_value", value))
        if array.ndim != 0 or array.dtype.kind not in "iu":
            raise TypeError(f"{name} must be an int, got {value!r}")
        value = int(array)
    if value < lowest:
        raise ValueError(f"{name} must be at least {lowest}, got {value}")
    return int(value)


class Dataset:
    """A sequence of elements (arrays, or tuples and dicts of arrays), built with the static
    constructors (``from_tensor_slices``, ``from_tensors``, ``range``, ``zip``) and transformed by
    the methods, each returning a new dataset. ``for element in dataset`` yields lamina Tensors
    (with the element's tuples and dicts), as TensorFlow yields EagerTensors; ``fit``,
    ``evaluate`` and ``predict`` take a batched dataset of ``x``, ``(x, y)`` or
    ``(x, y, sample_weight)``.
    """

    # --- what each kind of dataset provides ----------------------------------------------------
    def _elements(self) -> Iterator[Any]:
        """One iteration's elements (structures of arrays), one at a time. Every kind of dataset
        gives them (or a row plan); only ``Dataset()`` itself, which holds nothing, reaches here."""
        raise TypeError("Dataset() holds no elements: make a dataset with Dataset.from_tensor_slices, "
                        "from_tensors, range, zip or from_generator, as in TensorFlow")

    def _row_plan(self) -> Any:
        """A ``rows.RowPlan`` when the elements are rows of source arrays in an order of row
        numbers alone (so ``batch`` can read them with one index per array), else None."""
        return None

    def _batch_rows(self) -> Any:
        """For batches of rows of source arrays (``batch`` over a row plan): ``(arrays, batches)``
        where ``batches()`` gives one iteration's batches as row numbers (a slice or an int64
        array each), so ``fit`` can index the arrays itself as it does arrays given to it; else None."""
        return None

    def _cardinality(self) -> int:
        return UNKNOWN_CARDINALITY

    def _spec(self) -> Any:
        """The element's structure of ``TensorSpec`` (derived from the first element here;
        sources and shape-preserving transformations say it without iterating)."""
        from . import specs
        first = next(iter(self._iterate()), None)
        if first is None:
            raise ValueError("element_spec: the dataset is empty, so its elements' shapes cannot be seen")
        return specs.of_element(first)

    def _iterate(self) -> Iterator[Any]:
        plan = self._row_plan()
        return plan.elements() if plan is not None else self._elements()

    # --- reading ---------------------------------------------------------------------------------
    def __iter__(self) -> Iterator[Any]:
        """A fresh iteration; each element's leaves as lamina Tensors."""
        return (structure.to_tensors(element) for element in self._iterate())

    def as_numpy_iterator(self) -> Iterator[Any]:
        """A fresh iteration with NumPy values: arrays, and NumPy scalars for scalar leaves."""
        return (structure.to_numpy(element) for element in self._iterate())

    def cardinality(self) -> Any:
        """The number of elements as an int64 scalar tensor, or ``INFINITE_CARDINALITY`` (-1)
        after ``repeat()``, or ``UNKNOWN_CARDINALITY`` (-2) after ``filter``, as TensorFlow counts."""
        from ..ops.tensor import Tensor
        return Tensor(np.asarray(self._cardinality(), np.int64))

    def __len__(self) -> int:
        """The number of elements; a TypeError for an infinite or unknown length, as in TensorFlow."""
        count = self._cardinality()
        if count == INFINITE_CARDINALITY:
            raise TypeError("The dataset is infinite.")
        if count < 0:
            raise TypeError("The dataset length is unknown.")
        return count

    def __bool__(self) -> bool:
        return True  # a Dataset is not its length (``if dataset:`` must not iterate it)

    @property
    def element_spec(self) -> Any:
        """Each element's structure of ``TensorSpec`` (shape with None for a dimension that may
        vary, such as a batch without ``drop_remainder``, and dtype). After a ``map`` or from a
        generator it is read off the first element, so the pipeline runs up to it (TensorFlow
        traces the function instead)."""
        return self._spec()

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"

    # --- sources ---------------------------------------------------------------------------------
    @staticmethod
    def from_tensor_slices(tensors: Any, name: str | None = None) -> Dataset:
        """One element per row: the rows of an array, or of each array of a tuple or dict (nested
        too), all of one length (a ValueError names the shapes otherwise). Lists are arrays."""
        from .sources import TensorSlicesDataset
        return TensorSlicesDataset(tensors)

    @staticmethod
    def from_tensors(tensors: Any, name: str | None = None) -> Dataset:
        """One element: ``tensors`` itself."""
        from .sources import TensorsDataset
        return TensorsDataset(tensors)

    @staticmethod
    def range(*args: int, output_type: Any = "int64", name: str | None = None) -> Dataset:
        """``range(stop)``, ``range(start, stop[, step])`` as Python's, as int64 scalars."""
        from .sources import RangeDataset
        return RangeDataset(*args, dtype=output_type)

    @staticmethod
    def zip(*args: Any, datasets: Any = None, name: str | None = None) -> Dataset:
        """Elements of several datasets side by side (a tuple, or a dict of datasets, nested too),
        as long as the shortest: ``zip((a, b))``, ``zip(a, b)`` or ``zip({"x": a, "y": b})``."""
        from .sources import ZipDataset
        if datasets is None:
            if not args:
                raise TypeError("zip needs datasets: zip((a, b)), zip(a, b) or zip(datasets={...})")
            datasets = args[0] if len(args) == 1 else tuple(args)
        elif args:
            raise TypeError("zip takes the datasets either as arguments or as datasets=, not both")
        return ZipDataset(datasets)

    @staticmethod
    def from_generator(generator: Callable, output_types: Any = None, output_shapes: Any = None,
                       args: Any = None, output_signature: Any = None, name: str | None = None) -> Dataset:
        """The elements a fresh call of ``generator(*args)`` yields, at each iteration, each value
        cast to its dtype in ``output_signature`` (``TensorSpec``s) or ``output_types`` when
        given (the shapes are not checked). Length unknown."""
        from .sources import GeneratorDataset
        declared = output_types
        if output_signature is not None:
            declared = structure.map_structure(lambda s: s.dtype, output_signature)
        return GeneratorDataset(generator, tuple(args or ()), declared)

    # --- transformations -------------------------------------------------------------------------
    def batch(self, batch_size: int, drop_remainder: bool = False, num_parallel_calls: Any = None,
              deterministic: Any = None, name: str | None = None) -> Dataset:
        """Consecutive elements stacked into batches of ``batch_size`` (the last one shorter,
        unless ``drop_remainder``). Over ``from_tensor_slices`` rows (shuffled, repeated...) each
        batch is read from the arrays with one slice or index per array."""
        from .transforms import BatchDataset
        return BatchDataset(self, count_argument(batch_size, "batch_size", 1), bool(drop_remainder))

    def unbatch(self, name: str | None = None) -> Dataset:
        """Each element split along its first axis into elements (``batch``'s inverse)."""
        from .transforms import UnbatchDataset
        return UnbatchDataset(self)

    def shuffle(self, buffer_size: int, seed: int | None = None, reshuffle_each_iteration: bool | None = None,
                name: str | None = None) -> Dataset:
        """The elements through a buffer of ``buffer_size``: each output a random element of the
        buffer, refilled from the input (see ``lamina.data.shuffle``). A new order at each
        iteration unless ``reshuffle_each_iteration=False``; ``seed`` or ``lamina.random.set_seed``
        make the orders repeatable (NumPy's draws: not the orders TensorFlow gives)."""
        from .shuffle import ShuffleDataset
        if seed is not None:
            seed = count_argument(seed, "seed", 0)
        reshuffle = True if reshuffle_each_iteration is None else bool(reshuffle_each_iteration)
        return ShuffleDataset(self, count_argument(buffer_size, "buffer_size", 1), seed, reshuffle)

    def map(self, map_func: Callable, num_parallel_calls: Any = None, deterministic: Any = None,
            name: str | None = None) -> Dataset:
        """``map_func`` on each element, in order, in the reading thread: a tuple's parts are its
        arguments (``lambda x, y: ...``), a dict or a single tensor is one argument; it may
        return any structure (a list of tensors is read as a tuple, as TensorFlow does). The
        function runs at every iteration (``num_parallel_calls`` is accepted; one call at a time)."""
        from .transforms import MapDataset
        return MapDataset(self, map_func)

    def filter(self, predicate: Callable, name: str | None = None) -> Dataset:
        """The elements for which ``predicate`` (called as ``map``'s function) returns True, a
        scalar bool; the length becomes ``UNKNOWN_CARDINALITY``."""
        from .transforms import FilterDataset
        return FilterDataset(self, predicate)

    def repeat(self, count: int | None = None, name: str | None = None) -> Dataset:
        """The dataset ``count`` times over (forever for None or -1), iterating it afresh each
        time (a shuffle before it reshuffles); nothing is copied."""
        from .transforms import RepeatDataset
        count = -1 if count is None else count_argument(count, "count", -1)
        return RepeatDataset(self, count)

    def take(self, count: int, name: str | None = None) -> Dataset:
        """The first ``count`` elements (all of them for -1)."""
        from .transforms import TakeDataset
        return TakeDataset(self, count_argument(count, "count", -1))

    def skip(self, count: int, name: str | None = None) -> Dataset:
        """All but the first ``count`` elements (none for -1)."""
        from .transforms import SkipDataset
        return SkipDataset(self, count_argument(count, "count", -1))

    def prefetch(self, buffer_size: int, name: str | None = None) -> Dataset:
        """This dataset: lamina reads each element when it is asked for, in the reading thread
        (there is no background pipeline to run ahead); ``buffer_size`` (or ``AUTOTUNE``) is
        accepted and checked."""
        count_argument(buffer_size, "buffer_size", -1)
        return self

    def cache(self, filename: str = "", name: str | None = None) -> Dataset:
        """The elements of the first complete iteration kept in memory and given again at the
        next ones (so a shuffle or a random ``map`` before it runs once, as in TensorFlow). Over
        ``from_tensor_slices`` rows only the row order is kept. A ``filename`` is accepted and
        not written: the cache is always in memory."""
        from .transforms import CacheDataset
        return CacheDataset(self)

    def enumerate(self, start: int = 0, name: str | None = None) -> Dataset:
        """``(index, element)`` pairs, the index an int64 scalar counting from ``start``."""
        from .transforms import EnumerateDataset
        return EnumerateDataset(self, count_argument(start, "start", -2**62))

    def concatenate(self, dataset: Dataset, name: str | None = None) -> Dataset:
        """This dataset's elements, then ``dataset``'s (of the same structure)."""
        from .sources import ConcatenateDataset
        return ConcatenateDataset(self, dataset)

    def apply(self, transformation_func: Callable) -> Any:
        """``transformation_func(self)``, as TensorFlow's ``apply``."""
        return transformation_func(self)

    def reduce(self, initial_state: Any, reduce_func: Callable) -> Any:
        """``reduce_func(state, element)`` folded over one iteration, from ``initial_state``."""
        state = structure.to_tensors(structure.to_arrays(initial_state))
        for element in self:
            state = reduce_func(state, element)
        return state
