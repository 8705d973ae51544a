"""``Layer``: the base of every layer. Weights, building on first call, config, and the
forward/backward contract the training engine uses.

A layer implements:
- ``build(input_shape)``: create weights with ``add_weight``;
- ``forward(x, training) -> (y, ctx)``: the output, and whatever ``backward`` will need;
- ``backward(ctx, dy) -> (dx, grads)``: the input gradient and one gradient per trainable weight.
  The context is returned, not stored on the layer, so a layer can be used twice in one model.
``call(x, training)`` is the forward pass alone (what ``layer(x)`` runs).
"""
from __future__ import annotations

import math

import numpy as np

from .. import backend, initializers
from ..saving import limits
from ..variables import Variable

_LAYER_KWARGS = ("input_shape", "batch_input_shape", "batch_size", "input_dim")


def as_shape(shape, argument: str, owner: str) -> tuple:
    """A shape given as an int, list or tuple, as a tuple of ints/None."""
    if isinstance(shape, (int, np.integer)):
        shape = (shape,)
    try:
        shape = tuple(None if d is None else int(d) for d in shape)
    except (TypeError, ValueError):
        raise TypeError(f"{owner} expects {argument} to be a tuple of ints, got {shape!r}") from None
    if any(d is not None and d < 1 for d in shape):
        raise ValueError(f"{owner} expects {argument} with positive dimensions, got {shape}")
    return shape


class Layer:
    """Base class for layers.

    >>> import lamina
    >>> layer = lamina.layers.Dense(3)
    >>> layer(np.ones((2, 4))).shape    # builds on first call
    (2, 3)
    """

    def __init__(self, *, name: str | None = None, trainable: bool = True, dtype=None, **kwargs):
        unknown = [k for k in kwargs if k not in _LAYER_KWARGS]
        if unknown:
            raise TypeError(f"{type(self).__name__} got unexpected keyword argument(s) {unknown}")
        if name is not None and not isinstance(name, str):
            raise TypeError(f"{type(self).__name__} expects name to be a str, got {name!r}")
        self.name = name or backend.unique_name(backend.snake_case(type(self).__name__))
        self._trainable = bool(trainable)
        self.dtype = limits.layer_dtype(dtype, f"{type(self).__name__} '{self.name}'")
        self.built = False
        self.input_shape_hint = self._input_shape_from(kwargs)
        self.input_spec_shape: tuple | None = None  # the per-sample input shape once built
        self.output_shape: tuple | None = None
        self._variables: list[Variable] = []

    def _input_shape_from(self, kwargs) -> tuple | None:
        owner = f"{type(self).__name__} '{self.name}'"
        if kwargs.get("batch_input_shape") is not None:
            return as_shape(kwargs["batch_input_shape"], "batch_input_shape", owner)[1:]
        if kwargs.get("input_shape") is not None:
            return as_shape(kwargs["input_shape"], "input_shape", owner)
        if kwargs.get("input_dim") is not None:
            return as_shape(kwargs["input_dim"], "input_dim", owner)
        return None

    # --- weights ---------------------------------------------------------------------------
    def add_weight(self, shape, initializer="glorot_uniform", dtype=None, trainable=True, name=None,
                   regularizer=None, constraint=None) -> Variable:
        """Create a weight, initialized now, and track it on this layer."""
        shape = tuple(int(d) for d in shape)
        limits.claim(self, shape)  # while loading a file: within what the file stores
        value = initializers.get(initializer)(shape, dtype or self.dtype)
        name = name or f"variable_{len(self._variables)}"
        variable = Variable(np.array(value, order="C"), name=name, trainable=trainable,
                            path=f"{self.name}/{name}", regularizer=regularizer, constraint=constraint)
        self._variables.append(variable)
        return variable

    @property
    def trainable(self) -> bool:
        return self._trainable

    @trainable.setter
    def trainable(self, value: bool) -> None:
        self._trainable = bool(value)

    @property
    def weights(self) -> list[Variable]:
        """Trainable weights first, then the others, as Keras lists them."""
        return self.trainable_weights + self.non_trainable_weights

    @property
    def variables(self) -> list[Variable]:
        return list(self._variables)

    @property
    def trainable_weights(self) -> list[Variable]:
        return [v for v in self._variables if v.trainable] if self.trainable else []

    @property
    def non_trainable_weights(self) -> list[Variable]:
        if not self.trainable:
            return list(self._variables)
        return [v for v in self._variables if not v.trainable]

    def get_weights(self) -> list[np.ndarray]:
        """Copies of the weights' values, in ``weights`` order."""
        return [v.numpy() for v in self.weights]

    def set_weights(self, weights) -> None:
        """Set every weight from a list of arrays of matching shapes (``get_weights`` order)."""
        own = self.weights
        weights = list(weights)
        if len(weights) != len(own):
            raise ValueError(f"Layer '{self.name}' expects {len(own)} weight arrays "
                             f"({[v.shape for v in own]}), got {len(weights)}")
        for variable, value in zip(own, weights):
            value = np.asarray(value)
            if value.shape != variable.shape:
                raise ValueError(f"Layer '{self.name}' weight '{variable.name}' has shape {variable.shape}, "
                                 f"got an array of shape {value.shape}")
        for variable, value in zip(own, weights):
            variable.assign(value)

    def count_params(self) -> int:
        if not self.built:
            raise ValueError(f"Layer '{self.name}' is not built yet, so its weights do not exist: "
                             "call it on data or build it first")
        return sum(math.prod(v.shape) for v in self.weights)

    # --- building and calling --------------------------------------------------------------
    def build(self, input_shape) -> None:
        """Create the weights for inputs of ``input_shape`` (batch dimension included)."""
        self.built = True

    def compute_output_shape(self, input_shape) -> tuple:
        return tuple(input_shape)

    def build_for(self, sample_shape: tuple) -> None:
        """Build for inputs whose per-sample shape is ``sample_shape`` and record the shapes."""
        if not self.built:
            self.build((None, *sample_shape))
            self.built = True
        self.input_spec_shape = tuple(sample_shape)
        self.output_shape = tuple(self.compute_output_shape((None, *sample_shape)))

    def check_input(self, x: np.ndarray) -> None:
        """A clear error when ``x`` does not fit the shape this layer was built for."""
        expected = self.input_spec_shape
        if expected is not None and (x.ndim != len(expected) + 1 or any(
                e is not None and e != d for e, d in zip(expected, x.shape[1:]))):
            raise ValueError(f"{type(self).__name__} '{self.name}' expects inputs of shape "
                             f"{(None, *expected)}, got {x.shape}")

    def __call__(self, inputs, training: bool = False):
        x = to_array(inputs, f"the input of layer '{self.name}'").astype(self.dtype, copy=False)
        if self.input_spec_shape is None:
            self.build_for(x.shape[1:])
        self.check_input(x)
        return self.call(x, training=training)

    def call(self, inputs, training: bool = False):
        return self.forward(inputs, training)[0]

    def forward(self, x, training: bool = False):
        """``(output, ctx)``: the default layer passes its input through unchanged."""
        return x, None

    def backward(self, ctx, dy):
        """``(dx, grads)``: the default layer has no weights and passes the gradient through."""
        return dy, []

    # --- config ----------------------------------------------------------------------------
    def get_config(self) -> dict:
        config = {"name": self.name, "trainable": self.trainable, "dtype": self.dtype}
        return config

    @classmethod
    def from_config(cls, config: dict):
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"


def to_array(data, what: str) -> np.ndarray:
    """NumPy view of user data (lists, pandas objects): numeric, float kept, ints/bools as floatx."""
    if hasattr(data, "to_numpy"):
        data = data.to_numpy()
    array = np.asarray(data)
    if array.dtype.kind not in "biuf":
        raise TypeError(f"Expected numeric data for {what}, got an array of dtype {array.dtype}")
    if array.dtype.kind != "f":
        array = array.astype(backend.floatx())
    return array
