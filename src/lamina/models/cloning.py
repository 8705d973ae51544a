"""``clone_model``: the same architecture with new layers (fresh weights), as Keras 3's.

A Sequential gets each of its layers cloned into a new Sequential (its InputLayer made again);
a Functional model has its graph run again on new ``Input`` tensors (or the caller's
``input_tensors``) with each layer replaced by its clone, so a shared layer stays shared; any
other model is rebuilt from its config. ``clone_function(layer)`` makes each clone (by default
``layer.__class__.from_config(layer.get_config())``); ops in a graph are not layers and are
reused as Keras reuses its op objects. A compiled model's clone is compiled the same way.

>>> import numpy as np, lamina
>>> lamina.backend.clear_session()
>>> x = lamina.Input((3,), name="x")
>>> model = lamina.Model(x, lamina.layers.Dense(2, name="out")(x))
>>> clone = clone_model(model)
>>> [layer.name for layer in clone.layers], clone.layers[1] is model.layers[1]
(['x', 'out'], False)
"""
from __future__ import annotations

from typing import Any

from ..backend.keras_tensor import KerasTensor
from ..layers.node import flatten, map_structure

__all__ = ["clone_model"]


def _default_clone(layer):
    return layer.__class__.from_config(layer.get_config())


def _cached(clone_function, call_function, recursive: bool, cache: dict):
    """``clone_function`` with each layer cloned once (and nested models cloned whole when
    ``recursive``)."""
    from .sequential import Sequential
    clone_function = clone_function or _default_clone
    if not callable(clone_function):
        raise ValueError(f"clone_function must be a callable taking a layer, got {clone_function!r:.100}")

    def clone(layer):
        if id(layer) not in cache:
            if recursive and (isinstance(layer, Sequential) or _is_graph(layer)):
                cache[id(layer)] = clone_model(layer, clone_function=clone_function, recursive=True,
                                               call_function=None if isinstance(layer, Sequential) else call_function,
                                               _cache=cache)
            else:
                cache[id(layer)] = clone_function(layer)
        return cache[id(layer)]
    return clone


def _is_graph(model) -> bool:
    from .sequential import Sequential
    return not isinstance(model, Sequential) and getattr(model, "_graph", None) is not None


def clone_model(model, input_tensors=None, clone_function=None, call_function=None, recursive=False, **kwargs) -> Any:
    """A new model of ``model``'s architecture with new layers (``keras.models.clone_model``).

    Args:
        model: a Sequential or Functional model (another model is rebuilt from its config).
        input_tensors: ``Input`` tensors to build the clone on, in the structure of ``model.input``.
        clone_function: called on each layer (InputLayers and ops aside), returns its clone.
        call_function: ``call_function(layer, *args, **kwargs)`` makes each call of a Functional
            model's clone (default: the layer called on the arguments).
        recursive: clone the layers of nested models through ``clone_function`` too.
    """
    from ..saving.serialization_lib import (
        deserialize_keras_object,
        serialize_keras_object,
    )
    from .sequential import Sequential
    cache = kwargs.pop("_cache", None)
    if kwargs:
        raise ValueError(f"clone_model got unexpected keyword argument(s) {tuple(kwargs)}")
    clone = _cached(clone_function, call_function, recursive, {} if cache is None else cache)
    if isinstance(model, Sequential):
        if call_function is not None:
            raise ValueError("clone_model: call_function is for Functional models only; a Sequential's layers "
                             f"are listed, not called (model '{model.name}')")
        cloned = _clone_sequential(model, clone, input_tensors)
    elif _is_graph(model):
        cloned = _clone_functional(model, clone, input_tensors, call_function)
    else:
        if clone_function is not None or input_tensors is not None or call_function is not None:
            raise ValueError(f"clone_model: clone_function, input_tensors and call_function work for Sequential and "
                             f"Functional models only; '{model.name}' is a subclassed {type(model).__name__}")
        config = serialize_keras_object(model)
        return deserialize_keras_object(config, custom_objects={type(model).__name__: type(model)})
    if getattr(model, "compiled", False):
        cloned.compile_from_config(model.get_compile_config())
    return cloned


def _input_layer_of(tensor):
    from ..layers.input_layer import InputLayer
    history = getattr(tensor, "_keras_history", None) if isinstance(tensor, KerasTensor) else None
    if history is None or not isinstance(history[0], InputLayer):
        raise ValueError(f"clone_model: input_tensors must be Input(...) tensors, got {tensor!r:.120}")
    return history[0]


def _clone_sequential(model, clone, input_tensors):
    from ..layers.input_layer import Input
    from .sequential import Sequential
    layers = [clone(layer) for layer in model.layers]
    if input_tensors is not None:
        if isinstance(input_tensors, (list, tuple)):
            if len(input_tensors) != 1:
                raise ValueError(f"clone_model: a Sequential takes one input tensor, got {len(input_tensors)}")
            input_tensors = input_tensors[0]
        layers = [_input_layer_of(input_tensors)] + layers
    elif model._input_layer is not None:
        source = model._input_layer
        layers = [Input(batch_shape=source.batch_shape, dtype=source.dtype, name=source.name,
                        optional=source.optional)] + layers
    return Sequential(layers, name=model.name, trainable=model.trainable)


def _same_structure(given, reference) -> bool:
    if isinstance(reference, dict):
        return isinstance(given, dict) and set(given) == set(reference) and \
            all(_same_structure(given[k], reference[k]) for k in reference)
    if isinstance(reference, (list, tuple)):
        return isinstance(given, (list, tuple)) and len(given) == len(reference) and \
            all(_same_structure(g, r) for g, r in zip(given, reference))
    return not isinstance(given, (list, tuple, dict))


def _clone_functional(model, clone, input_tensors, call_function):
    from ..layers.input_layer import Input
    from ..layers.op_layer import OpLayer
    from .functional import Functional
    from .functional_config import functional_like_constructor, keras_order
    graph = model._current_graph()
    if input_tensors is None:
        input_tensors = map_structure(lambda t: Input(batch_shape=t.shape, dtype=t.dtype, name=t.name),
                                      graph.input_structure)
    elif not _same_structure(input_tensors, graph.input_structure):
        raise ValueError(f"clone_model: input_tensors must have the structure of model.input "
                         f"{map_structure(lambda t: t.name, graph.input_structure)}, got {input_tensors!r:.200}")
    else:
        for tensor in flatten(input_tensors):
            _input_layer_of(tensor)
    computed = {id(old): new for old, new in zip(graph.inputs, flatten(input_tensors))}
    _, nodes_by_depth, _ = keras_order(graph)
    in_order = [node for depth in sorted(nodes_by_depth, reverse=True) for node in nodes_by_depth[depth]
                if node.input_tensors]  # Keras's order, so clone_function meets the layers as in Keras
    for node in in_order:
        layer = node.operation if isinstance(node.operation, OpLayer) else clone(node.operation)

        def value_of(item):
            return computed[id(item)] if isinstance(item, KerasTensor) else item
        args = map_structure(value_of, node.call_args)
        kwargs = map_structure(value_of, node.call_kwargs)
        outputs = call_function(layer, *args, **kwargs) if call_function is not None else layer(*args, **kwargs)
        new_outputs = [t for t in flatten(outputs) if isinstance(t, KerasTensor)]
        if len(new_outputs) != len(node.outputs):
            raise ValueError(f"clone_model: the clone of layer '{node.operation.name}' returned {len(new_outputs)} "
                             f"outputs where the original returned {len(node.outputs)}")
        for old, new in zip(node.outputs, new_outputs):
            computed[id(old)] = new
    outputs = map_structure(lambda t: computed[id(t)], graph.output_structure)
    cls = type(model) if functional_like_constructor(type(model)) else Functional
    return cls(input_tensors, outputs, name=model.name)
