"""Layers that only rearrange: ``Flatten`` and ``Reshape``."""
from __future__ import annotations


import math

import numpy as np

from .. import ops
from .layer import Layer


class Flatten(Layer):
    """Flattens each sample: ``(batch, 28, 28)`` becomes ``(batch, 784)``.

    >>> import numpy as np, lamina
    >>> lamina.layers.Flatten()(np.zeros((32, 28, 28))).shape
    (32, 784)
    """

    def __init__(self, data_format: str | None = None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = data_format

    def compute_output_shape(self, input_shape):
        rest = input_shape[1:]
        return (input_shape[0], None if None in rest else math.prod(rest))

    def call(self, inputs):
        return ops.reshape(inputs, (inputs.shape[0], -1))

    def fused_role(self) -> str | None:
        """``"flatten"``: first in a chain, the fused plan reads the rows flattened."""
        return "flatten" if type(self).call is Flatten.call else None

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format}


class Reshape(Layer):
    """Reshapes each sample to ``target_shape`` (batch dimension excluded); one entry may be -1,
    inferred from the others.

    >>> import numpy as np, lamina
    >>> lamina.layers.Reshape((3, 4))(np.zeros((2, 12))).shape
    (2, 3, 4)
    >>> lamina.layers.Reshape((-1, 2))(np.zeros((2, 12))).shape
    (2, 6, 2)
    """

    def __init__(self, target_shape: int | list[int] | tuple[int, ...], **kwargs):
        super().__init__(**kwargs)
        owner = f"Reshape '{self.name}'"
        if isinstance(target_shape, (int, np.integer)) and not isinstance(target_shape, bool):
            target_shape = (target_shape,)
        if not isinstance(target_shape, (list, tuple)) or not all(
                isinstance(d, (int, np.integer)) and not isinstance(d, bool) for d in target_shape):
            raise TypeError(f"{owner} expects target_shape to be a tuple of ints, got target_shape={target_shape!r}")
        target_shape = tuple(int(d) for d in target_shape)
        if target_shape.count(-1) > 1 or any(d < 1 and d != -1 for d in target_shape):
            raise ValueError(f"{owner} expects target_shape of positive ints with at most one -1, "
                             f"got target_shape={target_shape}")
        self.target_shape = target_shape

    def compute_output_shape(self, input_shape):
        sample = tuple(input_shape[1:])
        if -1 not in self.target_shape:
            if None not in sample and math.prod(sample) != math.prod(self.target_shape):
                raise ValueError(self._mismatch(sample))
            return (input_shape[0], *self.target_shape)
        if None in sample:
            return (input_shape[0], *(None if d == -1 else d for d in self.target_shape))
        known = -math.prod(self.target_shape)  # the product of the given entries
        if math.prod(sample) % known:
            raise ValueError(self._mismatch(sample))
        return (input_shape[0], *(math.prod(sample) // known if d == -1 else d for d in self.target_shape))

    def _mismatch(self, sample) -> str:
        return (f"Reshape '{self.name}' cannot reshape inputs of shape {(None, *sample)} ({math.prod(sample)} "
                f"values per sample) to target_shape={self.target_shape}")

    def call(self, inputs):
        target = self.compute_output_shape(inputs.shape)[1:]
        return ops.reshape(inputs, (inputs.shape[0], *target))

    def get_config(self):
        return {**super().get_config(), "target_shape": self.target_shape}
