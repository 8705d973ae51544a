"""What the outermost layer call hands down to the layers it calls: the ``training`` flag, and
that it is the entry point (which clears the losses of the previous call, as Keras does)."""
from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .layer import Layer

_STATE = threading.local()


class CallContext:
    """The outermost layer call in progress (its layer) and the ``training`` it was given."""
    __slots__ = ("entry_layer", "training")

    def __init__(self, entry_layer: Layer, training: bool | None):
        self.entry_layer, self.training = entry_layer, training


def current() -> CallContext | None:
    """The call in progress on this thread, or None outside any layer call."""
    stack = getattr(_STATE, "stack", None)
    return stack[-1] if stack else None


def stack() -> list:
    """This thread's calls in progress, outermost first (``Layer.__call__`` pushes and pops
    itself: cheaper than ``entered``'s generator on the eager hot path)."""
    calls = getattr(_STATE, "stack", None)
    if calls is None:
        calls = _STATE.stack = []
    return calls


@contextlib.contextmanager
def entered(context: CallContext) -> Iterator[CallContext]:
    """Run the body inside ``context``, the current call until the block ends."""
    stack = getattr(_STATE, "stack", None)
    if stack is None:
        stack = _STATE.stack = []
    stack.append(context)
    try:
        yield context
    finally:
        stack.pop()


@contextlib.contextmanager
def shape_inference() -> Iterator[None]:
    """Inside: layers run on stand-in inputs to find output shapes; Variables do not change."""
    previous = getattr(_STATE, "inferring", False)
    _STATE.inferring = True
    try:
        yield
    finally:
        _STATE.inferring = previous


def inferring_shapes() -> bool:
    """Whether the layers are being called on stand-ins only to find output shapes."""
    return getattr(_STATE, "inferring", False)
