"""The transformations of a dataset other than ``shuffle`` (``shuffle.py``): each holds its
upstream dataset and iterates it afresh at each of its own iterations."""
from __future__ import annotations

from typing import Any, Callable, Iterator

import itertools

import numpy as np

from . import rows, specs, structure
from .dataset import INFINITE_CARDINALITY, UNKNOWN_CARDINALITY, Dataset


class BatchDataset(Dataset):
    """``upstream.batch(batch_size, drop_remainder)``."""

    def __init__(self, upstream: Dataset, batch_size: int, drop_remainder: bool):
        self.upstream, self.batch_size, self.drop_remainder = upstream, batch_size, drop_remainder

    def _elements(self) -> Iterator[Any]:
        plan = self.upstream._row_plan()
        if plan is not None:  # rows of arrays: each batch read with one index per array
            return plan.batches(self.batch_size, self.drop_remainder)
        return self._stacked()

    def _batch_rows(self) -> Any:
        plan = self.upstream._row_plan()
        if plan is None:
            return None
        return plan.arrays, lambda: rows.batch_rows(plan.chunks(), self.batch_size, self.drop_remainder)

    def _stacked(self) -> Iterator[Any]:
        elements = self.upstream._iterate()
        while True:
            group = list(itertools.islice(elements, self.batch_size))
            if not group or (self.drop_remainder and len(group) < self.batch_size):
                return
            yield structure.stack(group)

    def _cardinality(self) -> int:
        count = self.upstream._cardinality()
        if count < 0:
            return count
        return count // self.batch_size if self.drop_remainder else -(-count // self.batch_size)

    def _spec(self) -> Any:
        size = self.batch_size if self.drop_remainder else None
        return specs.reshape(self.upstream._spec(), lambda shape: (size, *shape))


class UnbatchDataset(Dataset):
    """``upstream.unbatch()``: each element's rows as elements."""

    def __init__(self, upstream: Dataset):
        self.upstream = upstream

    def _elements(self) -> Iterator[Any]:
        for element in self.upstream._iterate():
            leaves = structure.flatten(element)
            if any(leaf.ndim == 0 for leaf in leaves) or len({len(leaf) for leaf in leaves}) > 1:
                raise ValueError("unbatch needs elements whose arrays share a first dimension, got shapes "
                                 f"{structure.describe(element)}")
            for row in range(len(leaves[0])):
                yield structure.pack_as(element, [leaf[row, ...] for leaf in leaves])

    def _cardinality(self) -> int:
        # known when the rows per element are known without running anything, as TensorFlow's
        # static shapes tell it: batches of a fixed size, or the one element of from_tensors
        count = self.upstream._cardinality()
        if count < 0:
            return count
        from .sources import TensorsDataset
        if isinstance(self.upstream, BatchDataset) and self.upstream.drop_remainder:
            return count * self.upstream.batch_size
        if isinstance(self.upstream, TensorsDataset):
            sizes = {len(leaf) if leaf.ndim else None for leaf in structure.flatten(self.upstream.element)}
            size = sizes.pop() if len(sizes) == 1 else None
            return UNKNOWN_CARDINALITY if size is None else size
        return UNKNOWN_CARDINALITY

    def _spec(self) -> Any:
        return specs.reshape(self.upstream._spec(), lambda shape: shape[1:])


def call_with_element(fn: Callable, element: Any) -> Any:
    """``fn`` called as TensorFlow calls a ``map`` or ``filter`` function: a tuple's parts as
    separate arguments, anything else (a dict, one tensor) as one."""
    tensors = structure.to_tensors(element)
    return fn(*tensors) if isinstance(tensors, tuple) else fn(tensors)


class MapDataset(Dataset):
    """``upstream.map(fn)``."""

    def __init__(self, upstream: Dataset, fn: Callable):
        if not callable(fn):
            raise TypeError(f"map takes a function, got {type(fn).__name__}")
        self.upstream, self.fn = upstream, fn

    def _elements(self) -> Iterator[Any]:
        for element in self.upstream._iterate():
            yield structure.to_arrays(call_with_element(self.fn, element), lists_are_tuples=True)

    def _cardinality(self) -> int:
        return self.upstream._cardinality()


class FilterDataset(Dataset):
    """``upstream.filter(predicate)``."""

    def __init__(self, upstream: Dataset, predicate: Callable):
        if not callable(predicate):
            raise TypeError(f"filter takes a function, got {type(predicate).__name__}")
        self.upstream, self.predicate = upstream, predicate

    def _elements(self) -> Iterator[Any]:
        for element in self.upstream._iterate():
            keep = structure.to_array(call_with_element(self.predicate, element))
            if keep.shape != () or keep.dtype != np.bool_:
                raise ValueError("filter: the predicate must return a scalar bool, got an array of shape "
                                 f"{keep.shape} and dtype {keep.dtype}")
            if keep:
                yield element

    def _spec(self) -> Any:
        return self.upstream._spec()


class RepeatDataset(Dataset):
    """``upstream.repeat(count)``: ``count`` iterations of the upstream (-1: forever)."""

    def __init__(self, upstream: Dataset, count: int):
        self.upstream, self.count = upstream, count

    def _passes(self) -> Iterator[int]:
        return itertools.count() if self.count < 0 else iter(range(self.count))

    def _row_plan(self) -> rows.RowPlan | None:
        plan = self.upstream._row_plan()
        if plan is None:
            return None

        def chunks() -> Iterator[rows.Chunk]:
            for _ in self._passes():
                empty = True
                for chunk in plan.chunks():  # a fresh iteration of the upstream each pass
                    empty = empty and rows.length(chunk) == 0
                    yield chunk
                if empty:
                    return  # an empty upstream repeated forever is empty, not a hang
        return plan.with_chunks(chunks)

    def _elements(self) -> Iterator[Any]:
        for _ in self._passes():
            empty = True
            for element in self.upstream._iterate():
                empty = False
                yield element
            if empty:
                return

    def _cardinality(self) -> int:
        count = self.upstream._cardinality()
        if count == 0 or self.count == 0:
            return 0
        if self.count < 0:
            return INFINITE_CARDINALITY
        return count if count < 0 else count * self.count

    def _spec(self) -> Any:
        return self.upstream._spec()


class TakeDataset(Dataset):
    """``upstream.take(count)`` (-1: everything)."""

    def __init__(self, upstream: Dataset, count: int):
        self.upstream, self.count = upstream, count

    def _row_plan(self) -> rows.RowPlan | None:
        plan = self.upstream._row_plan()
        if plan is None or self.count < 0:
            return plan
        return plan.with_chunks(lambda: rows.limit(plan.chunks(), self.count))

    def _elements(self) -> Iterator[Any]:
        elements = self.upstream._iterate()
        return elements if self.count < 0 else itertools.islice(elements, self.count)

    def _cardinality(self) -> int:
        count = self.upstream._cardinality()
        if self.count < 0:
            return count
        if count == INFINITE_CARDINALITY:
            return self.count
        return UNKNOWN_CARDINALITY if count < 0 else min(count, self.count)

    def _spec(self) -> Any:
        return self.upstream._spec()


class SkipDataset(Dataset):
    """``upstream.skip(count)`` (-1: everything skipped)."""

    def __init__(self, upstream: Dataset, count: int):
        self.upstream, self.count = upstream, count

    def _row_plan(self) -> rows.RowPlan | None:
        plan = self.upstream._row_plan()
        if plan is None:
            return None
        if self.count < 0:
            return plan.with_chunks(lambda: iter(()))
        return plan.with_chunks(lambda: rows.drop(plan.chunks(), self.count))

    def _elements(self) -> Iterator[Any]:
        if self.count < 0:
            return iter(())
        return itertools.islice(self.upstream._iterate(), self.count, None)

    def _cardinality(self) -> int:
        count = self.upstream._cardinality()
        if self.count < 0:
            return 0 if count != INFINITE_CARDINALITY else count
        return count if count < 0 else max(count - self.count, 0)

    def _spec(self) -> Any:
        return self.upstream._spec()


class EnumerateDataset(Dataset):
    """``upstream.enumerate(start)``: ``(int64 index, element)``."""

    def __init__(self, upstream: Dataset, start: int):
        self.upstream, self.start = upstream, start

    def _elements(self) -> Iterator[Any]:
        for index, element in enumerate(self.upstream._iterate(), self.start):
            yield np.asarray(index, np.int64), element

    def _cardinality(self) -> int:
        return self.upstream._cardinality()

    def _spec(self) -> Any:
        return specs.spec((), np.int64), self.upstream._spec()


class CacheDataset(Dataset):
    """``upstream.cache()``: the first complete iteration's elements (or, over array rows, its
    row order) replayed by the later iterations."""

    def __init__(self, upstream: Dataset):
        self.upstream = upstream
        self.kept: list | None = None  # filled at the end of the first complete iteration

    def _recorded(self, source: Iterator) -> Iterator[Any]:
        if self.kept is not None:
            yield from self.kept
            return
        seen = []
        for item in source:
            seen.append(item)
            yield item
        self.kept = seen  # only a complete iteration is kept (one stopped early is not the dataset)

    def _row_plan(self) -> rows.RowPlan | None:
        plan = self.upstream._row_plan()
        if plan is None:
            return None
        return plan.with_chunks(lambda: self._recorded(plan.chunks() if self.kept is None else iter(())))

    def _elements(self) -> Iterator[Any]:
        return self._recorded(self.upstream._iterate() if self.kept is None else iter(()))

    def _cardinality(self) -> int:
        return self.upstream._cardinality()

    def _spec(self) -> Any:
        return self.upstream._spec()
