"""Merge layers, as Keras 3's: ``Add``, ``Subtract``, ``Multiply``, ``Average``, ``Maximum``,
``Minimum``, ``Concatenate`` and ``Dot``, and their function forms (``add([a, b])``...).

Each takes a list of tensors. The elementwise ones broadcast as Keras does: the batch sizes
must agree, the per-sample shapes broadcast from the right (a dimension of 1 stretches), and an
input of lower rank gets axes of size 1 inserted after its batch axis. Shapes are checked when
the layer is called on symbolic tensors (before any data) and on every eager call, so a
mismatch is a ValueError naming the layer and the shapes, never a silent broadcast.

>>> import numpy as np, lamina
>>> lamina.layers.Add()([np.ones((2, 3)), np.full((2, 3), 2.0)]).numpy().tolist()
[[3.0, 3.0, 3.0], [3.0, 3.0, 3.0]]
>>> a, b = lamina.Input((3,)), lamina.Input((5,))
>>> lamina.layers.concatenate([a, b]).shape
(None, 8)
"""
from __future__ import annotations


from typing import Any

import numpy as np

from .. import ops
from .merge_base import Merge


class Add(Merge):
    """The elementwise sum of its inputs.

    >>> import numpy as np, lamina
    >>> lamina.layers.Add()([np.ones((1, 2)), np.ones((1, 2)), np.ones((1, 2))]).numpy().tolist()
    [[3.0, 3.0]]
    """

    def _merge_function(self, inputs):
        output = inputs[0]
        for x in inputs[1:]:
            output = ops.add(output, x)
        return output


class Subtract(Merge):
    """``inputs[0] - inputs[1]`` (exactly two inputs).

    >>> import numpy as np, lamina
    >>> lamina.layers.Subtract()([np.full((1, 2), 5.0), np.ones((1, 2))]).numpy().tolist()
    [[4.0, 4.0]]
    """

    min_inputs = max_inputs = 2

    def _merge_function(self, inputs):
        return ops.subtract(inputs[0], inputs[1])


class Multiply(Merge):
    """The elementwise product of its inputs.

    >>> import numpy as np, lamina
    >>> lamina.layers.Multiply()([np.full((1, 2), 3.0), np.full((1, 2), 2.0)]).numpy().tolist()
    [[6.0, 6.0]]
    """

    def _merge_function(self, inputs):
        output = inputs[0]
        for x in inputs[1:]:
            output = ops.multiply(output, x)
        return output


class Average(Merge):
    """The elementwise mean of its inputs.

    >>> import numpy as np, lamina
    >>> lamina.layers.Average()([np.zeros((1, 2)), np.full((1, 2), 4.0)]).numpy().tolist()
    [[2.0, 2.0]]
    """

    def _merge_function(self, inputs):
        output = inputs[0]
        for x in inputs[1:]:
            output = ops.add(output, x)
        return output / len(inputs)


class Maximum(Merge):
    """The elementwise maximum of its inputs.

    >>> import numpy as np, lamina
    >>> lamina.layers.Maximum()([np.array([[1.0, 5.0]]), np.array([[3.0, 2.0]])]).numpy().tolist()
    [[3.0, 5.0]]
    """

    def _merge_function(self, inputs):
        output = inputs[0]
        for x in inputs[1:]:
            output = ops.maximum(output, x)
        return output


class Minimum(Merge):
    """The elementwise minimum of its inputs.

    >>> import numpy as np, lamina
    >>> lamina.layers.Minimum()([np.array([[1.0, 5.0]]), np.array([[3.0, 2.0]])]).numpy().tolist()
    [[1.0, 2.0]]
    """

    def _merge_function(self, inputs):
        output = inputs[0]
        for x in inputs[1:]:
            output = ops.minimum(output, x)
        return output


class Concatenate(Merge):
    """The inputs joined along ``axis``; every other dimension must agree.

    >>> import numpy as np, lamina
    >>> lamina.layers.Concatenate(axis=1)([np.zeros((2, 2, 5)), np.ones((2, 1, 5))]).shape
    (2, 3, 5)
    """

    def __init__(self, axis: int = -1, **kwargs):
        super().__init__(**kwargs)
        if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
            raise TypeError(f"Concatenate '{self.name}' expects axis to be an int, got axis={axis!r}")
        self.axis = int(axis)

    def compute_output_shape(self, input_shape):
        shapes = self._input_shapes(input_shape)
        ranks = {len(s) for s in shapes}
        if len(ranks) > 1:
            raise self._mismatch(shapes, f"their ranks differ ({sorted(ranks)}); Concatenate needs inputs of one "
                                         "rank (add axes with Reshape or ops.expand_dims)")
        rank = ranks.pop()
        if not -rank <= self.axis < rank:
            raise ValueError(f"{self._owner} got axis={self.axis}, out of range for inputs of rank {rank} "
                             f"(shapes {shapes})")
        axis = self.axis % rank
        out = list(shapes[0])
        for i in range(rank):
            if i == axis:
                sizes = [s[i] for s in shapes]
                out[i] = None if None in sizes else sum(sizes)
                continue
            known = {s[i] for s in shapes} - {None}
            if len(known) > 1:
                raise self._mismatch(shapes, f"they must match on every axis but the concatenation axis "
                                             f"(axis={self.axis}), and axis {i} has sizes {sorted(known)}")
            out[i] = known.pop() if known else None
        return tuple(out)

    def call(self, inputs):
        if not isinstance(inputs, (list, tuple)):
            self._input_shapes(getattr(inputs, "shape", inputs))
        self.compute_output_shape([tuple(x.shape) for x in inputs])
        return ops.concatenate(list(inputs), axis=self.axis)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


class Dot(Merge):
    """Per-sample dot products of two tensors along ``axes`` (one int for both, or one per
    input; never the batch axis 0), optionally of L2-normalized inputs (cosine similarity).
    The result drops the summed axes (and the second input's batch axis); a result of rank 1
    becomes ``(batch, 1)``.

    >>> import numpy as np, lamina
    >>> x, y = np.arange(10.0).reshape(1, 5, 2), np.arange(10.0, 20.0).reshape(1, 2, 5)
    >>> lamina.layers.Dot(axes=(1, 2))([x, y]).numpy().tolist()
    [[[260.0, 360.0], [320.0, 445.0]]]
    """

    min_inputs = max_inputs = 2

    def __init__(self, axes: int | tuple[int, int] | list[int], normalize: bool = False, **kwargs):
        super().__init__(**kwargs)
        if isinstance(axes, (list, tuple)):
            if len(axes) != 2:
                raise ValueError(f"Dot '{self.name}' expects axes to be an int or a pair of ints (one per input), "
                                 f"got axes={axes!r}")
            axes = list(axes)
        if not all(isinstance(a, (int, np.integer)) and not isinstance(a, bool)
                   for a in (axes if isinstance(axes, list) else [axes])):
            raise TypeError(f"Dot '{self.name}' expects axes to be an int or a pair of ints, got axes={axes!r}")
        self.axes = [int(a) for a in axes] if isinstance(axes, list) else int(axes)
        self.normalize = bool(normalize)

    def _axes_for(self, shapes) -> list[int]:
        pair = self.axes if isinstance(self.axes, list) else [self.axes, self.axes]
        out = []
        for axis, shape in zip(pair, shapes):
            if len(shape) < 2:
                raise self._mismatch(shapes, "Dot needs inputs of rank 2 or more (a batch axis and a dot axis)")
            if not -len(shape) <= axis < len(shape) or axis % len(shape) == 0:
                raise ValueError(f"{self._owner} got axes={self.axes}, which for inputs of shapes {shapes} names "
                                 "the batch axis or no axis at all; pick axes between 1 and rank - 1")
            out.append(axis % len(shape))
        return out

    def compute_output_shape(self, input_shape):
        shapes = self._input_shapes(input_shape)
        self._check_batch(shapes)
        first, second = self._axes_for(shapes)
        size1, size2 = shapes[0][first], shapes[1][second]
        if size1 is not None and size2 is not None and size1 != size2:
            raise self._mismatch(shapes, f"the dot axes have different sizes ({size1} at axis {first} of the first "
                                         f"input, {size2} at axis {second} of the second)")
        out = [d for i, d in enumerate(shapes[0]) if i != first]
        out += [d for i, d in enumerate(shapes[1]) if i not in (0, second)]
        if out[0] is None:
            out[0] = shapes[1][0]
        return tuple(out) if len(out) > 1 else (*out, 1)

    def call(self, inputs):
        if not isinstance(inputs, (list, tuple)):
            self._input_shapes(getattr(inputs, "shape", inputs))
        output_shape = self.compute_output_shape([tuple(x.shape) for x in inputs])
        x, y = inputs
        first, second = self._axes_for([x.shape, y.shape])
        if self.normalize:
            x, y = ops.normalize(x, axis=first), ops.normalize(y, axis=second)
        x = ops.moveaxis(x, first, -1)  # (batch, *rest of x, k)
        y = ops.moveaxis(y, second, 1)  # (batch, k, *rest of y)
        batch, size = x.shape[0], x.shape[-1]
        product = ops.matmul(ops.reshape(x, (batch, -1, size)), ops.reshape(y, (y.shape[0], size, -1)))
        return ops.reshape(product, (product.shape[0], *output_shape[1:]))

    def get_config(self):
        return {**super().get_config(), "axes": self.axes, "normalize": self.normalize}


def add(inputs, **kwargs) -> Any:
    """``Add(**kwargs)(inputs)``: the elementwise sum of a list of tensors."""
    return Add(**kwargs)(inputs)


def subtract(inputs, **kwargs) -> Any:
    """``Subtract(**kwargs)(inputs)``: ``inputs[0] - inputs[1]``."""
    return Subtract(**kwargs)(inputs)


def multiply(inputs, **kwargs) -> Any:
    """``Multiply(**kwargs)(inputs)``: the elementwise product of a list of tensors."""
    return Multiply(**kwargs)(inputs)


def average(inputs, **kwargs) -> Any:
    """``Average(**kwargs)(inputs)``: the elementwise mean of a list of tensors."""
    return Average(**kwargs)(inputs)


def maximum(inputs, **kwargs) -> Any:
    """``Maximum(**kwargs)(inputs)``: the elementwise maximum of a list of tensors."""
    return Maximum(**kwargs)(inputs)


def minimum(inputs, **kwargs) -> Any:
    """``Minimum(**kwargs)(inputs)``: the elementwise minimum of a list of tensors."""
    return Minimum(**kwargs)(inputs)


def concatenate(inputs, axis: int = -1, **kwargs):
    """``Concatenate(axis=axis, **kwargs)(inputs)``: the inputs joined along ``axis``.

    >>> import numpy as np, lamina
    >>> lamina.layers.concatenate([np.ones((2, 1)), np.zeros((2, 2))]).shape
    (2, 3)
    """
    return Concatenate(axis=axis, **kwargs)(inputs)


def dot(inputs, axes=-1, **kwargs) -> Any:
    """``Dot(axes=axes, **kwargs)(inputs)``: per-sample dot products of two tensors.

    >>> import numpy as np, lamina
    >>> lamina.layers.dot([np.ones((2, 3)), np.full((2, 3), 2.0)], axes=1).numpy().tolist()
    [[6.0], [6.0]]
    """
    return Dot(axes=axes, **kwargs)(inputs)


__all__ = ["Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate", "Dot",
           "add", "subtract", "multiply", "average", "maximum", "minimum", "concatenate", "dot"]
