"""A graph of layer calls, from a model's symbolic inputs to its outputs: what a Functional
model (and a Sequential once its input shape is known) runs.

``Graph(inputs, outputs)`` walks back from the outputs through each symbolic tensor's node,
keeps the nodes in an order where every node comes after the nodes it reads from, and checks
the graph: every output must depend on the inputs, every input must be used, and the layers'
names must be unique. ``run`` executes the nodes on real tensors.
"""
from __future__ import annotations

from ..backend.keras_tensor import KerasTensor
from ..layers.input_layer import InputLayer
from ..layers.node import flatten, map_structure


def _node_of(tensor: KerasTensor):
    operation, index, _ = tensor._keras_history
    return operation._inbound_nodes[index]


def _flat_tensors(structure, what: str) -> list[KerasTensor]:
    flat = flatten(structure)
    for tensor in flat:
        if not isinstance(tensor, KerasTensor) or tensor._keras_history is None:
            raise ValueError(f"Model {what} must be symbolic tensors made by Input(...) and layer calls, "
                             f"got {tensor!r:.120}")
    return flat


class Graph:
    """The nodes between ``inputs`` and ``outputs`` (structures of symbolic tensors)."""

    def __init__(self, inputs: KerasTensor | list | tuple | dict, outputs: KerasTensor | list | tuple | dict,
                 owner: str = "model"):  # each a symbolic tensor, or lists, tuples and dicts nesting them
        self.input_structure, self.output_structure = inputs, outputs
        self.inputs = _flat_tensors(inputs, "inputs")
        self.outputs = _flat_tensors(outputs, "outputs")
        for tensor in self.inputs:
            if not isinstance(tensor._keras_history[0], InputLayer):
                raise ValueError(f"Model '{owner}' input {tensor.name} is not an Input(...): it was made by layer "
                                 f"'{tensor._keras_history[0].name}'. Pass the Input tensors as inputs")
        self.nodes = self._sorted_nodes(owner)
        self._check(owner)

    def _sorted_nodes(self, owner: str) -> list:
        """Depth-first from the outputs, with an explicit stack (a chain of thousands of layers
        is deeper than Python's recursion limit); each node after the nodes it reads from."""
        input_ids = {id(t) for t in self.inputs}
        order, state = [], {}
        for tensor in self.outputs:
            if id(tensor) in input_ids:
                continue
            stack = [(_node_of(tensor), False)]
            while stack:
                node, expanded = stack.pop()
                key = id(node)
                if expanded:
                    state[key] = "done"
                    order.append(node)
                    continue
                if state.get(key) == "done":
                    continue
                if state.get(key) == "visiting":
                    raise ValueError(f"Model '{owner}' has a cycle through layer '{node.operation.name}'")
                state[key] = "visiting"
                stack.append((node, True))
                for parent in reversed(node.input_tensors):
                    if id(parent) in input_ids:
                        continue
                    self._check_connected(parent, owner)
                    parent_node = _node_of(parent)
                    if state.get(id(parent_node)) != "done":
                        stack.append((parent_node, False))
        return order

    def _check_connected(self, tensor: KerasTensor, owner: str) -> None:
        if isinstance(tensor._keras_history[0], InputLayer):
            raise ValueError(f"Model '{owner}': the outputs depend on {tensor.name} (Input "
                             f"'{tensor._keras_history[0].name}'), which is not among the model's inputs "
                             f"{[t.name for t in self.inputs]}: the graph is disconnected. Add it to inputs")

    def _check(self, owner: str) -> None:
        used = {id(t) for node in self.nodes for t in node.input_tensors} | {id(t) for t in self.outputs}
        for tensor in self.inputs:
            if id(tensor) not in used:
                raise ValueError(f"Model '{owner}': the input {tensor.name} is not used by any of the outputs; "
                                 "remove it from inputs, or connect it")
        if not self.nodes and not any(id(t) in {id(i) for i in self.inputs} for t in self.outputs):
            raise ValueError(f"Model '{owner}': the outputs do not depend on the inputs")
        names: dict = {}
        for layer in self.layers:
            if layer.name in names and names[layer.name] is not layer:
                raise ValueError(f"Model '{owner}' has two different layers named '{layer.name}': layer names in a "
                                 "model must be unique (pass name=... to tell them apart)")
            names[layer.name] = layer

    @property
    def layers(self) -> list:
        """The InputLayers, then each layer once, in the order the nodes run (Keras's order)."""
        seen, out = set(), []
        for layer in [t._keras_history[0] for t in self.inputs] + [n.operation for n in self.nodes]:
            if id(layer) not in seen:
                seen.add(id(layer))
                out.append(layer)
        return out

    def run(self, values: list):
        """The outputs (in ``output_structure``) for input values in ``self.inputs`` order (the
        ``training`` flag reaches each layer through the model call's context)."""
        computed = {id(t): v for t, v in zip(self.inputs, values)}
        for node in self.nodes:
            def value_of(item):
                return computed[id(item)] if isinstance(item, KerasTensor) else item
            args = map_structure(value_of, node.call_args)
            kwargs = map_structure(value_of, node.call_kwargs)
            outputs = node.operation(*args, **kwargs)
            for tensor, value in zip(node.outputs, flatten(outputs)):
                computed[id(tensor)] = value
        return map_structure(lambda t: computed[id(t)], self.output_structure)
