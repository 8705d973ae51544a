"""Variable paths as Keras 3 gives them: the names of the layers a variable was created in.

Keras opens a layer's name scope while it builds and calls it, so a weight's ``path`` is where it
was created: ``sequential/dense/kernel`` in a Sequential (it builds its layers itself), ``m/dense/
kernel`` in a subclassed model ``m`` (built during its first call), but ``dense/kernel`` in a
Functional model (its layers are built when called on the Inputs, before the model exists).
The optimizer names its slots from the path (``sequential_dense_kernel_momentum``), as Keras.

>>> import lamina
>>> model = lamina.Sequential([lamina.Input((3,)), lamina.layers.Dense(2)])
>>> [w.path for w in model.weights]
['sequential/dense/kernel', 'sequential/dense/bias']
"""
from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

_LOCAL = threading.local()


def _stack() -> list:
    stack = getattr(_LOCAL, "stack", None)
    if stack is None:
        stack = _LOCAL.stack = []
    return stack


@contextlib.contextmanager
def scope(layer) -> Iterator[None]:
    """Variables created inside are under ``layer``'s name (once: a layer building itself
    inside its own call opens no second scope)."""
    stack = _stack()
    if stack and stack[-1] is layer:
        yield
        return
    stack.append(layer)
    try:
        yield
    finally:
        stack.pop()


def enter(layer) -> bool:
    """Open ``layer``'s scope unless it is the innermost already; True when opened (then the
    caller must ``leave()``). A layer's call uses these rather than ``scope``: it is hot."""
    stack = _stack()
    if stack and stack[-1] is layer:
        return False
    stack.append(layer)
    return True


def leave() -> None:
    """Close the scope the last ``enter`` that returned True opened."""
    _stack().pop()


def variable_path(layer, name: str) -> str:
    """The path of ``layer``'s new variable ``name``: the open scopes, the layer, the name."""
    names = [owner.name for owner in _stack()]
    if not (_stack() and _stack()[-1] is layer):
        names.append(layer.name)
    return "/".join([*names, name])
