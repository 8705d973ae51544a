"""Layers that only rearrange: ``Flatten``."""
from __future__ import annotations

import math

from .layer import Layer


class Flatten(Layer):
    """Flattens each sample: ``(batch, 28, 28)`` becomes ``(batch, 784)``.

    >>> import numpy as np, lamina
    >>> lamina.layers.Flatten()(np.zeros((32, 28, 28))).shape
    (32, 784)
    """

    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = data_format

    def compute_output_shape(self, input_shape):
        rest = input_shape[1:]
        return (input_shape[0], None if None in rest else math.prod(rest))

    def forward(self, x, training=False):
        return x.reshape(x.shape[0], -1), x.shape

    def backward(self, ctx, dy):
        return dy.reshape(ctx), []

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format}
