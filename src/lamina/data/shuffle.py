"""``Dataset.shuffle``: TensorFlow's buffer shuffle, drawn from NumPy.

The buffer holds the first ``buffer_size`` elements; each output is one of the buffer's elements
picked uniformly at random, and its place is taken by the next input element; once the input is
exhausted the buffer empties in random order. So the element at input position ``i`` can come
out at position ``i - buffer_size + 1`` at the earliest (a buffer of 1 keeps the order, a buffer
at least as large as the dataset gives a uniform permutation).

The draws are NumPy's (a ``Generator`` per iteration), so the orders are not TensorFlow's. A
pipeline over ``from_tensor_slices`` arrays shuffles row numbers (ints) instead of elements:
the same algorithm on the same draws, so the same order, with the rows read a batch at a time.
"""
from __future__ import annotations

from typing import Any, Iterator

import itertools

import numpy as np

from .. import backend
from . import rows
from .dataset import Dataset

_DRAWS = 1024  # uniform floats drawn per NumPy call; the same stream whatever the chunk size


def buffer_shuffle(items: Iterator, buffer_size: int, rng: np.random.Generator) -> Iterator:
    """``items`` through a shuffle buffer of ``buffer_size`` (see the module's docstring)."""
    items = iter(items)
    buffer = list(itertools.islice(items, buffer_size))
    draws: list = []
    for item in items:  # the buffer is full: emit one of its elements, the next input takes its place
        if not draws:
            draws = rng.random(_DRAWS).tolist()[::-1]
        pick = int(draws.pop() * len(buffer))
        yield buffer[pick]
        buffer[pick] = item
    while buffer:  # the input is exhausted: empty the buffer in random order
        if not draws:
            draws = rng.random(_DRAWS).tolist()[::-1]
        pick = int(draws.pop() * len(buffer))
        buffer[pick], buffer[-1] = buffer[-1], buffer[pick]
        yield buffer.pop()


class ShuffleDataset(Dataset):
    """``upstream.shuffle(buffer_size, seed, reshuffle_each_iteration)``.

    Each iteration draws from its own NumPy generator: with a ``seed``, generator
    ``(seed, iteration)`` (or ``seed`` alone when ``reshuffle_each_iteration`` is False);
    without one, a seed taken from lamina's global generator when the iteration starts (once, at
    the first iteration, when not reshuffling), so ``lamina.random.set_seed`` makes every
    iteration repeatable.
    """

    def __init__(self, upstream: Dataset, buffer_size: int, seed: int | None, reshuffle: bool):
        self.upstream, self.buffer_size, self.seed, self.reshuffle = upstream, buffer_size, seed, reshuffle
        self.iterations = 0  # how many iterations have started: the next one's generator
        self.fixed_seed: int | None = None

    def _generator(self) -> np.random.Generator:
        iteration = self.iterations
        self.iterations += 1
        if self.seed is not None:
            return np.random.default_rng([self.seed, iteration] if self.reshuffle else self.seed)
        if self.reshuffle:
            return np.random.default_rng(int(backend.global_rng().integers(2**63)))
        if self.fixed_seed is None:
            self.fixed_seed = int(backend.global_rng().integers(2**63))
        return np.random.default_rng(self.fixed_seed)

    def _row_plan(self) -> rows.RowPlan | None:
        plan = self.upstream._row_plan()
        if plan is None:
            return None

        def chunks() -> Iterator[rows.Chunk]:
            numbers = rows.row_numbers(plan.chunks())
            return rows.regroup(buffer_shuffle(numbers, self.buffer_size, self._generator()))
        return plan.with_chunks(chunks)

    def _elements(self) -> Iterator[Any]:
        return buffer_shuffle(self.upstream._iterate(), self.buffer_size, self._generator())

    def _cardinality(self) -> int:
        return self.upstream._cardinality()

    def _spec(self) -> Any:
        return self.upstream._spec()
