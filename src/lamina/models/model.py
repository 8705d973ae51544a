"""``Model``: a layer that trains (``compile``/``fit``/``evaluate``/``predict``), saves and
summarizes itself, as Keras's.

Three ways to make one: ``Model(inputs, outputs)`` (a Functional model: the graph of layer calls
from ``Input(...)`` to the outputs), a subclass with ``__init__`` and ``call`` (its ``call`` is the
model), or ``Sequential``. A subclass whose ``__init__`` calls ``super().__init__(inputs, outputs)``
is a graph model too.
"""
from __future__ import annotations

import warnings

from .. import ops
from ..backend.keras_tensor import KerasTensor
from ..layers.layer import Layer
from ..layers.node import flatten
from ..saving.model_io import ModelIO
from ..trainers.trainer import Trainer
from .graph import Graph


def _graph_args(args, kwargs) -> bool:
    if "inputs" in kwargs or "outputs" in kwargs:
        return True
    return bool(args) and any(isinstance(t, KerasTensor) for t in flatten(args[0])) if args else False


class Model(Trainer, ModelIO, Layer):
    """The base of every model.

    >>> import numpy as np, lamina
    >>> inputs = lamina.Input(shape=(4,))
    >>> outputs = lamina.layers.Dense(2, activation="softmax")(inputs)
    >>> model = lamina.Model(inputs, outputs)
    >>> model.predict(np.ones((3, 4)), verbose=0).shape
    (3, 2)
    >>> class Mlp(lamina.Model):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.hidden = lamina.layers.Dense(8, activation="relu")
    ...         self.out = lamina.layers.Dense(2)
    ...     def call(self, x):
    ...         return self.out(self.hidden(x))
    >>> Mlp()(np.ones((3, 4))).shape
    (3, 2)
    """

    def __new__(cls, *args, **kwargs):
        if cls is Model and _graph_args(args, kwargs):
            from .functional import Functional
            return Functional.__new__(Functional, *args, **kwargs)
        return super().__new__(cls)

    def __reduce__(self):
        """Pickled as Keras pickles a model: the bytes of its ``.keras`` file, loaded back on
        unpickling (architecture, weights, compile arguments and optimizer state)."""
        from ..saving import saving_lib
        return saving_lib.model_from_bytes, (saving_lib.model_to_bytes(self),)

    def __deepcopy__(self, memo):
        """A copy of every attribute but the steps made for training (the fused plan, the compiled
        step: the copy makes its own at its first ``fit``). Not through ``__reduce__``'s
        ``.keras`` file, which a subclass without ``get_config`` cannot round-trip."""
        import copy
        clone = object.__new__(type(self))
        memo[id(self)] = clone
        state = {**self.__dict__, "_plan": None, "_plan_checked": False, "_compiled_step": None}
        clone.__dict__.update(copy.deepcopy(state, memo))
        return clone

    def __init__(self, *args, **kwargs):
        self._graph = None
        if _graph_args(args, kwargs):
            inputs = kwargs.pop("inputs", args[0] if args else None)
            outputs = kwargs.pop("outputs", args[1] if len(args) > 1 else None)
            Layer.__init__(self, **kwargs)
            self._init_trainer()
            self._set_graph(inputs, outputs)
            return
        if args:
            raise TypeError(f"{type(self).__name__}() takes inputs and outputs (symbolic tensors) or keyword "
                            f"arguments only, got {args!r:.100}")
        Layer.__init__(self, **kwargs)
        self._init_trainer()

    def _set_graph(self, inputs, outputs) -> None:
        if outputs is None:
            raise ValueError(f"Model '{self.name}' needs outputs: Model(inputs, outputs)")
        self._graph = Graph(inputs, outputs, self.name)
        from .functional_config import keras_order  # Keras's order: by depth from the outputs
        self._layers = keras_order(self._graph)[0]
        self.built = True

    def _current_graph(self) -> Graph | None:
        """The graph this model runs (None for a subclassed model, whose ``call`` is the model)."""
        return self._graph

    # --- structure -------------------------------------------------------------------------------
    @property
    def layers(self) -> list:
        """The layers of the model (a graph model lists its InputLayers too, as Keras does; an op
        called on symbolic tensors is one of its ``operations``, not a layer)."""
        from ..layers.op_layer import OpLayer
        return [layer for layer in self._layers if not isinstance(layer, OpLayer)]

    @property
    def operations(self) -> list:
        """Every operation of a graph model, in the order they run: its layers and the ops called on
        its symbolic tensors (``ops.concatenate``...); a subclassed model's are its layers."""
        return list(self._layers)

    def get_layer(self, name: str | None = None, index: int | None = None) -> Layer:
        """A layer by name or by index (``model.layers[index]``)."""
        if (name is None) == (index is None):
            raise ValueError("get_layer expects exactly one of name= or index=")
        layers = self.layers
        if index is not None:
            if not -len(layers) <= index < len(layers):
                raise ValueError(f"get_layer index {index} is out of range: the model has {len(layers)} layers")
            return layers[index]
        for layer in layers:
            if layer.name == name:
                return layer
        raise ValueError(f"No such layer: {name!r}. Existing layers are: {[layer.name for layer in layers]}")

    @property
    def inputs(self) -> list | None:
        graph = self._current_graph()
        return None if graph is None else list(graph.inputs)

    @property
    def outputs(self) -> list | None:
        graph = self._current_graph()
        return None if graph is None else list(graph.outputs)

    @property
    def input(self):
        graph = self._current_graph()
        return None if graph is None else graph.input_structure

    @property
    def output(self):
        graph = self._current_graph()
        return None if graph is None else graph.output_structure

    @property
    def input_names(self) -> list[str]:
        graph = self._current_graph()
        return [] if graph is None else [t._keras_history[0].name for t in graph.inputs]

    @property
    def output_names(self) -> list[str]:
        graph = self._current_graph()
        return [] if graph is None else [t._keras_history[0].name for t in graph.outputs]

    @property
    def input_shape(self):
        graph = self._current_graph()
        if graph is None:
            return None
        shapes = [t.shape for t in graph.inputs]
        return shapes[0] if len(shapes) == 1 else shapes

    @property
    def output_shape(self):
        graph = self._current_graph()
        if graph is None:
            return Layer.output_shape.fget(self)
        shapes = [t.shape for t in graph.outputs]
        return shapes[0] if len(shapes) == 1 else shapes

    def compute_output_shape(self, input_shape):
        graph = self._current_graph()
        if graph is not None and len(graph.outputs) == 1:
            return graph.outputs[0].shape
        return super().compute_output_shape(input_shape)

    def build(self, input_shape) -> None:
        """Create the weights for inputs of ``input_shape``: a subclassed model runs its ``call`` on
        stand-in inputs of that shape, which builds every layer it calls (as tf.keras does; Keras 3
        only marks the model built)."""
        if self._current_graph() is None and not self.built and input_shape is not None:
            from ..layers.shapes import run_on_stand_ins
            shapes = input_shape if isinstance(input_shape, (list, dict)) else tuple(input_shape)
            symbolic = _symbolic_like(shapes, self.dtype)
            self.built = True  # so that the call below does not build again
            try:
                run_on_stand_ins(lambda *args: Layer.__call__(self, *args), (symbolic,), {})
            except BaseException:
                self.built = False
                raise
        self.built = True

    # --- running -----------------------------------------------------------------------------------
    def call(self, inputs, training=None, mask=None):
        graph = self._current_graph()
        if graph is None:
            raise TypeError(f"{type(self).__name__} subclasses Model: define call(self, inputs) (or build the "
                            "model as Model(inputs, outputs))")
        outputs = graph.run(self._input_values(inputs))
        # Keras unpacks a list of one output: Model(x, [y]) returns y's value, not [value]
        return outputs[0] if isinstance(outputs, (list, tuple)) and len(outputs) == 1 else outputs

    def _input_values(self, inputs) -> list:
        """The call's inputs in graph-input order: one tensor, a list/tuple, or a dict by input name."""
        graph = self._current_graph()
        assert graph is not None  # call() runs the graph only when there is one
        expected = self.input_names
        if isinstance(inputs, dict):
            missing = [name for name in expected if name not in inputs]
            unknown = sorted(set(inputs) - set(expected))
            if missing or unknown:
                raise ValueError(f"Model '{self.name}' expects inputs named {expected}, got {sorted(inputs)}")
            values = [inputs[name] for name in expected]
        else:
            values = self._listed_inputs(inputs, graph, expected)
        # the rank rule holds for inputs given by name too: a DataFrame's columns (1-D) feed (None, 1)
        values = [adjust_rank(value, tensor.shape) for tensor, value in zip(graph.inputs, values)]
        for tensor, value, name in zip(graph.inputs, values, expected):
            _check_input_shape(self.name, name, tensor.shape, getattr(value, "shape", None))
        return values

    def _listed_inputs(self, inputs, graph, expected: list) -> list:
        """One tensor or a list/tuple of them as the list of the graph's inputs."""
        listed = isinstance(inputs, (list, tuple)) and (len(graph.inputs) > 1 or (
            len(inputs) == 1 and isinstance(graph.input_structure, (list, tuple))))  # Model([x], ...) given [array]
        if not listed and isinstance(inputs, (list, tuple)) and len(inputs) == 1 and len(graph.inputs) == 1:
            # a model of one input given (x,) or [x]: Keras flattens the structure and warns
            warnings.warn(f"Model '{self.name}' has one input and was called with a {type(inputs).__name__} "
                          f"of one; it takes the tensor inside. Pass the tensor itself to silence this.",
                          UserWarning, stacklevel=4)
            inputs = inputs[0]
        values = list(inputs) if listed else [inputs]
        if len(values) != len(graph.inputs):
            raise ValueError(f"Model '{self.name}' expects {len(graph.inputs)} inputs {expected}, got "
                             f"{len(values)}")
        return values

    # --- what fit needs of the model -------------------------------------------------------------
    def _prepare_features(self, x) -> None:
        """Check ``x`` against the model's inputs before any batch runs (graph models); for a
        subclassed model, note the input's shape, which tracing its ``call`` needs."""
        if self._current_graph() is not None:
            self._input_values(x)
        elif hasattr(x, "shape") and hasattr(x, "dtype"):
            spec = (tuple(x.shape[1:]), self.dtype if x.dtype.kind == "f" else x.dtype.name)
            if getattr(self, "_traced_input", None) != spec:
                self._traced_input = spec
                self._invalidate()

    def _prepare(self, x, y):
        """Check ``x`` and ``y`` against the model; return ``y``."""
        self._prepare_features(x)
        if y is None or self._current_graph() is None or self._compile_loss is None:
            return y
        from .targets import check_targets
        check_targets(self, y)
        return y

    def summary(self, line_length=None, positions=None, print_fn=None, expand_nested=False,
                show_trainable=False, layer_range=None) -> None:
        """Print Keras's table of layers, output shapes and parameter counts."""
        from ..utils.summary import print_summary
        print_summary(self, line_length=line_length, positions=positions, print_fn=print_fn,
                      expand_nested=expand_nested, show_trainable=show_trainable, layer_range=layer_range)

    def count_params(self) -> int:
        if not self.built:
            raise ValueError(f"Model '{self.name}' is not built yet: call it on data or build it first")
        return super().count_params()

    def export(self, filepath, format="tf_saved_model", verbose=None, input_signature=None, **kwargs) -> None:
        """Write the model for inference elsewhere, as Keras's ``export``: lamina writes
        ``format="onnx"`` (a Sequential or Functional model of built-in layers; ``opset_version``
        from 13, default 17) and refuses the other formats. Needs ``pip install 'lamina[onnx]'``."""
        from ..export import export_model
        export_model(self, filepath, format=format, verbose=verbose, input_signature=input_signature, **kwargs)


def _symbolic_like(shapes, dtype: str):
    """Symbolic tensors of ``shapes`` (a shape, or a list or dict of them)."""
    if isinstance(shapes, dict):
        return {k: _symbolic_like(v, dtype) for k, v in shapes.items()}
    if isinstance(shapes, list) and shapes and isinstance(shapes[0], (tuple, list)):
        return [_symbolic_like(tuple(v), dtype) for v in shapes]
    return KerasTensor(tuple(shapes), dtype=dtype)


def adjust_rank(value, expected: tuple):
    """``value`` with a trailing axis of 1 added or dropped when that is all that keeps it from the
    input's rank (Keras's rule: ``predict(x[:, 0])`` for an input of shape ``(None, 1)``, or
    ``(n, 4, 1)`` for ``(None, 4)``); anything else unchanged, for the shape check to refuse."""
    shape = getattr(value, "shape", None)
    if shape is None or len(shape) == len(expected):
        return value
    if len(shape) == len(expected) - 1 and expected[-1] == 1:
        return ops.expand_dims(value, -1)
    if len(shape) == len(expected) + 1 and shape[-1] == 1:
        return ops.squeeze(value, -1)
    return value


def _check_input_shape(model: str, name: str, expected: tuple, got) -> None:
    if got is None:
        return
    got = tuple(got)
    if len(got) != len(expected) or any(e is not None and e != g for e, g in zip(expected[1:], got[1:])):
        raise ValueError(f"Input '{name}' of model '{model}' expects inputs of shape {expected}, got {got}")

