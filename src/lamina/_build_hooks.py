"""What runs when a layer or an optimizer finishes building: ``tf.train.Checkpoint``'s deferred
restoration (a checkpoint restored into a layer not built yet fills its weights when they are
made; an optimizer's slots when its first step makes them).

``wait(obj, callback)`` asks for ``callback(obj)`` after ``obj``'s next build; ``built(obj)`` is
called by the builders (``layers/building.py``, ``Optimizer.build``). Nothing waits in a program
that never restores a checkpoint, and ``built`` then costs one dict test.
"""
from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any

WAITING: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # object -> callbacks for its build


def wait(obj: Any, callback: Callable[[Any], None]) -> None:
    """Call ``callback(obj)`` once, after ``obj`` next finishes building (each callback once)."""
    callbacks = WAITING.setdefault(obj, [])
    if callback not in callbacks:
        callbacks.append(callback)


def built(obj: Any) -> None:
    """``obj`` has finished building: run what waited for it."""
    if not WAITING:
        return
    try:
        callbacks = WAITING.pop(obj, None)
    except TypeError:  # not weakly referenceable: nothing can wait for it
        return
    for callback in callbacks or ():
        callback(obj)
