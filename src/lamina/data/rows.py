"""Row plans: how a pipeline over ``from_tensor_slices`` arrays is iterated without one Python
object per element when it can be.

A pipeline made only of ``from_tensor_slices``, ``shuffle``, ``repeat``, ``take``, ``skip``,
``cache`` and ``prefetch`` yields rows of the source arrays, in an order that depends only on
the row numbers. Such a pipeline describes itself by a ``RowPlan``: the source arrays and, for one
iteration, a stream of *chunks* of row numbers (each a ``slice`` or a 1-D int64 array). ``batch``
over a row plan then cuts the stream into batches of row numbers and reads each batch with one
slice (contiguous rows: a view, no copy) or one fancy index per array, so a batch of 1,024 rows
costs one NumPy call per array rather than 1,024 Python elements.
"""
from __future__ import annotations

from typing import Any, Callable, Iterator, Union

import itertools

import numpy as np

from . import structure

Chunk = Union[slice, np.ndarray]


class RowPlan:
    """The arrays of a ``from_tensor_slices`` source and a function giving one iteration's chunks
    of row numbers (a fresh call is a fresh iteration: a shuffle draws a new order)."""

    def __init__(self, arrays: Any, chunks: Callable[[], Iterator[Chunk]]):
        self.arrays = arrays
        self.chunks = chunks

    def with_chunks(self, chunks: Callable[[], Iterator[Chunk]]) -> RowPlan:
        """The same arrays read in another order."""
        return RowPlan(self.arrays, chunks)

    def take(self, rows: Chunk) -> Any:
        """The element (a 0-d chunk position, an int) or batch (a chunk) of those rows."""
        return structure.map_structure(lambda array: array[rows], self.arrays)

    def elements(self) -> Iterator[Any]:
        """One iteration, one row at a time (``array[i, ...]`` is a view, 0-d for a 1-D array)."""
        leaves = structure.flatten(self.arrays)
        for chunk in self.chunks():
            for row in _row_numbers(chunk):
                yield structure.pack_as(self.arrays, [leaf[row, ...] for leaf in leaves])

    def batches(self, batch_size: int, drop_remainder: bool) -> Iterator[Any]:
        """One iteration in batches, each read from the arrays at once."""
        for rows in batch_rows(self.chunks(), batch_size, drop_remainder):
            yield self.take(rows)


def length(chunk: Chunk) -> int:
    """How many row numbers a chunk holds."""
    return chunk.stop - chunk.start if isinstance(chunk, slice) else len(chunk)


def part(chunk: Chunk, start: int, stop: int) -> Chunk:
    """Positions ``start:stop`` of a chunk (a slice stays a slice)."""
    if isinstance(chunk, slice):
        return slice(chunk.start + start, min(chunk.start + stop, chunk.stop))
    return chunk[start:stop]


def _row_numbers(chunk: Chunk) -> Iterator[int]:
    return iter(range(chunk.start, chunk.stop)) if isinstance(chunk, slice) else iter(chunk.tolist())


def row_numbers(chunks: Iterator[Chunk]) -> Iterator[int]:
    """The row numbers of a stream of chunks, one int at a time."""
    return itertools.chain.from_iterable(_row_numbers(chunk) for chunk in chunks)


def join(pieces: list) -> Chunk:
    """Several chunks as one (a single piece is returned as it is)."""
    if len(pieces) == 1:
        return pieces[0]
    return np.concatenate([np.arange(p.start, p.stop) if isinstance(p, slice) else p for p in pieces])


def batch_rows(chunks: Iterator[Chunk], batch_size: int, drop_remainder: bool) -> Iterator[Chunk]:
    """The stream of chunks cut into batches of ``batch_size`` row numbers (a batch may straddle
    chunks, as a ``repeat`` before ``batch`` makes it); the last, shorter one unless dropped."""
    pending: list = []
    count = 0
    for chunk in chunks:
        size, start = length(chunk), 0
        while start < size:
            taken = min(batch_size - count, size - start)
            pending.append(part(chunk, start, start + taken))
            count += taken
            start += taken
            if count == batch_size:
                yield join(pending)
                pending, count = [], 0
    if count and not drop_remainder:
        yield join(pending)


def limit(chunks: Iterator[Chunk], count: int) -> Iterator[Chunk]:
    """The first ``count`` row numbers of a stream of chunks."""
    left = count
    for chunk in chunks:
        if left <= 0:
            return
        size = length(chunk)
        yield chunk if size <= left else part(chunk, 0, left)
        left -= size


def drop(chunks: Iterator[Chunk], count: int) -> Iterator[Chunk]:
    """A stream of chunks without its first ``count`` row numbers."""
    left = count
    for chunk in chunks:
        size = length(chunk)
        if left >= size:
            left -= size
            continue
        yield part(chunk, left, size) if left else chunk
        left = 0


def regroup(numbers: Iterator[int], size: int = 4096) -> Iterator[np.ndarray]:
    """A stream of row numbers as int64 chunks of up to ``size``."""
    while True:
        chunk = np.fromiter(itertools.islice(numbers, size), np.int64)
        if not len(chunk):
            return
        yield chunk
