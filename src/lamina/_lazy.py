"""Subpackages loaded at their first use rather than by ``import lamina``.

``lamina.datasets`` is the one that pays: its downloader's imports (``urllib.request``,
``http.client``, ``email``, ``socket``, ``ssl``) are a good part of ``import lamina``'s time and
most programs load their data another way. The module object exists from the start (so
``lamina.datasets``, ``lamina.keras.datasets`` and ``from lamina.keras.datasets import mnist``
work as before); its code runs when one of its attributes is first read.

>>> import lamina
>>> lamina.datasets.fashion_mnist.__name__
'lamina.datasets.fashion_mnist'
"""
from __future__ import annotations

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
