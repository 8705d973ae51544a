"""``CategoryEncoding``: integer category ids as one-hot, multi-hot or count vectors.

>>> import numpy as np, lamina
>>> lamina.layers.CategoryEncoding(num_tokens=4, output_mode="one_hot")(np.array([3, 0])).numpy().tolist()
[[0.0, 0.0, 0.0, 1.0], [1.0, 0.0, 0.0, 0.0]]
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .. import ops
from .layer import Layer

_MODES = ("one_hot", "multi_hot", "count")


class CategoryEncoding(Layer):
    """Encodes ids in ``[0, num_tokens)``: ``"multi_hot"`` (the default: a 1 for each id a sample
    has), ``"one_hot"`` (a vector per id; a trailing axis of 1 is dropped first) or ``"count"`` (how
    often each id occurs, optionally weighted by ``count_weights``). A sample is a row of a 2-D input;
    a 1-D input is one sample in the ``multi_hot`` and ``count`` modes and one id per sample in
    ``one_hot``, as in Keras. Ids out of range are refused (Keras's JAX backend gives zeros,
    TensorFlow raises). ``sparse=True`` is refused: lamina has no sparse tensors."""

    def __init__(self, num_tokens: int, output_mode: str = "multi_hot", sparse: bool = False, **kwargs):
        super().__init__(**kwargs)
        owner = f"CategoryEncoding '{self.name}'"
        output_mode = "multi_hot" if output_mode == "binary" else output_mode  # Keras's older name
        if output_mode not in _MODES:
            raise ValueError(f"{owner} expects output_mode to be one of {list(_MODES)}, got {output_mode!r}")
        if isinstance(num_tokens, bool) or not isinstance(num_tokens, (int, np.integer)) or num_tokens < 1:
            raise ValueError(f"{owner} expects num_tokens to be an integer >= 1, got num_tokens={num_tokens!r}")
        if sparse:
            raise ValueError(f"{owner}: sparse=True is not supported (lamina has no sparse tensors)")
        self.num_tokens, self.output_mode, self.sparse = int(num_tokens), output_mode, False

    def compute_output_shape(self, input_shape):
        shape = tuple(input_shape)
        if not shape:
            return (self.num_tokens,)
        if self.output_mode == "one_hot" and (shape[-1] != 1 or len(shape) == 1):
            return (*shape, self.num_tokens)
        return (*shape[:-1], self.num_tokens)

    def call(self, inputs, count_weights: Any = None):
        owner = f"CategoryEncoding '{self.name}'"
        if count_weights is not None and self.output_mode != "count":
            raise ValueError(f"{owner}: count_weights is only used with output_mode='count', "
                             f"not {self.output_mode!r}")
        ids = np.asarray(ops.convert_to_numpy(inputs))
        if ids.dtype.kind not in "iuf" or (ids.dtype.kind == "f" and not np.array_equal(ids, np.round(ids))):
            raise ValueError(f"{owner} expects integer category ids, got inputs of dtype {ids.dtype}")
        ids = ids.astype(np.int64)
        if ids.ndim == 0:  # one id: one sample
            ids = ids.reshape(1)
        if ids.size and (ids.min() < 0 or ids.max() >= self.num_tokens):
            bad = ids[(ids < 0) | (ids >= self.num_tokens)].flat[0]
            raise ValueError(f"{owner} has ids in [0, {self.num_tokens}), got id {bad}")
        if self.output_mode == "multi_hot":
            return ops.multi_hot(ids, self.num_tokens, dtype=self.dtype)
        if self.output_mode == "one_hot":
            return ops.one_hot(ids[..., 0] if ids.ndim > 1 and ids.shape[-1] == 1 else ids, self.num_tokens,
                               dtype=self.dtype)
        encoded = ops.one_hot(ids, self.num_tokens, dtype=self.dtype)
        if count_weights is not None:
            encoded = encoded * ops.expand_dims(ops.cast(count_weights, self.dtype), -1)
        return ops.sum(encoded, axis=1 if ids.ndim > 1 else 0)

    def get_config(self):
        return {**super().get_config(), "num_tokens": self.num_tokens, "output_mode": self.output_mode}
