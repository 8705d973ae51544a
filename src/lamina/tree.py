"""``keras.tree``: functions over nested structures, by Keras 3's rules, for custom
``train_step`` code and data pipelines.

Lists, tuples, dicts (``OrderedDict``, ``defaultdict``), namedtuples and deques nest; anything
else (an array, a tensor, a string, a number) is a leaf, and so is ``None`` unless
``none_is_leaf=False``. A dict's values go in the order of its sorted keys (its insertion order
when the keys do not sort; an ``OrderedDict`` keeps its own order), and a rebuilt dict keeps the
original's key order. lamina's tracked lists and dicts (a layer's attributes) nest as lists and dicts.

>>> import lamina
>>> lamina.tree.flatten({"b": 1, "a": [2, None]})
[2, None, 1]
>>> lamina.tree.map_structure(lambda v: v * 10, {"b": 1, "a": (2, 3)})
{'b': 10, 'a': (20, 30)}
"""
from __future__ import annotations

import collections
from collections.abc import Callable
from typing import Any

__all__ = ["MAP_TO_NONE", "assert_same_structure", "flatten", "is_nested", "lists_to_tuples", "map_structure",
           "map_structure_up_to", "pack_sequence_as", "traverse"]


class MAP_TO_NONE:  # noqa: N801  (Keras's name)
    """Returned by ``traverse``'s function: put ``None`` in place of this sub-structure."""


def _tracked_types() -> tuple:
    from .layers.tracking import TrackedDict, TrackedList, WatchedList
    return (TrackedList, WatchedList), (TrackedDict,)


def _is_namedtuple(value) -> bool:
    return isinstance(value, tuple) and hasattr(type(value), "_fields")


def _kind(value, none_is_leaf: bool = True) -> str | None:
    """The kind of node ``value`` is, or None for a leaf."""
    kind = type(value)
    if kind is list or kind is tuple or kind is collections.deque:
        return kind.__name__
    if kind is dict or kind is collections.defaultdict:
        return "dict"
    if kind is collections.OrderedDict:
        return "ordered"
    if value is None:
        return None if none_is_leaf else "none"
    if _is_namedtuple(value):
        return "namedtuple"
    lists, dicts = _tracked_types()
    if isinstance(value, lists):
        return "list"
    return "dict" if isinstance(value, dicts) else None


def _sorted_keys(mapping) -> list:
    try:
        return sorted(mapping)
    except TypeError:  # keys of several types: their own order, as Keras's optree does
        return list(mapping)


def _keys(node, kind: str) -> list | None:
    """The keys of a mapping node in flattening order (None for a sequence)."""
    if kind == "dict":
        return _sorted_keys(node)
    return list(node) if kind == "ordered" else None


def _children(node, kind: str) -> list:
    keys = _keys(node, kind)
    if keys is not None:
        return [node[k] for k in keys]
    return [] if kind == "none" else list(node)


def _rebuild(node, kind: str, children: list):
    """A node like ``node`` holding ``children`` (in flattening order)."""
    keys = _keys(node, kind)
    if keys is not None:
        by_key = dict(zip(keys, children))
        items = [(k, by_key[k]) for k in node]  # the original's own key order
        if isinstance(node, collections.defaultdict):
            return collections.defaultdict(node.default_factory, items)
        return collections.OrderedDict(items) if kind == "ordered" else dict(items)
    if kind == "namedtuple":
        return type(node)(*children)
    if kind == "deque":
        return collections.deque(children, maxlen=node.maxlen)
    if kind == "none":
        return None
    return tuple(children) if kind == "tuple" else list(children)


def is_nested(structure: Any) -> bool:
    """Whether ``structure`` is a list, tuple, dict, namedtuple or deque (not a leaf)."""
    return _kind(structure) is not None


def flatten(structure: Any) -> list:
    """The leaves of ``structure`` in order (dicts by sorted key); ``[structure]`` for a leaf."""
    kind = _kind(structure)
    if kind is None:
        return [structure]
    leaves: list = []
    for child in _children(structure, kind):
        leaves.extend(flatten(child))
    return leaves


def _mismatch(message: str, a, b):
    return ValueError(f"The two structures don't have the same nested structure: {message}. "
                      f"First structure: {a!r:.200}, second structure: {b!r:.200}")


def _check_same_node(a, b, a_kind: str | None, b_kind: str | None) -> None:
    """Refuse ``b`` where it is not the same kind of node as ``a``, with the same keys or length."""
    if a_kind is None and b_kind is None:
        return
    if a_kind is None or b_kind is None:
        raise _mismatch("a leaf where the other has a nested structure", a, b)
    mappings = ("dict", "ordered")
    if a_kind in mappings and b_kind in mappings:  # dict, OrderedDict and defaultdict match by their keys
        if set(a) != set(b):
            raise _mismatch(f"the keys {sorted(map(str, a))} against {sorted(map(str, b))}", a, b)
        return
    if a_kind != b_kind or (a_kind == "namedtuple" and type(a) is not type(b)):
        raise _mismatch(f"a {type(a).__name__} where the other has a {type(b).__name__}", a, b)
    if len(_children(a, a_kind)) != len(_children(b, b_kind)):
        raise _mismatch(f"{len(_children(a, a_kind))} items against {len(_children(b, b_kind))}", a, b)


def _children_like(first, kind: str, other) -> list:
    """``other``'s children in the order of ``first``'s (a dict matched with an OrderedDict)."""
    keys = _keys(first, kind)
    if keys is not None:
        return [other[k] for k in keys]
    return _children(other, _kind(other) or kind)


def map_structure(func: Callable, *structures: Any, none_is_leaf: bool = True) -> Any:
    """``func`` applied to the leaves of ``structures`` (all of the same structure), in a
    structure like the first's. With ``none_is_leaf=False``, a ``None`` stays ``None``."""
    if not structures:
        raise ValueError("map_structure needs at least one structure")
    if not callable(func):
        raise TypeError(f"map_structure expects a callable, got {func!r}")
    first = structures[0]
    kind = _kind(first, none_is_leaf)
    for other in structures[1:]:
        _check_same_node(first, other, kind, _kind(other, none_is_leaf))
    if kind is None:
        return func(*structures)
    columns = [_children(first, kind)] + [_children_like(first, kind, s) for s in structures[1:]]
    mapped = [map_structure(func, *items, none_is_leaf=none_is_leaf) for items in zip(*columns)]
    return _rebuild(first, kind, mapped)


def map_structure_up_to(shallow_structure: Any, func: Callable, *structures: Any) -> Any:
    """``func`` applied to what sits in ``structures`` at each leaf of ``shallow_structure``
    (deeper parts are passed whole), in a structure like ``shallow_structure``."""
    if not structures:
        raise ValueError("map_structure_up_to needs at least one structure")
    kind = _kind(shallow_structure)
    if kind is None:
        return func(*structures)
    for other in structures:
        _check_same_node(shallow_structure, other, kind, _kind(other))
    columns = [_children_like(shallow_structure, kind, s) for s in structures]
    mapped = [map_structure_up_to(shallow, func, *items)
              for shallow, items in zip(_children(shallow_structure, kind), zip(*columns))]
    return _rebuild(shallow_structure, kind, mapped)


def assert_same_structure(a: Any, b: Any, check_types: bool | None = None) -> None:
    """Raise a ValueError unless ``a`` and ``b`` nest the same way: the same kinds of node
    (a list is not a tuple; dicts match by keys), the same lengths; leaves may differ.
    ``check_types`` is accepted and ignored, as in Keras 3, where it is deprecated."""
    a_kind, b_kind = _kind(a), _kind(b)
    _check_same_node(a, b, a_kind, b_kind)
    if a_kind is not None:
        for x, y in zip(_children(a, a_kind), _children_like(a, a_kind, b)):
            assert_same_structure(x, y)


def pack_sequence_as(structure: Any, flat_sequence: Any) -> Any:
    """``flat_sequence``'s items put in place of the leaves of ``structure`` (dict values by
    sorted key): the inverse of ``flatten``."""
    if isinstance(flat_sequence, (str, bytes)) or not hasattr(flat_sequence, "__iter__"):
        raise TypeError(f"pack_sequence_as expects a sequence of leaves, got {type(flat_sequence).__name__}")
    items = list(flat_sequence)
    expected = len(flatten(structure))
    if len(items) != expected:
        raise ValueError(f"pack_sequence_as got {len(items)} leaves for a structure of {expected}: "
                         f"{structure!r:.200}")
    return _pack(structure, iter(items))


def _pack(structure, items):
    kind = _kind(structure)
    if kind is None:
        return next(items)
    return _rebuild(structure, kind, [_pack(child, items) for child in _children(structure, kind)])


def traverse(func: Callable, structure: Any, top_down: bool = True) -> Any:
    """Call ``func`` on every sub-structure of ``structure``, depth first. Top down, a result
    other than None replaces that sub-structure (and it is not entered); bottom up, it replaces
    the sub-structure after its children were done. ``MAP_TO_NONE`` puts a ``None`` there."""
    if not callable(func):
        raise TypeError(f"traverse expects a callable, got {func!r}")

    def children_done(node):
        kind = _kind(node)
        if kind is None:
            return node
        return _rebuild(node, kind, [traverse(func, child, top_down) for child in _children(node, kind)])

    if top_down:
        result = func(structure)
        if result is None:
            return children_done(structure)
    else:
        structure = children_done(structure)
        result = func(structure)
        if result is None:
            return structure
    return None if result is MAP_TO_NONE else result


def lists_to_tuples(structure: Any) -> Any:
    """``structure`` with every list turned into a tuple, at every depth."""
    return traverse(lambda node: tuple(node) if isinstance(node, list) else None, structure, top_down=False)
