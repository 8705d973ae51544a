"""What ``summary()`` shows of a graph model, as Keras 3 decides it.

Keras lists a Functional model's operations (ops included) in its graph order, and adds a
"Connected to" column unless the graph is a plain chain: each row names the tensors the layer's
calls in this model read, as ``layer_name[node_index][tensor_index]`` (the index of the call among
all the calls of that layer, and of the tensor among its outputs). Layers listed under a nested
model (``expand_nested=True``) are not calls of this model: their column shows ``-``.

>>> import lamina
>>> lamina.backend.clear_session()
>>> a, b = lamina.Input((2,), name="a"), lamina.Input((3,), name="b")
>>> view = GraphView(lamina.Model([a, b], lamina.ops.concatenate([a, b], axis=1)))
>>> view.sequential_like, [view.connections(op) for op in view.operations]
(False, ['-', '-', 'a[0][0], b[0][0]'])
"""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..models.model import Model

__all__ = ["GraphView", "graph_view", "sublayers", "type_name"]


class GraphView:
    """A graph model's operations, whether Keras prints it as a chain, and its connections."""

    def __init__(self, model: Model):  # a Functional model (one built on a graph of layer calls)
        from ..models.functional_config import keras_order
        self.operations, nodes_by_depth, nodes = keras_order(model._current_graph())
        self.relevant = {id(node) for node in nodes}
        self.sequential_like = _sequential_like(nodes_by_depth, self.operations)

    def connections(self, layer) -> str:
        """``"dense[0][0], dense_1[1][0]"``: the tensors this model's calls of ``layer`` read."""
        from ..models.functional_config import _tensor_index
        parts = []
        for node in getattr(layer, "_inbound_nodes", ()):
            if id(node) not in self.relevant:
                continue
            for tensor in node.input_tensors:
                source, node_index, _ = tensor._keras_history
                parts.append(f"{source.name}[{node_index}][{_tensor_index(tensor)}]")
        return ", ".join(parts) or "-"


def _sequential_like(nodes_by_depth: dict, operations: list) -> bool:
    """Keras's test: one node per depth, each reading one tensor, and no layer called twice."""
    from ..layers.op_layer import OpLayer
    counted = []
    for nodes in nodes_by_depth.values():
        if len(nodes) > 1 or (len(nodes) == 1 and len(nodes[0].input_tensors) > 1):
            return False
        counted += nodes
    ids = {id(node) for node in counted}
    for layer in operations:
        if isinstance(layer, OpLayer):
            continue
        if sum(1 for node in layer._inbound_nodes if id(node) in ids) > 1:
            return False
    return True


def graph_view(model) -> GraphView | None:
    """The view of a Functional model (a Sequential and a subclassed model are listed as their
    ``layers``, as Keras lists them)."""
    from ..models.sequential import Sequential
    if isinstance(model, Sequential) or getattr(model, "_graph", None) is None \
            or not hasattr(model, "_current_graph"):
        return None
    return GraphView(model)


def type_name(layer) -> str:
    """The class name Keras shows (an op's class is named as Keras's: layers/op_layer.py)."""
    return type(layer).__name__


def sublayers(layer) -> list:
    """The layers listed under a nested model: Keras's ``layers`` (a Functional's without its ops)."""
    if graph_view(layer) is not None:
        from ..models.functional_config import keras_layers
        return keras_layers(layer)
    return list(getattr(layer, "layers", None) or [])
