"""A Functional model rebuilt from its config (see ``functional_config``): every layer made
first, then each node's call made as soon as the tensors it reads exist.

A node waiting for a tensor not made yet is parked under the ``(layer, node)`` it waits for and
woken when that call happens, so rebuilding is linear in the number of calls whatever the order
of the layers in the file. Everything in the config is checked before use: a reference to an
unknown layer, a node index out of range, a call without tensors, a cycle, more than
``MAX_NODES`` calls: each a ValueError naming the layer.
"""
from __future__ import annotations

import collections

from ..backend.keras_tensor import KerasTensor
from ..saving import limits

_GRAPH_KEYS = ("name", "trainable", "layers", "input_layers", "output_layers")
_MAX_DEPTH = 32  # nesting of lists and dicts inside one node's arguments


def rebuild(cls, config: dict, custom_objects: dict | None):
    """``cls(inputs=, outputs=, name=, trainable=)`` on the graph ``config`` describes."""
    from .functional_config import is_functional_config
    if not is_functional_config(config) or not isinstance(config["layers"], list):
        raise ValueError(f"{cls.__name__}.from_config expects a Functional config (a dict with name, layers, "
                         f"input_layers and output_layers), got {str(config)[:200]}")
    with limits.loading() as budget:
        created, pending = _create_layers(config["layers"], custom_objects, budget)
        _run_nodes(created, pending, custom_objects)
        inputs = _model_tensors(config["input_layers"], created, "input_layers")
        outputs = _model_tensors(config["output_layers"], created, "output_layers")
    extra = {key: value for key, value in config.items() if key not in _GRAPH_KEYS}
    trainable = config.get("trainable")
    try:
        return cls(inputs=inputs, outputs=outputs, name=config.get("name"),
                   trainable=True if trainable is None else bool(trainable), **extra)
    except TypeError as error:
        raise ValueError(f"Cannot build {cls.__name__} from its Functional config (extra keys {sorted(extra)}): "
                         f"{error}") from None


def _create_layers(entries: list, custom_objects, budget) -> tuple[dict, dict]:
    from ..layers.layer import Layer
    from ..saving.op_configs import deserialize_op_layer, is_op_config
    from ..saving.serialization_lib import deserialize_keras_object
    created, pending = {}, {}
    for entry in entries:
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            raise ValueError(f"Each layer of a Functional config must be a dict with a string 'name', got "
                             f"{str(entry)[:200]}")
        name, nodes = entry["name"], entry.get("inbound_nodes", [])
        if name in created:
            raise ValueError(f"The Functional config lists two layers named '{name}'")
        if not isinstance(nodes, list):
            raise ValueError(f"Layer '{name}': inbound_nodes must be a list, got {type(nodes).__name__}")
        if is_op_config(entry):
            budget.count_layer()
            layer = deserialize_op_layer(entry)
        else:
            unbuilt = {key: value for key, value in entry.items() if key not in ("name", "inbound_nodes",
                                                                                  "build_config")}
            layer = deserialize_keras_object(unbuilt, custom_objects)
        if not isinstance(layer, Layer):
            raise ValueError(f"Layer '{name}' of the Functional config is a {type(layer).__name__}, not a layer")
        created[name], pending[name] = layer, collections.deque(nodes)
    return created, pending


def _run_nodes(created: dict, pending: dict, custom_objects) -> None:
    """Make every node's call, each once the tensors it reads exist."""
    from .functional_config import MAX_NODES
    waiting: dict[tuple, list] = {}
    todo = list(reversed(list(pending)))
    calls = 0
    while todo:
        name = todo.pop()
        queue, layer = pending[name], created[name]
        while queue:
            histories: list = []
            node_data = _normalized(queue[0], name)
            _collect(node_data, histories, name, 0)
            missing = _first_missing(histories, created, name)
            if missing is not None:
                waiting.setdefault(missing, []).append(name)
                break
            calls += 1
            if calls > MAX_NODES:
                raise ValueError(f"the Functional config makes more than {MAX_NODES:,} layer calls; refusing")
            args = _revive(node_data["args"], created, custom_objects)
            kwargs = _revive(node_data["kwargs"], created, custom_objects)
            if kwargs.get("mask", 0) is None:
                del kwargs["mask"]
            layer(*args, **kwargs)
            queue.popleft()
            todo.extend(waiting.pop((name, len(layer._inbound_nodes) - 1), []))
    stuck = {name: (list(queue)[:1]) for name, queue in pending.items() if queue}
    if stuck:
        names = sorted(stuck)[:10]
        raise ValueError(f"Invalid Functional config: the calls of layers {names} read tensors no call makes "
                         "(the graph has a cycle, or names a node that does not exist)")


def _normalized(node_data, name: str) -> dict:
    """``{"args": [...], "kwargs": {...}}``; the older list form (``[[layer, node, tensor, kwargs],
    ...]``) becomes the tensors as one argument (one tensor alone)."""
    if isinstance(node_data, dict) and isinstance(node_data.get("args"), list) \
            and isinstance(node_data.get("kwargs", {}), dict):
        kwargs = node_data.get("kwargs", {})
        if not all(isinstance(key, str) for key in kwargs):
            raise ValueError(f"Layer '{name}': a node's kwargs must have string keys")
        return {"args": node_data["args"], "kwargs": kwargs}
    if isinstance(node_data, list) and node_data and all(isinstance(x, list) and len(x) in (3, 4)
                                                          for x in node_data):
        tensors = [{"class_name": "__keras_tensor__", "config": {"keras_history": x[:3]}} for x in node_data]
        kwargs = node_data[0][3] if len(node_data[0]) == 4 else {}
        if not isinstance(kwargs, dict):
            raise ValueError(f"Layer '{name}': a node's kwargs must be a dict, got {kwargs!r:.100}")
        return {"args": [tensors[0] if len(tensors) == 1 else tensors], "kwargs": kwargs}
    raise ValueError(f"Layer '{name}': each inbound node must be a dict with 'args' and 'kwargs', got "
                     f"{str(node_data)[:200]}")


def _history(value, name: str) -> tuple:
    config = value.get("config")
    history = config.get("keras_history") if isinstance(config, dict) else None
    if not (isinstance(history, list) and len(history) == 3 and isinstance(history[0], str)
            and all(isinstance(i, int) and not isinstance(i, bool) and i >= 0 for i in history[1:])):
        raise ValueError(f"Layer '{name}': a tensor in its inbound nodes needs keras_history [layer name, node "
                         f"index, tensor index], got {str(value)[:200]}")
    return tuple(history)


def _collect(value, histories: list, name: str, depth: int) -> None:
    if depth > _MAX_DEPTH:
        raise ValueError(f"Layer '{name}': its call arguments are nested more than {_MAX_DEPTH} deep")
    if isinstance(value, dict):
        if value.get("class_name") == "__keras_tensor__":
            histories.append(_history(value, name))
            return
        for item in value.values():
            _collect(item, histories, name, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _collect(item, histories, name, depth + 1)


def _first_missing(histories: list, created: dict, name: str):
    if not histories:
        raise ValueError(f"Layer '{name}': a call in the Functional config reads no tensor")
    for source, node_index, _ in histories:
        if source not in created:
            raise ValueError(f"Layer '{name}' reads a tensor of layer '{source}', which the config does not list")
        if node_index >= len(created[source]._inbound_nodes):
            return (source, node_index)
    return None


def _output(layer, node_index: int, tensor_index: int, what: str) -> KerasTensor:
    from .functional_config import keras_flatten
    nodes = layer._inbound_nodes
    if not 0 <= node_index < len(nodes):
        raise ValueError(f"{what} names node {node_index} of layer '{layer.name}', which has {len(nodes)}")
    outputs = [t for t in keras_flatten(nodes[node_index].output_structure) if isinstance(t, KerasTensor)]
    if not 0 <= tensor_index < len(outputs):
        raise ValueError(f"{what} names output {tensor_index} of layer '{layer.name}', which has {len(outputs)}")
    return outputs[tensor_index]


def _revive(value, created: dict, custom_objects):
    """Node arguments with their tensors (and serialized objects) rebuilt."""
    from ..saving.serialization_lib import deserialize_keras_object
    if isinstance(value, dict):
        if value.get("class_name") == "__keras_tensor__":
            source, node_index, tensor_index = _history(value, "?")
            return _output(created[source], node_index, tensor_index, "A node's argument")
        if "class_name" in value and "config" in value:
            return deserialize_keras_object(value, custom_objects)
        return {key: _revive(item, created, custom_objects) for key, item in value.items()}
    if isinstance(value, list):
        return [_revive(item, created, custom_objects) for item in value]
    return value


def _model_tensors(structure, created: dict, what: str, depth: int = 0):
    """The tensors ``input_layers`` / ``output_layers`` name, in their structure."""
    from .functional_config import is_functional
    if depth > _MAX_DEPTH:
        raise ValueError(f"{what} is nested more than {_MAX_DEPTH} deep")
    if isinstance(structure, list) and len(structure) == 3 and isinstance(structure[0], str):
        name, node_index, tensor_index = structure
        if name not in created:
            raise ValueError(f"{what} names layer '{name}', which the config does not list")
        if not all(isinstance(i, int) and not isinstance(i, bool) for i in (node_index, tensor_index)):
            raise ValueError(f"{what} needs [layer name, node index, tensor index], got {structure!r:.200}")
        layer = created[name]
        return _output(layer, node_index - (1 if is_functional(layer) else 0), tensor_index, what)
    if isinstance(structure, dict):
        return {key: _model_tensors(value, created, what, depth + 1) for key, value in structure.items()}
    if isinstance(structure, list) and structure:
        return [_model_tensors(value, created, what, depth + 1) for value in structure]
    raise ValueError(f"{what} must be [layer name, node index, tensor index], or a list or dict of them, got "
                     f"{structure!r:.200}")
