"""``Merge``: the base of Keras's elementwise merge layers (``Add``, ``Multiply``...), with
Keras's shape rules: batch sizes agree, per-sample shapes broadcast from the right, and an input
of lower rank gets axes of size 1 after its batch axis."""
from __future__ import annotations

import numpy as np

from .. import ops
from ..backend.keras_tensor import KerasTensor
from .layer import Layer


def _is_shape(value) -> bool:
    return isinstance(value, (tuple, list)) and all(d is None or isinstance(d, (int, np.integer)) for d in value)


class Merge(Layer):
    """The base of the elementwise merge layers: a list of inputs, one output."""

    min_inputs = 1
    max_inputs: int | None = None

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    @property
    def _owner(self) -> str:
        return f"{type(self).__name__} '{self.name}'"

    def _input_shapes(self, input_shape) -> list[tuple]:
        """``input_shape`` as a list of shape tuples, or a ValueError saying what came."""
        if not isinstance(input_shape, (tuple, list)) or not input_shape or not all(_is_shape(s) for s in input_shape):
            raise ValueError(f"{self._owner} should be called on a list of tensors (e.g. {type(self).__name__}()"
                             f"([a, b])), got inputs of shape {input_shape!r:.200}")
        count = len(input_shape)
        if count < self.min_inputs or (self.max_inputs is not None and count > self.max_inputs):
            expected = (f"exactly {self.max_inputs}" if self.max_inputs == self.min_inputs
                        else f"at least {self.min_inputs}")
            raise ValueError(f"{self._owner} should be called on {expected} inputs, got {count} inputs "
                             f"of shapes {[tuple(s) for s in input_shape]}")
        return [tuple(s) for s in input_shape]

    def _mismatch(self, shapes, why: str) -> ValueError:
        return ValueError(f"{self._owner} cannot merge inputs of shapes {shapes}: {why}")

    def _check_batch(self, shapes: list[tuple]) -> None:
        batch_sizes = {s[0] for s in shapes if s} - {None}
        if len(batch_sizes) > 1:
            raise self._mismatch(shapes, f"their batch sizes differ ({sorted(batch_sizes)})")

    def _broadcast(self, shapes: list[tuple], first: tuple, second: tuple) -> tuple:
        """The broadcast of two per-sample shapes (None where unknown), as Keras computes it."""
        if len(first) < len(second):
            first, second = second, first
        if not second:
            return first
        out = list(first[: len(first) - len(second)])
        for i, j in zip(first[len(first) - len(second):], second):
            if i is None or j is None:
                out.append(None)
            elif i == 1 or j == 1 or i == j:
                out.append(j if i == 1 else i)
            else:
                raise self._mismatch(shapes, f"dimensions {i} and {j} do not broadcast (each must be equal, or 1). "
                                             "Reshape or project the inputs to a common shape first")
        return tuple(out)

    def compute_output_shape(self, input_shape):
        shapes = self._input_shapes(input_shape)
        self._check_batch(shapes)
        sample = shapes[0][1:]
        for shape in shapes[1:]:
            sample = self._broadcast(shapes, sample, shape[1:])
        batch_sizes = {s[0] for s in shapes if s} - {None}
        return (batch_sizes.pop() if batch_sizes else None, *sample)

    def compute_output_spec(self, inputs, **kwargs):
        if not isinstance(inputs, (list, tuple)):
            self._input_shapes(getattr(inputs, "shape", inputs))
        shape = self.compute_output_shape([tuple(x.shape) for x in inputs])
        return KerasTensor(shape, dtype=self.dtype)

    def build(self, input_shape):
        self.compute_output_shape(input_shape)  # the shape checks, before any data
        self.built = True

    def call(self, inputs):
        if not isinstance(inputs, (list, tuple)):
            self._input_shapes(getattr(inputs, "shape", inputs))
        self.compute_output_shape([tuple(x.shape) for x in inputs])
        rank = max(x.ndim for x in inputs)
        inputs = [_expand_after_batch(x, rank) for x in inputs]
        return self._merge_function(inputs)

    def _merge_function(self, inputs: list):
        raise NotImplementedError

    def get_config(self):
        return super().get_config()


def _expand_after_batch(x, rank: int):
    """``x`` with axes of size 1 inserted after its batch axis up to ``rank`` (Keras's rule for
    merging inputs of different ranks)."""
    while x.ndim < rank:
        x = ops.expand_dims(x, 1)
    return x
