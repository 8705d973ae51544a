"""``Sequential``: a plain stack of layers, each with one input and one output."""
from __future__ import annotations


from ..layers.input_layer import InputLayer
from ..layers.layer import Layer, to_array
from ..saving.model_io import ModelIO
from ..trainers.trainer import Trainer


class Sequential(ModelIO, Trainer, Layer):
    """A linear stack of layers; also a layer itself, so it can sit inside another model.

    >>> import lamina
    >>> model = lamina.Sequential([
    ...     lamina.layers.Flatten(input_shape=[28, 28]),
    ...     lamina.layers.Dense(300, activation="relu"),
    ...     lamina.layers.Dense(10, activation="softmax")])
    >>> model.output_shape
    (None, 10)
    """

    def __init__(self, layers=None, trainable: bool = True, name: str | None = None, **kwargs):
        Layer.__init__(self, name=name, trainable=trainable, **kwargs)
        Trainer.__init__(self)
        self._input_layer: InputLayer | None = None
        self._layers: list[Layer] = []
        for layer in layers or ():
            self.add(layer)

    # --- structure ---------------------------------------------------------------------------
    @property
    def layers(self) -> list[Layer]:
        """The layers, without the InputLayer (as in Keras)."""
        return list(self._layers)

    def add(self, layer: Layer) -> None:
        """Append a layer; an ``InputLayer`` (or ``Input(...)``) sets the input shape."""
        if not isinstance(layer, Layer):
            raise TypeError(f"Sequential.add expects a Layer instance, got {layer!r}")
        if isinstance(layer, InputLayer):
            if self._input_layer is not None or self._layers:
                raise ValueError(f"Sequential '{self.name}' can take an InputLayer only as its first layer")
            self._input_layer = layer
        else:
            names = {l.name for l in self._layers}
            if layer.name in names:
                raise ValueError(f"Sequential '{self.name}' already has a layer named '{layer.name}'; "
                                 "layer names must be unique")
            self._layers.append(layer)
        self._invalidate()
        self._try_build()

    def pop(self) -> Layer:
        """Remove and return the last layer."""
        if not self._layers:
            raise ValueError(f"Sequential '{self.name}' has no layers to pop")
        layer = self._layers.pop()
        self._invalidate()
        return layer

    def get_layer(self, name: str | None = None, index: int | None = None) -> Layer:
        """A layer by name or by index (``model.layers[index]``)."""
        if (name is None) == (index is None):
            raise ValueError("get_layer expects exactly one of name= or index=")
        if index is not None:
            if not -len(self._layers) <= index < len(self._layers):
                raise ValueError(f"get_layer index {index} is out of range: the model has {len(self._layers)} layers")
            return self._layers[index]
        for layer in self._layers:
            if layer.name == name:
                return layer
        raise ValueError(f"No such layer: {name!r}. Existing layers are: {[l.name for l in self._layers]}")

    # --- building ----------------------------------------------------------------------------
    def _declared_input_shape(self) -> tuple | None:
        if self._input_layer is not None:
            return self._input_layer.shape
        if self._layers:
            return self._layers[0].input_shape_hint
        return None

    def _try_build(self) -> None:
        shape = self._declared_input_shape()
        if shape is not None and self._layers:
            self.build_for(shape)

    def build(self, input_shape=None) -> None:
        """Build every layer for inputs of ``input_shape`` (batch dimension included)."""
        if input_shape is None:
            input_shape = (None, *self._declared_input_shape())
        self.build_for(tuple(input_shape)[1:])

    def build_for(self, sample_shape) -> None:
        shape = tuple(sample_shape)
        self.input_spec_shape = shape
        for layer in self._layers:
            layer.build_for(shape)
            shape = layer.output_shape[1:]
        self.output_shape = (None, *shape)
        self.built = True

    def compute_output_shape(self, input_shape):
        shape = tuple(input_shape)
        for layer in self._layers:
            shape = layer.compute_output_shape(shape)
        return shape

    @property
    def input_shape(self):
        return None if self.input_spec_shape is None else (None, *self.input_spec_shape)

    def _check_buildable(self) -> None:
        if not self._layers:
            raise ValueError(f"Sequential '{self.name}' has no layers")

    # --- weights -----------------------------------------------------------------------------
    @property
    def weights(self):
        return [v for layer in self._layers for v in layer.weights]

    @property
    def trainable_weights(self):
        return [v for layer in self._layers for v in layer.trainable_weights] if self.trainable else []

    @property
    def non_trainable_weights(self):
        if not self.trainable:
            return self.weights
        return [v for layer in self._layers for v in layer.non_trainable_weights]

    @property
    def variables(self):
        return self.weights

    def count_params(self) -> int:
        if not self.built:
            raise ValueError(f"Sequential '{self.name}' is not built yet: give it an input shape or call it on data")
        return sum(layer.count_params() for layer in self._layers)

    def set_weights(self, weights) -> None:
        own, weights = self.weights, list(weights)
        if len(weights) != len(own):
            raise ValueError(f"Sequential '{self.name}' expects {len(own)} weight arrays, got {len(weights)}")
        for layer in self._layers:
            n = len(layer.weights)
            layer.set_weights(weights[:n])
            weights = weights[n:]

    # --- forward and backward ----------------------------------------------------------------
    def __call__(self, inputs, training: bool = False):
        x = to_array(inputs, f"the input of model '{self.name}'").astype(self.dtype, copy=False)
        self._check_buildable()
        if self.input_spec_shape is None:
            self.build_for(x.shape[1:])
        return self.call(x, training=training)

    def call(self, x, training=False):
        for layer in self._layers:
            layer.check_input(x)
            x = layer.call(x, training=training)
        return x

    def forward(self, x, training=False):
        contexts = []
        for layer in self._layers:
            layer.check_input(x)
            x, ctx = layer.forward(x, training)
            contexts.append(ctx)
        return x, contexts

    def activity_penalty(self, contexts) -> float:
        """The activity regularization of this forward pass (layers that define one)."""
        total = 0.0
        for layer, ctx in zip(self._layers, contexts):
            penalty = getattr(layer, "activity_penalty", None)
            if penalty is not None:
                total += penalty(ctx)
        return total

    def backward(self, contexts, dy, skip_activation=False):
        """Backpropagate through every layer; ``grads`` follows ``trainable_weights``."""
        grads_per_layer = []
        for i in range(len(self._layers) - 1, -1, -1):
            layer = self._layers[i]
            if skip_activation and i == len(self._layers) - 1:
                dy, grads = layer.backward(contexts[i], dy, skip_activation=True)
            else:
                dy, grads = layer.backward(contexts[i], dy)
            grads_per_layer.append(grads if layer.trainable else [])
        grads = [g for layer_grads in reversed(grads_per_layer) for g in layer_grads]
        return dy, grads if self.trainable else []

    # --- display and config --------------------------------------------------------------------
    def summary(self, line_length=None, positions=None, print_fn=None, expand_nested=False,
                show_trainable=False, layer_range=None) -> None:
        """Print Keras's table of layers, output shapes and parameter counts."""
        from ..utils.summary import print_summary

        print_summary(self, line_length=line_length, positions=positions, print_fn=print_fn,
                      expand_nested=expand_nested, show_trainable=show_trainable, layer_range=layer_range)
