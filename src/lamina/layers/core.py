"""Layers that apply a fixed function: ``Activation`` and ``Identity``."""
from __future__ import annotations

import numpy as np

from .. import activations
from .layer import Layer


class Activation(Layer):
    """Applies an activation function to its input.

    >>> import numpy as np, lamina
    >>> lamina.layers.Activation("relu")(np.array([[-1.0, 2.0]])).tolist()
    [[0.0, 2.0]]
    """

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.activation = activations.get(activation)

    def forward(self, x, training=False):
        # A new output array: the input may be a previous layer's output that its backward still needs.
        y = self.activation.forward(x, np.empty_like(x))
        return y, (x, y)

    def backward(self, ctx, dy):
        x, y = ctx
        return self.activation.backward(dy, y, x), []

    def get_config(self):
        return {**super().get_config(), "activation": activations.serialize(self.activation)}


class Identity(Layer):
    """Passes its input through unchanged (a placeholder where no operation is wanted).

    >>> import numpy as np, lamina
    >>> lamina.layers.Identity()(np.ones((2, 3))).shape
    (2, 3)
    """

    def forward(self, x, training=False):
        return x, None

    def backward(self, ctx, dy):
        return dy, []
