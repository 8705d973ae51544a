"""An op called on symbolic tensors (``ops.add(x, y)`` while building a Functional model)
becomes a node of the graph: an ``OpLayer`` that runs the op when the model runs."""
from __future__ import annotations

from .. import backend
from .layer import Layer


class OpLayer(Layer):
    """A ``lamina.ops`` function as a graph node (it has no weights). ``op_kwargs`` are the op's
    own arguments when they are not in the node's call (an op rebuilt from a Keras config)."""

    def __init__(self, fn, name: str | None = None, op_kwargs: dict | None = None, **kwargs):
        super().__init__(name=name or backend.unique_name(fn.__name__), **kwargs)
        self.fn = fn
        self.op_kwargs = dict(op_kwargs or {})

    def call(self, *args, **kwargs):
        kwargs.pop("training", None)
        return self.fn(*args, **{**self.op_kwargs, **kwargs})

    def get_config(self) -> dict:
        raise ValueError(f"The op '{self.fn.__name__}' in this Functional model cannot be saved on its own: "
                         "a Functional model's config saves its ops (see lamina.saving.op_configs); write it "
                         "as a layer (a Layer subclass, or a built-in layer such as layers.Add) to save it alone")


_KINDS: dict = {}


def _kind(fn) -> type:
    """The OpLayer subclass for ``fn``, named as Keras names the op's class (``ops.concatenate``
    is a ``Concatenate``), so summaries and errors show what Keras shows."""
    name = fn.__name__
    if name not in _KINDS:
        camel = "".join(part[:1].upper() + part[1:] for part in name.split("_"))
        _KINDS[name] = type(camel, (OpLayer,), {"__module__": __name__, "__doc__": OpLayer.__doc__})
    return _KINDS[name]


def symbolic_op(fn, args: tuple, kwargs: dict):
    """Call ``fn`` on symbolic ``args``: a new OpLayer node in the graph."""
    return _kind(fn)(fn)(*args, **kwargs)
