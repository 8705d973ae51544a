"""How a layer finds its sub-layers, weights and metrics: assigning one to an attribute tracks
it, and so does keeping it in a list or dict attribute (which becomes a tracked list or dict, so
a later ``append`` is tracked too), as Keras's ``Layer.__setattr__`` does.

>>> import lamina
>>> lamina.backend.clear_session()
>>> class Block(lamina.layers.Layer):
...     def __init__(self):
...         super().__init__()
...         self.parts = [lamina.layers.Dense(4)]
...         self.parts.append(lamina.layers.Dense(2))
>>> [layer.name for layer in Block()._layers]
['dense', 'dense_1']
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import collections
import weakref

from .._versions import VERSION

if TYPE_CHECKING:
    from .layer import Layer


_CLASSES: list = []


class WatchedList(list):
    """A layer's own list of sub-layers or weights: every change invalidates the cached weight
    lists (internal code appends to these lists directly)."""

    __slots__ = ()

    def append(self, value):
        VERSION[0] += 1
        super().append(value)

    def extend(self, values):
        VERSION[0] += 1
        super().extend(values)

    def insert(self, index, value):
        VERSION[0] += 1
        super().insert(index, value)

    def remove(self, value):
        VERSION[0] += 1
        super().remove(value)

    def pop(self, index=-1):
        VERSION[0] += 1
        return super().pop(index)

    def clear(self):
        VERSION[0] += 1
        super().clear()

    def __setitem__(self, index, value):
        VERSION[0] += 1
        super().__setitem__(index, value)

    def __delitem__(self, index):
        VERSION[0] += 1
        super().__delitem__(index)

    def __iadd__(self, values):  # type: ignore[misc]  # list's own: in place, any iterable
        VERSION[0] += 1
        return super().__iadd__(values)


def _kind(value) -> str | None:
    if not _CLASSES:  # imported on first use: these modules import this one
        from ..metrics.metric import Metric
        from ..random import SeedGenerator
        from ..variables import Variable
        from .layer import Layer
        _CLASSES.extend((Layer, Variable, Metric, SeedGenerator))
    Layer, Variable, Metric, SeedGenerator = _CLASSES  # type: ignore[misc]  # imported once, then cached
    if isinstance(value, Layer):
        return "layer"
    if isinstance(value, Variable):
        return "variable"
    if isinstance(value, Metric):
        return "metric"
    if isinstance(value, SeedGenerator):
        return "seed_generator"
    return None


def track(owner, value) -> Any:
    """Record ``value`` (or what a list, tuple or dict ``value`` holds) on ``owner``; return what
    to store (lists and dicts come back tracked)."""
    kind = _kind(value)
    if kind is not None:
        _add(owner, value, kind)
        return value
    if type(value) in (list, TrackedList):
        return TrackedList(owner, value)
    if type(value) in (dict, TrackedDict):
        return TrackedDict(owner, value)
    if type(value) is tuple:
        for item in value:
            track(owner, item)
    return value


def _add(owner, value, kind: str) -> None:
    VERSION[0] += 1
    if kind == "layer":
        if value is not owner and not any(value is layer for layer in owner._layers):
            owner._layers.append(value)
    elif kind == "variable":
        known = owner._trainable_variables + owner._non_trainable_variables
        if not any(value is v for v in known):
            (owner._trainable_variables if value.trainable else owner._non_trainable_variables).append(value)
    elif kind == "seed_generator":  # its state is in layer.variables, not in weights, as in Keras
        if not any(value is g for g in owner._seed_generators):
            owner._seed_generators.append(value)
    elif not any(value is m for m in owner._metrics):
        owner._metrics.append(value)


def collect_weights(layer) -> list:
    """``layer``'s own weights, then each sub-layer's ``weights``, without repeats."""
    seen, out = set(), []
    for v in layer._own_weights():
        if id(v) not in seen:
            seen.add(id(v))
            out.append(v)
    for sub in layer._layers:
        for v in sub.weights:
            if id(v) not in seen:
                seen.add(id(v))
                out.append(v)
    return out


def flatten_layers(layer, include_self: bool = True) -> list:
    """``layer`` (if asked) and every layer under it, breadth first, each once; cached until a
    sub-layer is added or removed anywhere (``_versions.VERSION``), since every outermost call
    walks them to clear the losses of the previous call."""
    cache = layer.__dict__.get("_flat_layers")
    if cache is not None and cache[0] == VERSION[0]:
        out = cache[1]
    else:
        seen, out = set(), []
        todo = collections.deque([layer])
        while todo:
            item = todo.popleft()
            if id(item) in seen:
                continue
            seen.add(id(item))
            out.append(item)
            todo.extend(item._layers)
        object.__setattr__(layer, "_flat_layers", (VERSION[0], out))
    return list(out) if include_self else out[1:]


def untrack(owner, value) -> None:
    """Forget ``value`` (removed from a tracked list or dict, or replaced on an attribute)."""
    VERSION[0] += 1
    for collection in (owner._layers, owner._trainable_variables, owner._non_trainable_variables, owner._metrics,
                       owner._seed_generators):
        for i, item in enumerate(collection):
            if item is value:
                del collection[i]
                return


class TrackedList(list):
    """A list attribute of a layer: what is added to it is tracked on the layer."""

    def __init__(self, owner: Layer, values: Iterable = ()):
        self._owner = weakref.ref(owner)
        super().__init__(self._track(v) for v in values)

    def _track(self, value):
        owner = self._owner()
        return track(owner, value) if owner is not None else value

    def append(self, value):
        super().append(self._track(value))

    def extend(self, values):
        super().extend(self._track(v) for v in values)

    def insert(self, index, value):
        super().insert(index, self._track(value))

    def __iadd__(self, values):  # type: ignore[misc]  # list's own: in place, any iterable
        self.extend(values)
        return self

    def __setitem__(self, index, value):
        super().__setitem__(index, [self._track(v) for v in value] if isinstance(index, slice) else self._track(value))

    def remove(self, value):
        super().remove(value)
        owner = self._owner()
        if owner is not None:
            untrack(owner, value)

    def pop(self, index=-1):
        value = super().pop(index)
        owner = self._owner()
        if owner is not None:
            untrack(owner, value)
        return value


class TrackedDict(dict):
    """A dict attribute of a layer: what is stored in it is tracked on the layer."""

    def __init__(self, owner: Layer, values: Mapping | Iterable[tuple[Any, Any]] = ()):
        self._owner = weakref.ref(owner)
        super().__init__()
        for key, value in dict(values).items():
            self[key] = value

    def __setitem__(self, key, value):
        owner = self._owner()
        super().__setitem__(key, track(owner, value) if owner is not None else value)

    def update(self, *args, **kwargs):
        for key, value in dict(*args, **kwargs).items():
            self[key] = value

    def pop(self, key, *default):
        value = super().pop(key, *default)
        owner = self._owner()
        if owner is not None:
            untrack(owner, value)
        return value
