"""``Sequential``: a plain stack of layers, each with one input and one output.

Once its input shape is known (an ``Input``/``InputLayer`` first, ``input_shape=`` on the first
layer, ``build``, or the first call on data), a Sequential is a chain graph, run by the same
executor as a Functional model; each ``add`` extends the chain by one symbolic call (so adding
``n`` layers costs ``O(n)``), and the graph is assembled when first needed.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..backend.keras_tensor import KerasTensor
from ..layers import scopes
from ..layers.input_layer import InputLayer
from ..layers.layer import Layer
from .graph import Graph
from .model import Model, adjust_rank


class Sequential(Model):
    """A linear stack of layers; also a layer itself, so it can sit inside another model.

    >>> import lamina
    >>> model = lamina.Sequential([
    ...     lamina.layers.Flatten(input_shape=[28, 28]),
    ...     lamina.layers.Dense(300, activation="relu"),
    ...     lamina.layers.Dense(10, activation="softmax")])
    >>> model.output_shape
    (None, 10)
    """

    _chain: list  # set in __init__ through object.__setattr__ (not tracked: self._layers tracks them)
    _names: set

    def __init__(self, layers: Iterable[Layer | KerasTensor] | None = None, trainable: bool = True,
                 name: str | None = None, **kwargs):  # layers: Layer instances (the first may be an Input)
        Model.__init__(self, trainable=trainable, name=name, **kwargs)
        self._input_layer: InputLayer | None = None
        object.__setattr__(self, "_chain", [])  # the layers in order (self._layers tracks them for weights)
        object.__setattr__(self, "_names", set())
        # the chain applied to the input, once the input shape is known: what the last layer returns
        self._symbolic_output: Any = None
        self._stale = True
        for layer in layers or ():
            self.add(layer)

    # --- structure ---------------------------------------------------------------------------
    @property
    def layers(self) -> list[Layer]:
        """The layers, without the InputLayer (as in Keras)."""
        return list(self._chain)

    def add(self, layer, rebuild: bool = True) -> None:
        """Append a layer; an ``Input(...)`` tensor or an ``InputLayer`` (first only) sets the input shape."""
        if isinstance(layer, KerasTensor) and layer._keras_history is not None and \
                isinstance(layer._keras_history[0], InputLayer):
            layer = layer._keras_history[0]
        if not isinstance(layer, Layer):
            raise TypeError(f"Sequential.add expects a Layer instance, got {layer!r:.100}")
        if isinstance(layer, InputLayer):
            if self._input_layer is not None or self._chain:
                raise ValueError(f"Sequential '{self.name}' can take an InputLayer only as its first layer")
            self._input_layer = layer
            self._symbolic_output = layer.output
            return
        if layer.name in self._names:
            raise ValueError(f"Sequential '{self.name}' already has a layer named '{layer.name}'; "
                             "layer names must be unique")
        self._chain.append(layer)
        self._names.add(layer.name)
        self._layers.append(layer)
        if self._symbolic_output is None and len(self._chain) == 1 and layer.input_shape_hint is not None:
            self._input_layer = InputLayer(shape=layer.input_shape_hint, dtype=layer.dtype)
            self._symbolic_output = self._input_layer.output
        if self._symbolic_output is not None:
            with scopes.scope(self):  # Keras builds a Sequential's layers in its scope: sequential/dense/kernel
                self._symbolic_output = layer(self._symbolic_output)
            self.built = True
        self._stale = True
        self._invalidate()

    def pop(self, rebuild: bool = True) -> Layer:
        """Remove and return the last layer."""
        if not self._chain:
            raise ValueError(f"Sequential '{self.name}' has no layers to pop")
        layer = self._chain.pop()
        self._names.discard(layer.name)
        self._layers = [item for item in self._layers if item is not layer]
        if self._input_layer is not None:
            self._symbolic_output = self._input_layer.output
            for kept in self._chain:
                self._symbolic_output = kept(self._symbolic_output)
        self._stale = True
        self._invalidate()
        return layer

    def compute_output_shape(self, input_shape):
        graph = self._current_graph()
        if graph is not None and tuple(input_shape)[1:] == tuple(graph.inputs[0].shape)[1:]:
            return graph.outputs[0].shape
        shape = tuple(input_shape)
        for layer in self._chain:
            shape = tuple(layer.compute_output_shape(shape))
        return shape

    def _current_graph(self) -> Graph | None:
        if self._input_layer is None or not self._chain:
            return None
        if self._stale:
            self._graph = Graph(self._input_layer.output, self._symbolic_output, self.name)
            self._stale = False
        return self._graph

    # --- building ----------------------------------------------------------------------------
    def build(self, input_shape=None) -> None:
        """Build every layer for inputs of ``input_shape`` (batch dimension included)."""
        if self._input_layer is None:
            if input_shape is None:
                raise ValueError(f"Sequential '{self.name}' cannot build without an input shape: pass "
                                 "build(input_shape) or start the model with Input(shape=...)")
            # Keras keeps the batch size it was built with in its shapes (model.input_shape, summary);
            # it does not bind later calls: _input_values checks the per-sample shape only
            self._input_layer = InputLayer(batch_shape=tuple(input_shape), dtype=self.dtype)
            self._symbolic_output = self._input_layer.output
            with scopes.scope(self):
                for layer in self._chain:
                    self._symbolic_output = layer(self._symbolic_output)
            self._stale = True
        self.built = True

    @property
    def input_spec_shape(self) -> tuple | None:
        """The per-sample input shape, once known."""
        return None if self._input_layer is None else tuple(self._input_layer.shape)

    def call(self, inputs, training=None, mask=None):
        if not self._chain:
            raise ValueError(f"Sequential '{self.name}' has no layers")
        if self._input_layer is None:
            self.build(tuple(inputs.shape))  # as Keras's first call does, batch size and all
        return super().call(inputs, training=training, mask=mask)

    def _prepare_features(self, x) -> None:
        if not self._chain:
            raise ValueError(f"Sequential '{self.name}' has no layers")
        if self._input_layer is None and hasattr(x, "shape"):
            self.build((None, *x.shape[1:]))
        super()._prepare_features(x)

    def _input_values(self, inputs) -> list:
        graph = self._current_graph()
        assert graph is not None  # call() runs the graph only when there is one
        shape = graph.inputs[0].shape
        inputs = adjust_rank(inputs, shape)
        got = getattr(inputs, "shape", None)
        if got is not None and (len(got) != len(shape) or any(e is not None and e != g
                                                              for e, g in zip(shape[1:], got[1:]))):
            first = self._chain[0]
            raise ValueError(f"{type(first).__name__} '{first.name}' of model '{self.name}' expects inputs of "
                             f"shape {shape}, got {tuple(got)}")
        return [inputs]
