"""A Functional model's config in Keras 3's format, and the model rebuilt from one.

Keras lists a graph's operations by depth (the inputs' side first; within a depth, in the order a
depth-first walk from the outputs first meets them) and saves each with its ``inbound_nodes``:
per call in this graph, the arguments with every symbolic tensor written as ``{"class_name":
"__keras_tensor__", "config": {"shape", "dtype", "keras_history": [layer, node, tensor]}}``.
``input_layers`` / ``output_layers`` give the model's inputs and outputs in the same
``[layer, node, tensor]`` form, in the structure (tensor, list or dict) the model was made with.
Keras counts the nodes of a nested Functional model from 1 there (and only there), as it did when
such a model began with a node of its own; lamina reads and writes it the same way. The weights
file lists the layers (ops excluded) in the same order (``keras_layers``).

Rebuilding calls each layer on the tensors its nodes name, as soon as they exist, so a layer
shared at different depths is rebuilt too. A config is untrusted: layers are built only through
``deserialize_keras_object``, ops only from ``saving.op_configs``' table, and the calls counted.

>>> import lamina
>>> lamina.backend.clear_session()
>>> x = lamina.Input((3,), name="x")
>>> model = lamina.Model(x, lamina.layers.Dense(2, name="out")(x))
>>> config = get_config(model)
>>> config["input_layers"], config["output_layers"]
(['x', 0, 0], ['out', 0, 0])
>>> config["layers"][1]["inbound_nodes"][0]["args"][0]["config"]["keras_history"]
['x', 0, 0]
>>> [layer.name for layer in from_config(lamina.Model, config).layers]
['x', 'out']
"""
from __future__ import annotations

import inspect

from ..backend.keras_tensor import KerasTensor
from ..saving import limits

__all__ = ["from_config", "get_config", "is_functional", "is_functional_config", "keras_layers", "keras_order"]

MAX_NODES = 4 * limits.MAX_LAYERS  # layer calls one config may ask for (a shared layer has several)


def keras_flatten(structure) -> list:
    """The leaves of a structure as Keras flattens it (a dict's values in sorted key order)."""
    if isinstance(structure, (list, tuple)):
        return [leaf for item in structure for leaf in keras_flatten(item)]
    if isinstance(structure, dict):
        return [leaf for key in sorted(structure) for leaf in keras_flatten(structure[key])]
    return [structure]


def _node_of(tensor: KerasTensor):
    operation, index, _ = tensor._keras_history
    return operation._inbound_nodes[index]


def _walk(graph) -> tuple[list, dict]:
    """Keras's depth-first walk from the outputs: the nodes, each after the nodes it reads, and
    each operation's place in the walk (where it was first met)."""
    finished: set = set()
    order: list = []
    first_seen: dict = {}
    for output in keras_flatten(graph.output_structure):
        stack = [(_node_of(output), False)]
        while stack:
            node, expanded = stack.pop()
            if expanded:
                finished.add(id(node))
                order.append(node)
                continue
            if id(node) in finished:
                continue
            first_seen.setdefault(id(node.operation), len(first_seen))
            stack.append((node, True))
            for tensor in reversed(node.input_tensors):
                parent = _node_of(tensor)
                if id(parent) not in finished:
                    stack.append((parent, False))
    return order, first_seen


def keras_order(graph) -> tuple[list, dict, list]:
    """``(operations, nodes_by_depth, nodes)`` as Keras's ``map_graph`` finds them."""
    nodes, first_seen = _walk(graph)
    in_graph = {id(node) for node in nodes}
    node_depth: dict = {}
    op_depth: dict = {}
    for node in reversed(nodes):
        depth = max(node_depth.setdefault(id(node), 0), op_depth.get(id(node.operation), 0))
        op_depth[id(node.operation)] = node_depth[id(node)] = depth
        for tensor in node.input_tensors:
            parent = _node_of(tensor)
            if id(parent) in in_graph:
                node_depth[id(parent)] = max(depth + 1, node_depth.get(id(parent), 0))
    by_id = {id(node): node for node in nodes}
    operations = list({id(node.operation): node.operation for node in nodes}.values())
    operations.sort(key=lambda op: (-op_depth[id(op)], first_seen[id(op)]))
    nodes_by_depth: dict[int, list] = {}
    for key, depth in node_depth.items():
        nodes_by_depth.setdefault(depth, []).append(by_id[key])
    return operations, nodes_by_depth, nodes


def keras_layers(model) -> list:
    """The model's layers in Keras's order (``model.layers`` in Keras: InputLayers included,
    ops not): the order Keras keeps the weights of a Functional model in."""
    from ..layers.op_layer import OpLayer
    operations, _, _ = keras_order(model._current_graph())
    return [op for op in operations if not isinstance(op, OpLayer)]


def is_functional(operation) -> bool:
    """A graph model Keras treats as Functional (a Sequential is not)."""
    from .functional import Functional
    return isinstance(operation, Functional)


def functional_like_constructor(cls) -> bool:
    """Whether ``cls(inputs=, outputs=, name=, trainable=)`` builds it (Keras's rule)."""
    if cls in _base_classes():
        return True
    spec = inspect.getfullargspec(cls.__init__)
    return spec.args[1:] == ["inputs", "outputs", "name"] or (spec.varargs is not None and spec.varkw is not None)


def _base_classes() -> tuple:
    from .functional import Functional
    from .model import Model
    return (Model, Functional)


# --- writing -----------------------------------------------------------------------------------
def get_config(model) -> dict:
    """Keras's config of the graph model ``model``."""
    from ..layers.op_layer import OpLayer
    operations, _, nodes = keras_order(model._current_graph())
    own = {id(node) for node in nodes}
    reindexed = {}  # (operation, index in its nodes) -> index among this graph's nodes
    for op in operations:
        kept = 1 if is_functional(op) else 0
        for index, node in enumerate(op._inbound_nodes):
            if id(node) in own:
                reindexed[(id(op), index)] = kept
                kept += 1
    layers = []
    for op in operations:
        inbound = [node for node in op._inbound_nodes if id(node) in own and node.input_tensors]
        if isinstance(op, OpLayer):
            entry, args = _op_entry(op, inbound)
            node_configs = [_node_config((args, {}), own)] if inbound else []
        else:
            entry = _serialize(op)
            node_configs = [_node_config(_call_of(op, node), own) for node in inbound]
        entry["name"] = op.name
        entry["inbound_nodes"] = node_configs
        layers.append(entry)

    def tensor_config(tensor):
        op, index, _ = tensor._keras_history
        return [op.name, reindexed[(id(op), index)], _tensor_index(tensor)]
    graph = model._current_graph()
    return {"name": model.name, "trainable": model.trainable, "layers": layers,
            "input_layers": _map(tensor_config, graph.input_structure),
            "output_layers": _map(tensor_config, graph.output_structure)}


def _serialize(op) -> dict:
    from ..saving.serialization_lib import serialize_keras_object
    return serialize_keras_object(op)


def _op_entry(op, inbound: list) -> tuple[dict, list]:
    from ..saving.op_configs import serialize_op_layer
    if len(inbound) > 1:
        raise ValueError(f"The op layer '{op.name}' is called {len(inbound)} times: call the op again instead "
                         "(each op call is its own node)")
    return serialize_op_layer(op, inbound[0])


def _call_of(op, node) -> tuple:
    """The node's arguments as Keras records them (``mask=None`` for a layer whose call takes one)."""
    from ..layers.layer import _call_signature
    kwargs = dict(node.call_kwargs)
    if _call_signature(type(op)).takes_mask and "mask" not in kwargs:
        kwargs["mask"] = None
    return node.call_args, kwargs


def _map(fn, structure):
    if isinstance(structure, (list, tuple)):
        return [_map(fn, item) for item in structure]
    if isinstance(structure, dict):
        return {key: _map(fn, value) for key, value in structure.items()}
    return fn(structure)


def _tensor_index(tensor: KerasTensor) -> int:
    outputs = [t for t in keras_flatten(_node_of(tensor).output_structure) if isinstance(t, KerasTensor)]
    return next(i for i, t in enumerate(outputs) if t is tensor)


def _node_config(call: tuple, own: set) -> dict:
    from ..saving.serialization_lib import serialize_keras_object
    args, kwargs = call

    def serialize(value):
        if isinstance(value, KerasTensor):
            op, index, _ = value._keras_history
            earlier_outside = sum(1 for node in op._inbound_nodes[:index] if id(node) not in own)
            return {"class_name": "__keras_tensor__",
                    "config": {"shape": list(value.shape), "dtype": value.dtype,
                               "keras_history": [op.name, index - earlier_outside, _tensor_index(value)]}}
        if isinstance(value, (list, tuple)):
            return [serialize(item) for item in value]
        if isinstance(value, dict):
            return {key: serialize(item) for key, item in value.items()}
        return serialize_keras_object(value)
    return {"args": serialize(list(args)), "kwargs": serialize(dict(kwargs))}


# --- reading -----------------------------------------------------------------------------------
def is_functional_config(config) -> bool:
    """Whether ``config`` is a Functional model's (it lists layers, input_layers and output_layers)."""
    return isinstance(config, dict) and all(key in config for key in ("name", "layers", "input_layers",
                                                                       "output_layers"))


def from_config(cls, config: dict, custom_objects: dict | None = None):
    """A new model of class ``cls`` from a Functional config (Keras's or lamina's)."""
    from .functional_rebuild import rebuild
    return rebuild(cls, config, custom_objects)
