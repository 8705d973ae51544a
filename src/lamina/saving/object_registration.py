"""User classes and functions that model files may name: ``register_keras_serializable`` and
``custom_objects`` scopes, as in ``keras.saving``.

A file names a registered class by ``"Package>Name"``; loading finds it here, never by importing
the module the file names.

>>> @register_keras_serializable(package="Docs")
... class Twice:
...     def get_config(self):
...         return {}
>>> get_registered_name(Twice)
'Docs>Twice'
>>> get_registered_object("Docs>Twice") is Twice
True
"""
from __future__ import annotations

import contextlib
from typing import Any, Callable, Iterator

_GLOBAL_CUSTOM_OBJECTS: dict[str, Any] = {}
_GLOBAL_CUSTOM_NAMES: dict[Any, str] = {}
_SCOPES: list[dict[str, Any]] = []


def register_keras_serializable(package: str = "Custom", name: str | None = None) -> Callable:
    """Decorator: make a class (with ``get_config``) or a function loadable by name.

    >>> @register_keras_serializable(package="Docs", name="half")
    ... def half(x):
    ...     return x / 2
    >>> get_registered_name(half)
    'Docs>half'
    """
    if not isinstance(package, str) or ">" in package:
        raise ValueError(f"register_keras_serializable expects package to be a str without '>', got {package!r}")

    def decorator(arg):
        class_name = name if name is not None else getattr(arg, "__name__", None)
        if not isinstance(class_name, str) or not class_name:
            raise ValueError(f"register_keras_serializable cannot name {arg!r}: pass name=")
        if isinstance(arg, type) and not hasattr(arg, "get_config"):
            raise ValueError(f"Cannot register {arg.__name__}: a class must implement get_config()")
        registered_name = f"{package}>{class_name}"
        _GLOBAL_CUSTOM_OBJECTS[registered_name] = arg
        _GLOBAL_CUSTOM_NAMES[arg] = registered_name
        return arg

    return decorator


def get_registered_name(obj) -> str | None:
    """``"Package>Name"`` for a registered class or function, else its ``__name__``."""
    return _GLOBAL_CUSTOM_NAMES.get(obj, getattr(obj, "__name__", None))


def registered_name_or_none(obj) -> str | None:
    """``"Package>Name"`` when ``obj`` was registered, else None."""
    try:
        return _GLOBAL_CUSTOM_NAMES.get(obj)
    except TypeError:  # unhashable objects are never registered
        return None


def get_registered_object(name: str, custom_objects: dict | None = None, module_objects: dict | None = None):
    """The object registered, scoped or passed in ``custom_objects`` under ``name``; else None.

    >>> get_registered_object("NotThere") is None
    True
    """
    if custom_objects and name in custom_objects:
        return custom_objects[name]
    for scope in reversed(_SCOPES):
        if name in scope:
            return scope[name]
    if name in _GLOBAL_CUSTOM_OBJECTS:
        return _GLOBAL_CUSTOM_OBJECTS[name]
    if module_objects and name in module_objects:
        return module_objects[name]
    return None


def get_custom_objects() -> dict[str, Any]:
    """The global registry itself (``{"Package>Name": object}``); adding to it registers."""
    return _GLOBAL_CUSTOM_OBJECTS


class CustomObjectScope:
    """Within ``with CustomObjectScope({"Name": obj}):`` loading finds ``obj`` by ``Name``.

    >>> with CustomObjectScope({"Thing": int}):
    ...     get_registered_object("Thing") is int
    True
    """

    def __init__(self, custom_objects: dict | None = None):
        if custom_objects is not None and not isinstance(custom_objects, dict):
            raise TypeError(f"custom_objects must be a dict, got {custom_objects!r}")
        self.custom_objects = dict(custom_objects or {})

    def __enter__(self):
        _SCOPES.append(self.custom_objects)
        return self

    def __exit__(self, *exc_info):
        for i in range(len(_SCOPES) - 1, -1, -1):
            if _SCOPES[i] is self.custom_objects:
                del _SCOPES[i]
                break


@contextlib.contextmanager
def custom_object_scope(custom_objects: dict | None = None) -> Iterator[CustomObjectScope]:
    """``with custom_object_scope({...}):`` is ``with CustomObjectScope({...}):``."""
    with CustomObjectScope(custom_objects) as scope:
        yield scope


def scoped_objects() -> dict[str, Any]:
    """Everything the open scopes provide (innermost wins)."""
    merged: dict[str, Any] = {}
    for scope in _SCOPES:
        merged.update(scope)
    return merged
