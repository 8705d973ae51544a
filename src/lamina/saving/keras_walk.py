"""Where Keras 3 keeps the weights of a subclassed model (and of a layer holding layers).

Keras walks such an object's attributes by name (public ones in sorted order, then the private
ones), skipping those every Keras ``Layer`` has: a layer or optimizer in an attribute is saved
under the attribute's name (``hidden/vars``), a list, tuple or dict of them under the attribute
with each item named after its class (``blocks/dense``, ``blocks/dense_1``; nested lists are
``container``, ``container_1``). A model's ``layers`` (its direct sub-layers in the order they were
assigned) and ``optimizer`` are attributes too, and each object is saved once, where the walk
first meets it: a layer already saved under ``hidden`` still takes its number in ``layers``.
lamina walks the same way, skipping the attributes every lamina ``Layer`` (or ``Model``) has, so a
class written once for both libraries keeps its weights in the same places.

>>> import lamina
>>> class Pair(lamina.layers.Layer):
...     def __init__(self):
...         super().__init__()
...         self.second = lamina.layers.Dense(2)
...         self.first = [lamina.layers.Dense(3), lamina.layers.Dense(4)]
>>> [path for path, _ in children(Pair())]
['first/dense', 'first/dense_1', 'second']
"""
from __future__ import annotations

import functools

from .. import backend

__all__ = ["children", "is_walked"]

# attributes lamina's layers and models set after construction (compile, fit, a Sequential's chain)
_LAMINA_LATER = frozenset((
    "_active", "_build_shapes", "_compile_args", "_compile_loss", "_compile_metrics", "_graph", "_input_layer",
    "_jit_compile", "_layers", "_loss_tracker", "_plan", "_plan_checked", "_compiled_step", "_prefixes",
    "_run_eagerly", "_stale",
    "_symbolic_output", "_traced_input", "_trainable", "_user_weighted", "_user_weights", "_chain", "_names",
    "_call_signature", "_outbound_nodes", "compiled", "history", "stop_training", "loss", "input_shape_hint"))
_WALKED_BY_KERAS = ("layers", "optimizer")  # a Keras Model's attributes no Keras Layer has


@functools.lru_cache(maxsize=2)
def _skipped(for_model: bool) -> frozenset:
    """The attribute names the walk skips: what every lamina Layer (or Model) has."""
    from ..layers.layer import Layer
    from ..models.model import Model
    reference = Model(name="skip_reference") if for_model else Layer(name="skip_reference")
    names = set(dir(reference)) | _LAMINA_LATER
    if for_model:
        names -= set(_WALKED_BY_KERAS)
    return frozenset(names)


def is_walked(obj) -> bool:
    """A subclassed model, or a layer holding layers: saved by walking its attributes."""
    from ..layers.layer import Layer
    from ..models.model import Model
    if not isinstance(obj, Layer) or getattr(obj, "_graph", None) is not None or hasattr(obj, "add"):
        return False
    return isinstance(obj, Model) or bool(obj._layers)


def _saveable(value) -> bool:
    from ..layers.layer import Layer
    from ..optimizers.optimizer import Optimizer
    return isinstance(value, (Layer, Optimizer))


def _sort_key(name: str) -> str:
    return f"~{name}" if name.startswith("_") else name


def children(obj) -> list[tuple[str, object]]:
    """``(path below obj, layer or optimizer)`` in the order Keras's walk meets them."""
    from ..models.model import Model
    skipped = _skipped(isinstance(obj, Model))
    found: list[tuple[str, object]] = []
    for name in sorted(dir(obj), key=_sort_key):
        if name.startswith("__") or name in skipped:
            continue
        try:
            value = getattr(obj, name)
        except Exception:  # noqa: BLE001 - Keras skips attributes that fail to read, so must lamina
            continue
        if name == "optimizer" and not getattr(obj, "compiled", False):
            continue
        if _saveable(value):
            found.append((name, value))
        elif isinstance(value, (list, tuple, dict)):
            _container(value, name, found, set())
    return found


def _container(container, path: str, found: list, seen: set) -> None:
    if id(container) in seen:
        return
    seen.add(id(container))
    used: dict[str, int] = {}
    for item in (container.values() if isinstance(container, dict) else container):
        if _saveable(item):
            found.append((f"{path}/{_unique(backend.snake_case(type(item).__name__), used)}", item))
        elif isinstance(item, (list, tuple, dict)):
            _container(item, f"{path}/{_unique('container', used)}", found, seen)


def _unique(name: str, used: dict) -> str:
    if name in used:
        used[name] += 1
        return f"{name}_{used[name]}"
    used[name] = 0
    return name
