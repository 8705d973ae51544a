"""Nodes of a Functional graph: one call of a layer (or of an op) on symbolic tensors.

``layer(keras_tensor)`` does not compute: it builds the layer for the symbolic shapes, finds
the output specs, records a ``Node`` (the layer, the call's arguments with their symbolic
tensors, the outputs) and returns the symbolic outputs, each knowing the node that made it
(``_keras_history``). ``Model(inputs, outputs)`` walks these nodes back from its outputs.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import itertools

from .. import backend
from ..backend.keras_tensor import KerasTensor
from .shapes import output_spec

if TYPE_CHECKING:
    from .layer import Layer

_NAMES = itertools.count()


def flatten(structure) -> list:
    """The leaves of nested lists, tuples and dicts (dicts in key order of insertion)."""
    if isinstance(structure, (list, tuple)):
        return [leaf for item in structure for leaf in flatten(item)]
    if isinstance(structure, dict):
        return [leaf for value in structure.values() for leaf in flatten(value)]
    return [structure]


def map_structure(fn, structure) -> Any:
    """``structure`` with ``fn`` applied to each leaf (lists, tuples and dicts kept as they are)."""
    if isinstance(structure, (list, tuple)):
        return type(structure)(map_structure(fn, item) for item in structure)
    if isinstance(structure, dict):
        return {k: map_structure(fn, v) for k, v in structure.items()}
    return fn(structure)


class Node:
    """One call of ``operation`` in a graph: its arguments (with symbolic tensors) and outputs."""

    def __init__(self, operation: Layer, call_args: tuple, call_kwargs: dict,
                 outputs: Any):  # a KerasTensor, or lists, tuples and dicts nesting them (other leaves kept)
        self.operation = operation
        self.call_args, self.call_kwargs = call_args, call_kwargs
        self.outputs = [t for t in flatten(outputs) if isinstance(t, KerasTensor)]
        self.output_structure = outputs
        self.input_tensors = [t for t in flatten((call_args, call_kwargs)) if isinstance(t, KerasTensor)]
        index = len(operation._inbound_nodes)
        operation._inbound_nodes.append(self)
        for i, tensor in enumerate(self.outputs):
            tensor._keras_history = (operation, index, i)

    @property
    def parent_nodes(self) -> list:
        parents: list = []
        for tensor in self.input_tensors:
            if tensor._keras_history is not None:
                operation, index, _ = tensor._keras_history
                node = operation._inbound_nodes[index]
                if not any(node is p for p in parents):
                    parents.append(node)
        return parents

    @property
    def is_input(self) -> bool:
        return not self.input_tensors

    def __repr__(self) -> str:
        return f"<Node {self.operation.name}: {len(self.input_tensors)} in, {len(self.outputs)} out>"


def symbolic_call(layer, args: tuple, kwargs: dict):
    """``layer(*args, **kwargs)`` on symbolic tensors: record a node, return symbolic outputs."""
    kwargs = {k: v for k, v in kwargs.items() if not (k == "training" and v is None)}
    layer._maybe_build(args)
    outputs = output_spec(layer, args, kwargs)
    layer._clear_losses()  # the stand-in runs' add_loss values are not real losses

    def named(tensor):
        if isinstance(tensor, KerasTensor):
            tensor.name = f"keras_tensor_{next(_NAMES)}"
        return tensor
    outputs = map_structure(named, outputs)
    Node(layer, args, kwargs, outputs)
    return outputs


def reset_names() -> None:
    """Restart the numbering of the symbolic tensors' names."""
    global _NAMES
    _NAMES = itertools.count()


def input_tensor(shape, dtype, name: str | None, batch_size=None, sparse=False) -> KerasTensor:
    """A fresh symbolic input (made by ``Input``; its node belongs to an ``InputLayer``)."""
    return KerasTensor((batch_size, *shape), dtype=dtype, sparse=sparse, name=name or backend.unique_name("input"))
