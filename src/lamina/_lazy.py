"""Subpackages loaded at their first use rather than by ``import lamina``, and module aliases.

``lamina.datasets`` is the one that pays: its downloader's imports (``urllib.request``,
``http.client``, ``email``, ``socket``, ``ssl``) are a good part of ``import lamina``'s time and
most programs load their data another way. The module object exists from the start (so
``lamina.datasets``, ``lamina.keras.datasets`` and ``from lamina.keras.datasets import mnist``
work as before); its code runs when one of its attributes is first read. The rest of ``lamina``
loads on first use through the package's ``__getattr__``; ``alias_modules`` makes
``import lamina.math`` give ``lamina.tf.math`` without importing it beforehand.

>>> import lamina
>>> lamina.datasets.fashion_mnist.__name__
'lamina.datasets.fashion_mnist'
"""
from __future__ import annotations

import importlib
import importlib.machinery
import importlib.util
import sys
import types


def lazy_module(name: str) -> types.ModuleType:
    """The module ``name``, registered in ``sys.modules`` and executed at its first attribute
    access (``importlib.util.LazyLoader``); the module itself when it is already imported."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:
        raise ModuleNotFoundError(f"No module named {name!r}", name=name)
    loader = importlib.util.LazyLoader(spec.loader)
    spec.loader = loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    loader.exec_module(module)
    return module


class _AliasFinder:
    """A meta path finder and loader (duck-typed: ``importlib.abc`` costs ~10 ms of imports) that
    imports ``alias`` as the module ``target``: the same object, found when first imported."""

    def __init__(self, aliases: dict[str, str]):
        self.aliases = aliases
        self.specs: dict[str, importlib.machinery.ModuleSpec] = {}

    def find_spec(self, fullname, path=None, target=None):
        if fullname not in self.aliases:
            return None
        return importlib.machinery.ModuleSpec(fullname, self)

    def create_module(self, spec):
        module = importlib.import_module(self.aliases[spec.name])
        self.specs[module.__name__] = module.__spec__
        return module

    def exec_module(self, module) -> None:
        # the import system has just stamped the alias's spec on the module: give it back its own
        module.__spec__ = self.specs[module.__name__]


def alias_modules(aliases: dict[str, str]) -> None:
    """Make ``import alias`` (and ``from alias import x``) import ``aliases[alias]`` and give
    that very module, registered under both names, without importing anything now."""
    pending = {alias: target for alias, target in aliases.items() if alias not in sys.modules}
    if pending:
        sys.meta_path.append(_AliasFinder(pending))


def lazy_names(package: str, sources: dict[str, str]):
    """A package's PEP 562 ``__getattr__`` and ``__dir__`` for names imported at first use:
    ``sources`` maps each name to the submodule (relative to ``package``) that defines it, or to
    a module of another package by its full name (``"lamina.trainers.structures"``).

    >>> getattr_, dir_ = lazy_names("lamina.saving", {"load_model": "saving_lib"})
    >>> getattr_("load_model").__module__
    'lamina.saving.saving_lib'
    """
    def __getattr__(name: str):
        if name not in sources:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        source = sources[name]
        module = source if source.startswith("lamina.") else f"{package}.{source}"
        value = getattr(importlib.import_module(module), name)
        setattr(sys.modules[package], name, value)
        return value

    def __dir__() -> list:
        return sorted(set(vars(sys.modules[package])) | set(sources))
    return __getattr__, __dir__
