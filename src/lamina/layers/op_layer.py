"""An op called on symbolic tensors (``ops.add(x, y)`` while building a Functional model)
becomes a node of the graph: an ``OpLayer`` that runs the op when the model runs.

Each op's node is named and typed as Keras 3 names its operation: ``ops.abs(x)`` is an
``Absolute`` called ``absolute`` (Keras's class, and its name in snake case), and an alias is
what Keras makes of it (``ops.swish`` is a ``Silu``, ``ops.fabs`` a ``Fabs``).

>>> import lamina
>>> lamina.backend.clear_session()
>>> y = lamina.ops.abs(lamina.Input((3,)))
>>> type(y._keras_history[0]).__name__, y._keras_history[0].name
('Absolute', 'absolute')
"""
from __future__ import annotations

from typing import Any, Callable

from .. import backend
from ..backend.config import snake_case
from .layer import Layer

# Keras 3's operation class for each op whose class is not the op's name in CamelCase (the rest
# are: ops.top_k is a TopK). tests/test_op_names.py checks every op against Keras itself.
_KERAS_CLASSES = {
    "abs": "Absolute", "allclose": "AllClose", "batch_normalization": "BatchNorm", "cdist": "CDist",
    "hard_swish": "HardSilu", "isin": "IsIn", "layer_normalization": "LayerNorm", "psnr": "PSNR",
    "rms_normalization": "RMSNorm", "searchsorted": "SearchSorted", "swish": "Silu",
}
# ops whose output's shape is a tensor's value: Keras refuses them on symbolic tensors, as lamina
_CONCRETE_ONLY = {"arange", "bartlett", "blackman", "empty", "eye", "hamming", "hanning", "identity", "kaiser",
                  "ones", "tri", "zeros"}


class OpLayer(Layer):
    """A ``lamina.ops`` function as a graph node (it has no weights). ``op_kwargs`` are the op's
    own arguments when they are not in the node's call (an op rebuilt from a Keras config)."""

    def __init__(self, fn: Callable, name: str | None = None, op_kwargs: dict | None = None, **kwargs: Any):
        super().__init__(name=name or backend.unique_name(snake_case(type(self).__name__)), **kwargs)
        self.fn = fn
        self.op_kwargs = dict(op_kwargs or {})

    def __call__(self, *args, **kwargs):
        """On symbolic tensors a node, as any layer; else the op itself, on its arguments as they
        are: a layer's call would make tensors of its numbers (``ops.split(x, 2)``'s sections)."""
        from ..backend.keras_tensor import any_symbolic
        if any_symbolic(args, kwargs):
            return super().__call__(*args, **kwargs)
        return self.call(*args, **kwargs)

    def compute_output_spec(self, *args, **kwargs):
        """The op run on stand-ins of the symbolic arguments (the others as they are)."""
        from .shapes import run_on_stand_ins
        return run_on_stand_ins(self.call, args, kwargs)

    def call(self, *args, **kwargs):
        kwargs.pop("training", None)
        return self.fn(*args, **{**self.op_kwargs, **kwargs})

    def get_config(self) -> dict:
        raise ValueError(f"The op '{self.fn.__name__}' in this Functional model cannot be saved on its own: "
                         "a Functional model's config saves its ops (see lamina.saving.op_configs); write it "
                         "as a layer (a Layer subclass, or a built-in layer such as layers.Add) to save it alone")


def keras_class_name(op_name: str) -> str:
    """The class of Keras's operation for the op ``lamina.ops.<op_name>``.

    >>> keras_class_name("top_k"), keras_class_name("abs"), keras_class_name("rms_normalization")
    ('TopK', 'Absolute', 'RMSNorm')
    """
    return _KERAS_CLASSES.get(op_name) or "".join(part[:1].upper() + part[1:] for part in op_name.split("_"))


_KINDS: dict = {}


def _kind(op_name: str) -> type:
    """The OpLayer subclass for the op ``op_name``, named as Keras names the op's class
    (``ops.concatenate`` is a ``Concatenate``), so summaries and errors show what Keras shows."""
    class_name = keras_class_name(op_name)
    if class_name not in _KINDS:
        _KINDS[class_name] = type(class_name, (OpLayer,), {"__module__": __name__, "__doc__": OpLayer.__doc__})
    return _KINDS[class_name]


_PUBLIC: dict[int, str] = {}


def public_name(fn: Callable) -> str:
    """The ``lamina.ops`` name ``fn`` is public under: each alias has its own function
    (``ops.absolute`` runs ``abs``), so the alias Keras names otherwise is told apart."""
    if not _PUBLIC:
        from .. import ops
        _PUBLIC.update({id(getattr(ops, name)): name for name in ops.__all__})
    return _PUBLIC.get(id(fn), fn.__name__)


def symbolic_op(fn: Callable, args: tuple, kwargs: dict):
    """Call ``fn`` on symbolic ``args``: a new OpLayer node in the graph."""
    name = public_name(fn)
    if name in _CONCRETE_ONLY:
        raise TypeError(f"ops.{name} takes sizes as Python or NumPy numbers, not symbolic tensors (the shape of "
                        "its output would be a tensor's value); compute the sizes before building the model")
    return _kind(name)(fn)(*args, **kwargs)
