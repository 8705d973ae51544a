"""Where a dataset's elements come from: arrays (whole, or a row at a time), a range of
numbers, a generator, or other datasets side by side or one after the other."""
from __future__ import annotations

from typing import Any, Callable, Iterator

import itertools

import numpy as np

from . import rows, specs, structure
from .dataset import INFINITE_CARDINALITY, UNKNOWN_CARDINALITY, Dataset


class TensorSlicesDataset(Dataset):
    """``Dataset.from_tensor_slices(tensors)``: the rows of every array of ``tensors``."""

    def __init__(self, tensors: Any):
        self.arrays = structure.to_arrays(tensors)
        leaves = structure.flatten(self.arrays)
        for leaf in leaves:
            if leaf.ndim == 0:
                raise ValueError(f"from_tensor_slices needs arrays with a first dimension to slice, got a scalar "
                                 f"in an element of shapes {structure.describe(self.arrays)}")
        if len({len(leaf) for leaf in leaves}) > 1:
            raise ValueError("from_tensor_slices: all arrays must have the same size in their first dimension, "
                             f"got shapes {[leaf.shape for leaf in leaves]}")
        self.n = len(leaves[0])

    def _row_plan(self) -> rows.RowPlan:
        return rows.RowPlan(self.arrays, lambda: iter([slice(0, self.n)]))

    def _cardinality(self) -> int:
        return self.n

    def _spec(self) -> Any:
        return specs.reshape(specs.of_element(self.arrays), lambda shape: shape[1:])


class TensorsDataset(Dataset):
    """``Dataset.from_tensors(tensors)``: one element, ``tensors`` itself."""

    def __init__(self, tensors: Any):
        self.element = structure.to_arrays(tensors)

    def _elements(self) -> Iterator[Any]:
        return iter([self.element])

    def _cardinality(self) -> int:
        return 1

    def _spec(self) -> Any:
        return specs.of_element(self.element)


class RangeDataset(Dataset):
    """``Dataset.range(...)``: the numbers of Python's ``range`` as scalars of ``dtype``."""

    def __init__(self, *args: int, dtype: Any = "int64"):
        from .dataset import count_argument
        if not 1 <= len(args) <= 3:
            raise TypeError(f"range takes 1 to 3 arguments (stop, or start, stop[, step]), got {len(args)}")
        numbers = [count_argument(a, "range's arguments", -2**62) for a in args]
        if len(numbers) == 3 and numbers[2] == 0:
            raise ValueError("range: step must not be zero")
        self.numbers = range(*numbers)
        self.dtype = np.dtype(str(getattr(dtype, "name", dtype)))

    def _elements(self) -> Iterator[Any]:
        dtype = self.dtype
        return (np.asarray(number, dtype) for number in self.numbers)

    def _cardinality(self) -> int:
        return len(self.numbers)

    def _spec(self) -> Any:
        return specs.spec((), self.dtype)


def _combined(counts: list, combine: Callable) -> int:
    known = [c for c in counts if c >= 0]
    if UNKNOWN_CARDINALITY in counts:
        return UNKNOWN_CARDINALITY
    return combine(known) if known else INFINITE_CARDINALITY


class ZipDataset(Dataset):
    """``Dataset.zip(datasets)``: one element of each dataset at a time, in their structure."""

    def __init__(self, datasets: Any):
        self.datasets = datasets
        self.members = structure.flatten(datasets)
        for member in self.members:
            if not isinstance(member, Dataset):
                raise TypeError(f"zip takes datasets (a tuple or dict of them), got {type(member).__name__}")

    def _elements(self) -> Iterator[Any]:
        for parts in zip(*(member._iterate() for member in self.members)):
            yield structure.pack_as(self.datasets, list(parts))

    def _cardinality(self) -> int:
        counts = [member._cardinality() for member in self.members]
        finite = [c for c in counts if c >= 0]
        if finite and min(finite) == 0:
            return 0
        return _combined(counts, min)

    def _spec(self) -> Any:
        return structure.pack_as(self.datasets, [member._spec() for member in self.members])


class ConcatenateDataset(Dataset):
    """``first.concatenate(second)``: the elements of one, then of the other."""

    def __init__(self, first: Dataset, second: Dataset):
        if not isinstance(second, Dataset):
            raise TypeError(f"concatenate takes a Dataset, got {type(second).__name__}")
        self.first, self.second = first, second

    def _elements(self) -> Iterator[Any]:
        template = None
        for element in itertools.chain(self.first._iterate(), self.second._iterate()):
            if template is None:
                template = element
            elif not structure.same_structure(template, element):
                raise TypeError("concatenate: the two datasets' elements have different structures")
            yield element

    def _cardinality(self) -> int:
        counts = [self.first._cardinality(), self.second._cardinality()]
        if INFINITE_CARDINALITY in counts:
            return INFINITE_CARDINALITY
        return _combined(counts, sum)

    def _spec(self) -> Any:
        return specs.merge(self.first._spec(), self.second._spec())


class GeneratorDataset(Dataset):
    """``Dataset.from_generator(generator, args=...)``: a fresh ``generator(*args)`` per iteration."""

    def __init__(self, generator: Callable, args: tuple, dtypes: Any = None):
        if not callable(generator):
            raise TypeError("from_generator takes a callable that returns an iterator (the generator function, "
                            f"not a generator object), got {type(generator).__name__}")
        self.generator, self.args = generator, args
        # the declared dtypes, one per leaf, or None: TensorFlow casts each value to its declared dtype
        self.dtypes = None if dtypes is None else [np.dtype(str(getattr(d, "name", d)))
                                                   for d in structure.flatten(dtypes)]

    def _elements(self) -> Iterator[Any]:
        for element in self.generator(*self.args):
            element = structure.to_arrays(element)
            if self.dtypes is not None:
                leaves = structure.flatten(element)
                if len(leaves) != len(self.dtypes):
                    raise ValueError(f"from_generator: the generator yielded {len(leaves)} arrays where the "
                                     f"declared types have {len(self.dtypes)}")
                element = structure.pack_as(element, [np.asarray(leaf, dtype)
                                                      for leaf, dtype in zip(leaves, self.dtypes)])
            yield element
