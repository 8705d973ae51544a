"""The object graph ``tf.train.Checkpoint`` saves: which Variables it holds, under which keys.

As in TensorFlow, a value is found by the path of attribute names that leads to it from the
checkpoint, not by the Variable's own name (which differs between two instances of one class):
``net/l1/kernel/.ATTRIBUTES/VARIABLE_VALUE``. The walk goes breadth first, each object keeping
the shortest path that reaches it (the first in name order among equals), so an object met twice
is saved once. What it walks:

- a ``Checkpoint``: the objects given to it (keywords and later attributes), and ``save_counter``;
- a ``tf.Module``: its attributes, in name order;
- a Keras layer or model: its own attributes (what every lamina layer has is skipped, as
  ``saving/keras_walk.py`` does), a compiled model's ``optimizer`` too; the sub-layers and weights no
  attribute holds (a ``Sequential``'s layers) are ``layer-<i>`` and ``weight-<i>``;
- an optimizer: ``iter`` (its step count), ``learning_rate`` (a float rate's variable), its other
  state by name, and each slot under the variable it belongs to:
  ``net/l1/kernel/.OPTIMIZER_SLOT/optimizer/momentum/.ATTRIBUTES/VARIABLE_VALUE``;
- a list or tuple by index, a dict by key.

A dict key or attribute name holding ``/`` or ``.`` is escaped (``\\S``, ``\\.``), as TensorFlow does.
"""
from __future__ import annotations

import collections
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from ..variables import Variable

VALUE = ".ATTRIBUTES/VARIABLE_VALUE"
SLOT = ".OPTIMIZER_SLOT"
_MODULE_OWN = ("_name", "_scope")


def _layer_types() -> tuple[type, type, type]:
    from ..layers.layer import Layer
    from ..optimizers.optimizer import Optimizer
    from .module import Module
    return Layer, Optimizer, Module


def is_checkpoint(value: Any) -> bool:
    """A ``tf.train.Checkpoint``."""
    return getattr(type(value), "_is_lamina_checkpoint", False)


def is_trackable(value: Any) -> bool:
    """A Variable, a Keras layer or model, an optimizer, a ``tf.Module``, a Checkpoint, or a list,
    tuple or dict of these."""
    if isinstance(value, (list, tuple)):
        return all(is_trackable(item) for item in value)
    if isinstance(value, dict):
        return all(is_trackable(item) for item in value.values())
    return isinstance(value, (Variable, *_layer_types())) or is_checkpoint(value)


def escape(name: str) -> str:
    """``name`` as one step of a key: ``/`` and ``.`` escaped (``\\S``, ``\\.``), as TensorFlow does."""
    return str(name).replace("\\", "\\\\").replace("/", "\\S").replace(".", "\\.")


def children(obj: Any) -> list[tuple[str, Any]]:
    """``(name, child)`` for the objects ``obj`` holds directly, trackable or not (the walk keeps
    the trackable ones)."""
    Layer, Optimizer, Module = _layer_types()
    if is_checkpoint(obj):
        return obj._checkpoint_children()
    if isinstance(obj, (list, tuple)):
        return [(str(i), item) for i, item in enumerate(obj)]
    if isinstance(obj, dict):
        return sorted(((str(key), value) for key, value in obj.items()), key=lambda pair: pair[0])
    if isinstance(obj, Optimizer):
        return _optimizer_children(obj)
    if isinstance(obj, Layer):
        return _layer_children(obj)
    if isinstance(obj, Module):
        return sorted((key, value) for key, value in vars(obj).items() if key not in _MODULE_OWN)
    return []


def _layer_children(layer: Any) -> list[tuple[str, Any]]:
    from ..models.model import Model
    from ..saving.keras_walk import _skipped
    skipped = _skipped(isinstance(layer, Model))
    found = sorted((key, value) for key, value in vars(layer).items()
                   if key not in skipped and not key.startswith("__"))
    held = {id(leaf) for _, value in found for leaf in _leaves(value)}
    found += [(f"layer-{i}", sub) for i, sub in enumerate(layer._layers) if id(sub) not in held]
    own = list(layer._trainable_variables) + list(layer._non_trainable_variables)
    found += [(f"weight-{i}", weight) for i, weight in enumerate(own) if id(weight) not in held]
    return found


def _leaves(value: Any) -> Iterator[Any]:
    if isinstance(value, (list, tuple)):
        for item in value:
            yield from _leaves(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _leaves(item)
    else:
        yield value


def _optimizer_children(optimizer: Any) -> list[tuple[str, Any]]:
    slots = {id(slot) for owned in optimizer._slots.values() for slot in owned.values()}
    found: list[tuple[str, Any]] = [("iter", optimizer.iterations)]
    if optimizer._learning_rate_variable is not None:
        found.append(("learning_rate", optimizer._learning_rate_variable))
    taken = {"iter", "learning_rate"}
    for variable in optimizer._variables:
        if id(variable) in slots or any(variable is v for _, v in found):
            continue
        name, n = variable.name, 1
        while name in taken:
            name, n = f"{variable.name}_{n}", n + 1
        taken.add(name)
        found.append((name, variable))
    return found


@dataclass
class Graph:
    """What one walk found: each Variable under its key (and the other keys of a Variable met
    again, to the first), the objects by path, the layers and optimizers not built yet (their
    variables may still come), and the Checkpoints inside."""
    variables: dict[str, Variable] = field(default_factory=dict)
    aliases: dict[str, str] = field(default_factory=dict)
    paths: dict[int, str] = field(default_factory=dict)  # id(object) -> its path
    unbuilt: list[Any] = field(default_factory=list)
    checkpoints: list[Any] = field(default_factory=list)


def collect(root: Any) -> Graph:
    """Walk ``root`` breadth first (see the module docstring)."""
    Layer, Optimizer, _ = _layer_types()
    graph = Graph()
    graph.paths[id(root)] = ""
    queue: collections.deque = collections.deque([("", root)])
    optimizers = []
    while queue:
        path, obj = queue.popleft()
        if isinstance(obj, Variable):
            graph.variables[f"{path}/{VALUE}"] = obj
            continue
        if is_checkpoint(obj):
            graph.checkpoints.append(obj)
        elif isinstance(obj, (Layer, Optimizer)) and not getattr(obj, "built", True):
            graph.unbuilt.append(obj)
        if isinstance(obj, Optimizer):
            optimizers.append((path, obj))
        for name, child in children(obj):
            child_path = f"{path}/{escape(name)}" if path else escape(name)
            if id(child) in graph.paths and isinstance(child, Variable):
                graph.aliases.setdefault(f"{child_path}/{VALUE}", f"{graph.paths[id(child)]}/{VALUE}")
            if id(child) in graph.paths or not is_trackable(child):
                continue
            graph.paths[id(child)] = child_path
            queue.append((child_path, child))
    _add_slots(graph, optimizers)
    return graph


def _add_slots(graph: Graph, optimizers: list[tuple[str, Any]]) -> None:
    """Each optimizer's slots for the variables the walk found, under those variables' keys."""
    owners = list(graph.variables.items())
    for optimizer_path, optimizer in optimizers:
        for key, variable in owners:
            for slot_name, slot in optimizer._slots.get(id(variable), {}).items():
                owner = key[: -len(VALUE) - 1]
                graph.variables[f"{owner}/{SLOT}/{optimizer_path}/{escape(slot_name)}/{VALUE}"] = slot
