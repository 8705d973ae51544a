"""``lamina.version()``: the version string, as ``keras.version()`` gives Keras's.

Its own module so that ``import lamina`` stays free of it until it is first asked for.

>>> import lamina
>>> lamina.version() == lamina.__version__
True
"""
from __future__ import annotations


def version() -> str:
    """lamina's version (``lamina.__version__``): what ``keras.version()`` gives for Keras."""
    from . import __version__
    return __version__
