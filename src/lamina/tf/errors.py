"""TensorFlow's ``tf.errors`` for the errors lamina's TensorFlow names raise where TensorFlow's do.

``InvalidArgumentError`` is what TensorFlow raises for an op given arguments it cannot compute
with: two tensors of different dtypes in ``tf.add``, a ``tf.reshape`` to a shape of another
size. lamina raises it in those places too. It is also a ``ValueError``, so code written for
lamina's (and NumPy's) ValueErrors still catches it. TensorFlow's other error classes name
failures of its runtime (devices, queues, files, sessions) that lamina has not: asking for one
says so instead of handing back a class nothing raises.

>>> import lamina as tf
>>> try:
...     tf.add(tf.constant([1, 2]), tf.constant([1.0, 2.0]))
... except tf.errors.InvalidArgumentError as e:
...     print(type(e).__name__)
InvalidArgumentError
"""
from __future__ import annotations


class OpError(Exception):
    """The base of TensorFlow's op errors: ``message``, with ``node_def`` and ``op`` (None in lamina)."""

    def __init__(self, node_def: object = None, op: object = None, message: str = "", *args: object) -> None:
        super().__init__(message, *args)
        self.node_def, self.op, self.message = node_def, op, message

    def __str__(self) -> str:
        return self.message


class InvalidArgumentError(OpError, ValueError):
    """An op got an argument it cannot compute with (mixed dtypes, a shape of the wrong size)."""

    def __init__(self, node_def: object = None, op: object = None, message: str = "", *args: object) -> None:
        super().__init__(node_def, op, message, *args)


def invalid_argument(message: str) -> InvalidArgumentError:
    """An ``InvalidArgumentError`` carrying ``message`` (TensorFlow's constructor takes three arguments)."""
    return InvalidArgumentError(None, None, message)


def __getattr__(name: str):
    """TensorFlow's other error classes: refused, since nothing in lamina raises them."""
    if name.startswith("_"):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    raise AttributeError(
        f"lamina has no tf.errors.{name}: lamina's ops raise tf.errors.InvalidArgumentError (a ValueError), "
        "TypeError or ValueError; TensorFlow's other error classes report failures of its runtime (devices, "
        "files, queues, sessions) that lamina has not. Catch ValueError or TypeError instead.")


__all__ = ["InvalidArgumentError", "OpError"]
