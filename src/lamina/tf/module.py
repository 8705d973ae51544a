"""TensorFlow's ``tf.Module``: a named container that finds the variables and modules in its
attributes, as TensorFlow's "Basic training loops" and "Introduction to modules" guides use it.

What TensorFlow does, and lamina with it: the attributes are walked in the order of their names,
through lists, tuples and dicts (a dict in the order of its keys); a Variable or module met twice
counts once; a module's own attributes come before those of the modules inside it, each of
those in turn. A Keras layer or model held in an attribute (a ``tf.Module`` in tf.keras 2)
counts as a submodule and gives its weights in its own order (``layer.weights``).

>>> import lamina as tf
>>> class Linear(tf.Module):
...     def __init__(self, name=None):
...         super().__init__(name=name)
...         self.w = tf.Variable(5.0)
...         self.b = tf.Variable(0.0, trainable=False)
>>> class Stack(tf.Module):
...     def __init__(self):
...         super().__init__()
...         self.layers = [Linear("first"), Linear("second")]
>>> stack = Stack()
>>> stack.name, [m.name for m in stack.submodules], len(stack.variables), len(stack.trainable_variables)
('stack', ['first', 'second'], 4, 2)
"""
from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator
from typing import Any

from ..variables import Variable

def _snake_case(class_name: str) -> str:
    """``MyModel`` -> ``my_model``, ``HTTPServer`` -> ``http_server``: a word starts at a capital
    after a small letter or digit, or at a capital before a small letter (not the first)."""
    out = []
    for i, char in enumerate(class_name):
        before = class_name[i - 1] if i else ""
        after = class_name[i + 1] if i + 1 < len(class_name) else ""
        if char.isupper() and i and (before.islower() or before.isdigit() or after.islower()):
            out.append("_")
        out.append(char.lower())
    return "".join(out)


class _NameScope(contextlib.AbstractContextManager):
    """``module.name_scope``: usable in ``with``; ``.name`` is the module's name and a slash, as in
    TensorFlow (lamina's ops carry no names, so entering it changes nothing)."""

    def __init__(self, name: str):
        self.name = name + "/"

    def __exit__(self, *exc_info) -> None:
        return None


class Module:
    """A named container of Variables and other modules (TensorFlow's ``tf.Module``).

    ``name``: a Python identifier; by default the class name in snake case (``MyModel`` ->
    ``my_model``)."""

    def __init__(self, name: str | None = None):
        if name is None:
            name = _snake_case(type(self).__name__)
        elif not isinstance(name, str) or not name.isidentifier():
            raise ValueError(f"{name!r} is not a valid module name: module names must be valid Python "
                             "identifiers (e.g. a valid class name)")
        self._name = name
        self._scope = _NameScope(name)

    @property
    def name(self) -> str:
        return self._name

    @property
    def name_scope(self) -> _NameScope:
        return self._scope

    @property
    def variables(self) -> tuple:
        """Every Variable in this module and its submodules, each once, in walking order."""
        return tuple(_walk(self, _is_variable))

    @property
    def trainable_variables(self) -> tuple:
        return tuple(_walk(self, lambda value: _is_variable(value) and value.trainable))

    @property
    def non_trainable_variables(self) -> tuple:
        return tuple(_walk(self, lambda value: _is_variable(value) and not value.trainable))

    @property
    def submodules(self) -> tuple:
        """Every module inside this one (not itself), each once: this one's first, then theirs."""
        return tuple(_walk(self, _is_module))

    @classmethod
    def with_name_scope(cls, method: Callable) -> Callable:
        """Decorate a method to run inside the module's ``name_scope`` (TensorFlow's decorator)."""
        @functools.wraps(method)
        def in_scope(self, *args, **kwargs):
            with self.name_scope:
                return method(self, *args, **kwargs)
        return in_scope

    def __repr__(self) -> str:
        return f"<{type(self).__module__}.{type(self).__name__} object named {self._name!r}>"


def _is_variable(value: Any) -> bool:
    return isinstance(value, Variable)


def _is_module(value: Any) -> bool:
    from ..layers.layer import Layer  # a Keras layer is a tf.Module in tf.keras 2
    return isinstance(value, (Module, Layer))


def _leaves(value: Any) -> Iterator[Any]:
    """The values inside ``value``'s lists, tuples and dicts (dicts by sorted key), ``value`` if none."""
    if isinstance(value, dict):
        for key in sorted(value, key=repr):
            yield from _leaves(value[key])
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _leaves(item)
    else:
        yield value


def _walk(module: Any, predicate: Callable[[Any], bool], seen: set | None = None) -> Iterator[Any]:
    """What ``predicate`` picks among ``module``'s attributes, then inside each submodule met."""
    seen = {id(module)} if seen is None else seen
    if not isinstance(module, Module):  # a Keras layer: its weights, and the layers inside it
        attributes = [module.weights, list(module._layers)]
    else:
        attributes = [value for key, value in sorted(vars(module).items()) if key not in ("_name", "_scope")]
    inner = []
    for leaf in _leaves(attributes):
        if id(leaf) in seen:
            continue
        seen.add(id(leaf))
        if predicate(leaf):
            yield leaf
        if _is_module(leaf):
            inner.append(leaf)
    for submodule in inner:
        yield from _walk(submodule, predicate, seen)
