"""``split_dataset``: cut a dataset into a left and a right part (e.g. train / validation), as
two ``tf.data`` datasets (``lamina.data``), as Keras does.
"""
from __future__ import annotations

import numpy as np

from .. import backend


def split_dataset(dataset, left_size=None, right_size=None, shuffle: bool = False, seed: int | None = None):
    """Split along the first axis: the first ``left_size`` samples, and the last ``right_size``,
    each as a ``lamina.data.Dataset`` of samples (of tuples, for a tuple or list of arrays).

    ``dataset``: an array, a tuple or list of arrays, or an unbatched ``lamina.data.Dataset``.
    A float size is a fraction of the samples (rounded), an int a count; a missing size is the
    complement of the other. With ``shuffle`` the samples are permuted first (by ``seed``, else
    by lamina's global random state; the order differs from Keras's).

    >>> left, right = split_dataset(np.arange(10), left_size=0.8)
    >>> [int(v) for v in left], [int(v) for v in right]
    ([0, 1, 2, 3, 4, 5, 6, 7], [8, 9])
    """
    from ..data import Dataset
    arrays, is_sequence = _as_arrays(_dataset_arrays(dataset) if isinstance(dataset, Dataset) else dataset)
    total = len(arrays[0])
    left_size, right_size = _split_sizes(left_size, right_size, total)
    order = np.arange(total)
    if shuffle:
        order = backend.make_rng(seed).permutation(total)
    left_index, right_index = order[:left_size], order[total - right_size:]
    left = tuple(a[left_index] for a in arrays)
    right = tuple(a[right_index] for a in arrays)
    if not is_sequence:
        return Dataset.from_tensor_slices(left[0]), Dataset.from_tensor_slices(right[0])
    return Dataset.from_tensor_slices(left), Dataset.from_tensor_slices(right)


def _dataset_arrays(dataset):
    """A dataset's samples stacked back into an array (or a tuple of arrays, for tuple samples)."""
    samples = list(dataset.as_numpy_iterator())
    if not samples:
        raise ValueError("split_dataset got an empty dataset")
    if isinstance(samples[0], tuple):
        return tuple(np.stack([sample[i] for sample in samples]) for i in range(len(samples[0])))
    if isinstance(samples[0], dict):
        raise TypeError("split_dataset takes a dataset of arrays or of tuples of arrays, not of dicts")
    return np.stack(samples)


def _as_arrays(dataset):
    if isinstance(dataset, np.ndarray):
        arrays, is_sequence = [dataset], False
    elif isinstance(dataset, (tuple, list)) and dataset and all(isinstance(a, np.ndarray) for a in dataset):
        arrays, is_sequence = list(dataset), True
    else:
        raise TypeError(f"split_dataset expects a NumPy array, a non-empty tuple/list of NumPy arrays or a "
                        f"lamina.data.Dataset, got {type(dataset).__name__}")
    lengths = [len(a) if a.ndim else None for a in arrays]
    if None in lengths or len(set(lengths)) != 1 or lengths[0] == 0:
        raise ValueError(f"split_dataset expects non-empty arrays with the same number of samples, "
                         f"got shapes {[a.shape for a in arrays]}")
    return arrays, is_sequence


def _split_sizes(left_size, right_size, total: int) -> tuple[int, int]:
    if left_size is None and right_size is None:
        raise ValueError("split_dataset needs left_size or right_size, got left_size=None and right_size=None")
    sizes = {}
    for arg, size in (("left_size", left_size), ("right_size", right_size)):
        if size is None:
            continue
        if isinstance(size, bool) or not isinstance(size, (int, float, np.integer, np.floating)):
            raise TypeError(f"split_dataset expects {arg} to be an int, a float or None, got {size!r}")
        if isinstance(size, (float, np.floating)):
            if not 0 < size < 1:
                raise ValueError(f"split_dataset expects a float {arg} in (0, 1), got {arg}={size}")
            size = round(size * total)
        elif not 0 < size < total:
            raise ValueError(f"split_dataset expects an int {arg} in (0, {total}) for {total} samples, "
                             f"got {arg}={size}")
        sizes[arg] = int(size)
    left = sizes.get("left_size", total - sizes.get("right_size", 0))
    right = sizes.get("right_size", total - left)
    if left + right > total:
        raise ValueError(f"split_dataset: left_size + right_size = {left + right} exceeds the {total} samples "
                         f"(left_size={left_size}, right_size={right_size})")
    if left == 0 or right == 0:
        raise ValueError(f"split_dataset: with {total} samples, left_size={left_size} and right_size={right_size} "
                         f"leave the {'left' if left == 0 else 'right'} split empty")
    return left, right
