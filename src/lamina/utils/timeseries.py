"""``keras.utils.timeseries_dataset_from_array``: sliding windows over a timeseries, as a
``lamina.data`` (``tf.data``) dataset of batches.

Windows are cut when a batch is read (an index per window, one gather per batch), so a long
series is never copied once per window.

>>> import numpy as np, lamina
>>> ds = lamina.utils.timeseries_dataset_from_array(np.arange(10), None, sequence_length=4, sequence_stride=3)
>>> next(iter(ds)).numpy().tolist()
[[0, 1, 2, 3], [3, 4, 5, 6], [6, 7, 8, 9]]
"""
from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["timeseries_dataset_from_array"]


def _count(value, name: str, lowest: int, allow_none: bool = False) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < lowest:
        none = "None or " if allow_none else ""
        raise ValueError(f"timeseries_dataset_from_array's {name} must be {none}an int of at least {lowest}, "
                         f"got {value!r}")
    return int(value)


def _check_bounds(length: int, start_index, end_index, sampling_rate: int, sequence_stride: int) -> None:
    """Keras's checks (an index of 0 counts as not given, as there)."""
    if start_index:
        if start_index < 0 or start_index >= length:
            raise ValueError(f"start_index must be at least 0 and below the length of the data ({length}), "
                             f"got start_index={start_index}")
    if end_index:
        if start_index and end_index <= start_index:
            raise ValueError(f"end_index must be above start_index, got start_index={start_index} and "
                             f"end_index={end_index}")
        if end_index >= length or end_index <= 0:
            raise ValueError(f"end_index must be above 0 and below the length of the data ({length}), got "
                             f"end_index={end_index}")
    for name, value in (("sampling_rate", sampling_rate), ("sequence_stride", sequence_stride)):
        if value >= length:
            raise ValueError(f"{name} must be below the length of the data ({length}), got {name}={value}")


def _start_positions(count: int, sequence_stride: int, shuffle: bool, seed) -> np.ndarray:
    positions = np.arange(0, max(count, 0), sequence_stride)
    if shuffle:
        np.random.RandomState(seed).shuffle(positions)  # Keras's order of the windows for this seed
    return positions


def timeseries_dataset_from_array(data: Any, targets: Any, sequence_length: int, sequence_stride: int = 1,
                                  sampling_rate: int = 1, batch_size: int | None = 128, shuffle: bool = False,
                                  seed: int | None = None, start_index: int | None = None,
                                  end_index: int | None = None) -> Any:
    """A dataset of windows ``data[i], data[i + sampling_rate], ...`` (``sequence_length``
    steps each) starting every ``sequence_stride`` steps within ``data[start_index:end_index]``,
    with ``targets[i]`` for the window starting at ``i`` when ``targets`` is given (then the
    dataset yields ``(windows, targets)``), in batches of ``batch_size`` (None: single windows).
    ``shuffle`` draws the windows in Keras's order for ``seed``, then mixes them within a buffer
    of ``8 * batch_size`` (1024 without batches), as Keras does."""
    from ..backend import global_rng
    from ..data import Dataset
    data = np.asarray(data)
    if data.ndim == 0:
        raise ValueError("timeseries_dataset_from_array's data must be an array whose axis 0 is time, got a scalar")
    sequence_length = _count(sequence_length, "sequence_length", 1)
    sequence_stride = _count(sequence_stride, "sequence_stride", 1)
    sampling_rate = _count(sampling_rate, "sampling_rate", 1)
    batch_size = None if batch_size is None else _count(batch_size, "batch_size", 1, allow_none=True)
    _check_bounds(len(data), start_index, end_index, sampling_rate, sequence_stride)
    start = start_index or 0
    end = len(data) if end_index is None else end_index
    count = end - start - (sequence_length - 1) * sampling_rate
    target_rows = None
    if targets is not None:
        target_rows = np.asarray(targets)[start:end]
        count = min(count, len(np.asarray(targets)))
    if shuffle and seed is None:
        seed = int(global_rng().integers(1_000_000))
    positions = _start_positions(count, sequence_stride, shuffle, seed)
    series, offsets = data[start:end], np.arange(sequence_length) * sampling_rate

    def windows(rows):
        at = np.asarray(rows)
        cut = series[at[..., None] + offsets]
        return cut if target_rows is None else (cut, target_rows[at])

    dataset = Dataset.from_tensor_slices(positions)
    if shuffle:
        dataset = dataset.shuffle(8 * batch_size if batch_size else 1024, seed=seed)
    if batch_size is not None:
        dataset = dataset.batch(batch_size)
    return dataset.map(windows)
