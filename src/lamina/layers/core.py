"""Layers that apply a fixed function: ``Activation`` and ``Identity``."""
from __future__ import annotations

from typing import Any

from .. import activations
from .layer import Layer


class Activation(Layer):
    """Applies an activation function to its input.

    >>> import numpy as np, lamina
    >>> lamina.layers.Activation("relu")(np.array([[-1.0, 2.0]])).tolist()
    [[0.0, 2.0]]
    """

    def __init__(self, activation: Any, **kwargs):
        super().__init__(**kwargs)
        self.activation = activations.get(activation)

    def call(self, inputs):
        return self.activation(inputs)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "activation": activations.serialize(self.activation)}


class Identity(Layer):
    """Passes its input through unchanged (a placeholder where no operation is wanted).

    >>> import numpy as np, lamina
    >>> lamina.layers.Identity()(np.ones((2, 3))).shape
    (2, 3)
    """

    def call(self, inputs):
        return inputs

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)
