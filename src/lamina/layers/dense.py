"""``Dense``: ``activation(inputs @ kernel + bias)``."""
from __future__ import annotations

import numpy as np

from .. import activations, constraints, initializers, regularizers
from .layer import Layer


class Dense(Layer):
    """A fully connected layer.

    >>> import lamina
    >>> layer = lamina.layers.Dense(300, activation="relu")
    >>> layer(np.zeros((32, 784))).shape
    (32, 300)
    >>> [w.shape for w in layer.weights]
    [(784, 300), (300,)]
    """

    def __init__(self, units: int, activation=None, use_bias: bool = True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros", kernel_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
                 bias_constraint=None, **kwargs):
        super().__init__(**kwargs)
        if isinstance(units, bool) or not isinstance(units, (int, np.integer)):
            raise TypeError(f"Dense '{self.name}' expects units to be a positive int, got {units!r}")
        if units < 1:
            raise ValueError(f"Dense '{self.name}' expects units to be a positive int, got units={units}")
        self.units = int(units)
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.activity_regularizer = regularizers.get(activity_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.kernel = self.bias = None

    def build(self, input_shape):
        in_features = input_shape[-1]
        if in_features is None:
            raise ValueError(f"Dense '{self.name}' needs a known last input dimension, got {input_shape}")
        self.kernel = self.add_weight((in_features, self.units), self.kernel_initializer, name="kernel",
                                      regularizer=self.kernel_regularizer, constraint=self.kernel_constraint)
        if self.use_bias:
            self.bias = self.add_weight((self.units,), self.bias_initializer, name="bias",
                                        regularizer=self.bias_regularizer, constraint=self.bias_constraint)
        self.built = True

    def check_input(self, x):
        if x.ndim < 2 or x.shape[-1] != self.kernel.shape[0]:
            raise ValueError(f"Dense '{self.name}' expects inputs with last dimension "
                             f"{self.kernel.shape[0]}, got {x.shape}")

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.units)

    def forward(self, x, training=False):
        z = x @ self.kernel.value
        if self.use_bias:
            z += self.bias.value
        y = self.activation.forward(z, np.empty_like(z) if self.activation.needs_input else z)
        return y, (x, z, y)

    def backward(self, ctx, dy, skip_activation=False):
        """With ``skip_activation`` ``dy`` is already the gradient of the pre-activation."""
        x, z, y = ctx
        if self.activity_regularizer is not None and not skip_activation:
            dy = dy + self.activity_regularizer.grad(y)
        dz = dy if skip_activation else self.activation.backward(dy, y, z)
        x2, dz2 = x.reshape(-1, x.shape[-1]), dz.reshape(-1, self.units)
        grads = [x2.T @ dz2, dz2.sum(axis=0)] if self.use_bias else [x2.T @ dz2]
        return dz @ self.kernel.value.T, grads

    def activity_penalty(self, ctx) -> float:
        """``activity_regularizer(outputs)``, added to the loss as Keras 3 adds it (not divided
        by the batch size, unlike tf.keras 2)."""
        return 0.0 if self.activity_regularizer is None else float(self.activity_regularizer(ctx[2]))

    def get_config(self):
        config = {**super().get_config(), "units": self.units,
                  "activation": self.activation.name, "use_bias": self.use_bias,
                  "kernel_initializer": initializers.serialize(self.kernel_initializer),
                  "bias_initializer": initializers.serialize(self.bias_initializer),
                  "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
                  "bias_regularizer": regularizers.serialize(self.bias_regularizer),
                  "kernel_constraint": constraints.serialize(self.kernel_constraint),
                  "bias_constraint": constraints.serialize(self.bias_constraint)}
        if self.activity_regularizer is not None:  # Keras writes the key only when one is set
            config["activity_regularizer"] = regularizers.serialize(self.activity_regularizer)
        return config
