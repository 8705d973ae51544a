"""What runs when a layer or an optimizer finishes building: ``tf.train.Checkpoint``'s deferred
restoration (a checkpoint restored into a layer not built yet fills its weights when they are
made; an optimizer's slots when its first step makes them).

``wait(obj, callback)`` asks for ``callback(obj)`` after ``obj``'s next build; ``built(obj)`` is
called by the builders (``layers/building.py``, ``Optimizer.build``). The callbacks are kept on
the object itself, as TensorFlow keeps its deferred restorations: they live as long as the object
(whoever holds the Checkpoint), and go with it. A copy of the object (``copy.deepcopy``, pickling)
carries none. Building an object nothing waits for costs one dict lookup.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

_ATTRIBUTE = "_lamina_waiting_for_build"


class _Waiting(list):
    """The callbacks waiting for one object's build (copies of the object wait for nothing)."""

    def __deepcopy__(self, memo: dict) -> _Waiting:
        return _Waiting()

    def __reduce__(self):
        return (_Waiting, ())


def wait(obj: Any, callback: Callable[[Any], None]) -> None:
    """Call ``callback(obj)`` once, after ``obj`` next finishes building (each callback once)."""
    waiting = obj.__dict__.get(_ATTRIBUTE)
    if waiting is None:
        waiting = obj.__dict__[_ATTRIBUTE] = _Waiting()  # (not setattr: a layer would track it)
    if callback not in waiting:
        waiting.append(callback)


def built(obj: Any) -> None:
    """``obj`` has finished building: run what waited for it."""
    waiting = obj.__dict__.pop(_ATTRIBUTE, None)
    for callback in waiting or ():
        callback(obj)
