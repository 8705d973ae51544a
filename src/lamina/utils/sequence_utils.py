"""``keras.utils.pad_sequences``: a list of sequences of different lengths as one array.

>>> import lamina
>>> lamina.utils.pad_sequences([[1], [2, 3], [4, 5, 6]], maxlen=2).tolist()
[[0, 1], [2, 3], [5, 6]]
"""
from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["pad_sequences"]


def _lengths_and_sample_shape(sequences) -> tuple[list, tuple]:
    """Each sequence's length, and the shape of one step (``()`` for scalars) from the first
    non-empty sequence."""
    lengths, sample_shape, found = [], (), False
    for index, sequence in enumerate(sequences):
        if not hasattr(sequence, "__len__"):
            raise ValueError(f"pad_sequences expects a list of sequences; item {index} is {sequence!r:.80}, "
                             "which has no length")
        lengths.append(len(sequence))
        if not found and len(sequence):
            sample_shape, found = np.asarray(sequence).shape[1:], True
    return lengths, sample_shape


def _check_choice(name: str, value) -> None:
    if value not in ("pre", "post"):
        raise ValueError(f"pad_sequences' {name} must be 'pre' or 'post', got {value!r}")


def pad_sequences(sequences: Any, maxlen: int | None = None, dtype: Any = "int32", padding: str = "pre",
                  truncating: str = "pre", value: Any = 0.0) -> np.ndarray:
    """An array of shape ``(len(sequences), maxlen) + step_shape``: each sequence cut to its last
    (``truncating="pre"``) or first (``"post"``) ``maxlen`` steps, then filled with ``value``
    before (``padding="pre"``) or after (``"post"``) it. ``maxlen`` defaults to the longest
    sequence; ``dtype`` is the array's (``object`` or a string dtype for strings)."""
    if not hasattr(sequences, "__len__"):
        raise ValueError(f"pad_sequences expects a list of sequences, got {type(sequences).__name__}")
    _check_choice("padding", padding)
    _check_choice("truncating", truncating)
    lengths, sample_shape = _lengths_and_sample_shape(sequences)
    if maxlen is None:
        if not lengths:
            raise ValueError("pad_sequences got no sequences and no maxlen: the padded length is unknown")
        maxlen = int(np.max(lengths))
    elif isinstance(maxlen, bool) or not isinstance(maxlen, (int, np.integer)) or maxlen < 0:
        raise ValueError(f"pad_sequences' maxlen must be None or a non-negative int, got {maxlen!r}")
    textual = np.issubdtype(dtype, np.str_) or np.issubdtype(dtype, np.bytes_)
    if isinstance(value, str) and dtype is not object and not textual:
        raise ValueError(f"pad_sequences' value {value!r} is a string but dtype is {dtype}: pass dtype=object "
                         "for strings of any length")
    padded = np.full((len(sequences), maxlen) + sample_shape, value, dtype=dtype)
    for index, sequence in enumerate(sequences):
        if not len(sequence) or not maxlen:
            continue
        kept = np.asarray(sequence[-maxlen:] if truncating == "pre" else sequence[:maxlen], dtype=dtype)
        if kept.shape[1:] != sample_shape:
            raise ValueError(f"pad_sequences: the steps of sequence {index} have shape {kept.shape[1:]}, those "
                             f"of the first non-empty sequence {sample_shape}")
        if padding == "post":
            padded[index, :len(kept)] = kept
        else:
            padded[index, -len(kept):] = kept
    return padded
