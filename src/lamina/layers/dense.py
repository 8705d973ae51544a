"""``Dense``: ``activation(inputs @ kernel + bias)``, one fused tape node per call."""
from __future__ import annotations

import numpy as np

from .. import activations, constraints, initializers, ops, regularizers
from .._types import ActivationLike, ConstraintLike, InitializerLike, RegularizerLike
from ..ops.buffers import Recycler
from ..ops.primitive import RAW
from .fused import FusedCall
from .layer import Layer


class Dense(FusedCall, Layer):
    """A fully connected layer, applied to the last axis of its input.

    >>> import numpy as np, lamina
    >>> layer = lamina.layers.Dense(300, activation="relu")
    >>> layer(np.zeros((32, 784))).shape
    (32, 300)
    >>> [w.shape for w in layer.weights]
    [(784, 300), (300,)]
    """


    def __init__(self, units: int, activation: ActivationLike = None, use_bias: bool = True,
                 kernel_initializer: InitializerLike = "glorot_uniform", bias_initializer: InitializerLike = "zeros",
                 kernel_regularizer: RegularizerLike = None, bias_regularizer: RegularizerLike = None,
                 activity_regularizer: RegularizerLike = None, kernel_constraint: ConstraintLike = None,
                 bias_constraint: ConstraintLike = None, lora_rank: int | None = None, lora_alpha: float | None = None,
                 **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        if isinstance(units, bool) or not isinstance(units, (int, np.integer)):
            raise TypeError(f"Dense '{self.name}' expects units to be a positive int, got {units!r}")
        if units < 1:
            raise ValueError(f"Dense '{self.name}' expects units to be a positive int, got units={units}")
        if lora_rank:
            raise ValueError(f"Dense '{self.name}': LoRA (lora_rank) is not supported by lamina")
        self.units = int(units)
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
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

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.units)

    @property
    def fused(self) -> bool:
        return self.activation.kernel is not None

    def fused_variables(self) -> tuple:
        """The kernel and bias, which backward gives gradients for (FusedCall's, for the hot call path)."""
        return (self.kernel,) if self.bias is None else (self.kernel, self.bias)

    def fused_role(self) -> str | None:
        """``"dense"`` when the fused training plan may run this layer as written (no
        regularizer, constraint or override of its computation, no weights but its kernel and bias:
        a subclass's own Variable would be left out of the plan's packed weights)."""
        plain = type(self).call is Dense.call and type(self).forward is Dense.forward and self.fused and all(
            getattr(self, attr) is None for attr in ("kernel_regularizer", "bias_regularizer", "activity_regularizer",
                                                     "kernel_constraint", "bias_constraint"))
        own_weights = [self.kernel] + ([self.bias] if self.bias is not None else [])
        return "dense" if plain and [id(w) for w in self.weights] == [id(w) for w in own_weights] else None

    def call(self, inputs, training=None):
        if inputs.shape[-1] != self.kernel.shape[0]:
            raise ValueError(f"Dense '{self.name}' expects inputs with last dimension {self.kernel.shape[0]}, "
                             f"got inputs of shape {inputs.shape}")
        return super().call(inputs, training)

    # --- the fused node ------------------------------------------------------------------------
    def forward(self, x, training=False):
        z = np.matmul(x, self.kernel._value) if x.dtype == self.kernel._value.dtype else \
            np.matmul(x.astype(self.kernel._value.dtype), self.kernel._value)
        if self.use_bias:
            z += self.bias._value
        act = self.activation
        if act.needs_input:
            y = act.into(z, np.empty_like(z))
            return y, (x, y, z)
        y = act.into(z, z)
        return y, (x, y, None)

    def backward(self, ctx, dy, needs=(True, True, True)):
        x, y, z = ctx
        dz = self.activation.vjp(RAW, dy, y, z)
        dz2 = dz.reshape(-1, self.units)
        pools = self.__dict__.get("_grad_buffers")
        if pools is None:  # not tracked state: work arrays, as an optimizer's scratch
            pools = (Recycler(), Recycler())
            object.__setattr__(self, "_grad_buffers", pools)
        kernel_grad = bias_grad = None
        if needs[1]:
            x2 = x.reshape(-1, x.shape[-1])
            kernel_grad = np.matmul(x2.T, dz2, out=pools[0].take((x2.shape[1], self.units), dz2.dtype))
        if self.use_bias and needs[2]:
            bias_grad = np.sum(dz2, axis=0, out=pools[1].take((self.units,), dz2.dtype))
        grads = [kernel_grad, bias_grad] if self.use_bias else [kernel_grad]
        return (dz @ self.kernel._value.T if needs[0] else None), grads

    def composite(self, x, training=None):
        z = ops.matmul(x, self.kernel)
        if self.use_bias:
            z = z + self.bias
        return self.activation(z)

    def get_config(self):
        config = {**super().get_config(), "units": self.units,
                  "activation": activations.serialize(self.activation), "use_bias": self.use_bias,
                  "kernel_initializer": initializers.serialize(self.kernel_initializer),
                  "bias_initializer": initializers.serialize(self.bias_initializer),
                  "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
                  "bias_regularizer": regularizers.serialize(self.bias_regularizer),
                  "kernel_constraint": constraints.serialize(self.kernel_constraint),
                  "bias_constraint": constraints.serialize(self.bias_constraint)}
        if self.activity_regularizer is not None:  # Keras writes the key only when one is set
            config["activity_regularizer"] = regularizers.serialize(self.activity_regularizer)
        return config
