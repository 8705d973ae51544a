"""``InputLayer`` and ``Input``: where a model's data comes in.

``Input(shape)`` returns a symbolic tensor (``KerasTensor``) made by an ``InputLayer``; layers
called on it build a Functional graph. A Sequential also takes the ``Input(...)`` tensor (or an
``InputLayer``) as its first entry to know its input shape.
"""
from __future__ import annotations

import numpy as np

from .._types import DTypeLike, ShapeLike
from ..backend.keras_tensor import KerasTensor
from .layer import Layer, as_shape
from .node import Node, input_tensor


class InputLayer(Layer):
    """The layer of a model's input: ``shape=`` per sample (or ``batch_shape=``).

    >>> import lamina
    >>> layer = lamina.layers.InputLayer(shape=(28, 28))
    >>> layer.shape, layer.batch_shape
    ((28, 28), (None, 28, 28))
    """

    def __init__(self, shape: ShapeLike | None = None, batch_size: int | None = None, dtype: DTypeLike = None,
                 sparse: bool | None = None, batch_shape: ShapeLike | None = None,
                 input_tensor: KerasTensor | None = None, optional: bool = False, name: str | None = None,
                 input_shape: ShapeLike | None = None, **kwargs):
        ids = _integer_dtype(dtype)  # integer ids for an Embedding: the input layer computes nothing
        super().__init__(name=name, dtype=None if ids else dtype, **kwargs)
        if ids:
            self.dtype = ids
        given = [s for s in (shape, batch_shape, input_shape) if s is not None]
        if len(given) != 1:
            raise ValueError(f"InputLayer '{self.name}' expects exactly one of shape=, batch_shape= "
                             f"or input_shape=, got {len(given)}")
        if sparse:
            raise ValueError(f"InputLayer '{self.name}': sparse inputs are not supported (lamina has no sparse "
                             "tensors); pass dense arrays")
        if batch_shape is not None:
            batch_shape = as_shape(batch_shape, "batch_shape", f"InputLayer '{self.name}'")
            if not batch_shape:
                raise ValueError(f"InputLayer '{self.name}' expects batch_shape to start with the batch size "
                                 f"(or None), got batch_shape={batch_shape!r}; e.g. batch_shape=(None, 784)")
            batch_size, shape = batch_shape[0], batch_shape[1:]
        else:
            shape = as_shape(shape if shape is not None else input_shape, "shape", f"InputLayer '{self.name}'")
        self.shape = tuple(shape)
        self.batch_size = batch_size
        self.sparse = False
        self.optional = bool(optional)
        self.built = True
        Node(self, (), {}, input_tensor_for(self))  # its output: ``self.output``

    @property
    def batch_shape(self) -> tuple:
        return (self.batch_size, *self.shape)

    @property
    def output_shape(self) -> tuple:
        return self.batch_shape

    def get_config(self):
        return {"batch_shape": list(self.batch_shape), "dtype": self.dtype, "sparse": False, "name": self.name}


def _integer_dtype(dtype) -> str | None:
    """The name of an integer dtype (``"int32"``, ``np.int64``...), else None (floats and policies go
    to the layer's own check)."""
    if not isinstance(dtype, (str, type, np.dtype)):
        return None
    try:
        found = np.dtype(dtype)
    except TypeError:
        return None
    return found.name if found.kind in "iu" else None


def input_tensor_for(layer: InputLayer):
    """The symbolic tensor an ``InputLayer`` gives: its shape, dtype, name and batch size."""
    return input_tensor(layer.shape, layer.dtype, f"{layer.name}", layer.batch_size)


def Input(shape=None, batch_size=None, dtype=None, sparse=None, batch_shape=None, name=None, tensor=None,
          optional=False) -> KerasTensor:
    """A symbolic input of per-sample ``shape`` (``keras.Input``): call layers on it, then build
    ``Model(inputs, outputs)``; or put it first in a ``Sequential``.

    >>> import lamina
    >>> lamina.Input(shape=(784,), name="digits").shape
    (None, 784)
    """
    if tensor is not None:
        raise ValueError("Input(tensor=...) is not supported: lamina's inputs are symbolic placeholders")
    layer = InputLayer(shape=shape, batch_size=batch_size, dtype=dtype, sparse=sparse, batch_shape=batch_shape,
                       name=name, optional=optional)
    return layer.output
