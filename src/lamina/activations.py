"""Activation functions with Keras's names, arguments and defaults (``keras.activations``).

Each public function computes through ``lamina.ops`` (so a tape differentiates it) and returns
a tensor. ``get(name)`` returns an ``Activation``: the function, plus, for the built-in ones,
its raw rules (``kernel``: a forward that can write in place and a VJP, from ``ops/nn.py``),
which ``Dense`` uses to apply and differentiate its activation inside its own fused node. Any
other callable works as an activation too (differentiated op by op).

>>> import numpy as np
>>> relu(np.array([-1.0, 2.0], "float32")).numpy()
array([0., 2.], dtype=float32)
>>> get("relu").name
'relu'
"""
from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from . import ops
from ._resolve import unknown_name
from .ops import nn as _nn
from .ops.tensor import Tensor, TensorLike


@dataclass(frozen=True)
class Activation:
    """An activation: its name, its function and (built-ins) its raw rules and their arguments.

    >>> act = get("tanh")
    >>> float(act(np.array(0.0)))
    0.0
    """

    name: str
    function: Callable
    kernel: _nn.Kernel | None = None
    params: dict = field(default_factory=dict)

    def __call__(self, x, **kwargs):
        return self.function(x, **kwargs)

    @property
    def needs_input(self) -> bool:
        """Whether the derivative reads the activation's input (so it must be kept)."""
        return self.kernel is None or self.kernel.needs_input

    def into(self, z: np.ndarray, out: np.ndarray) -> np.ndarray:
        """The activation of the array ``z`` written into ``out`` (which may be ``z``)."""
        assert self.kernel is not None  # only an activation with a kernel is fused
        return self.kernel.into(z, out, **self.params)

    def vjp(self, F, g, y, z):
        """The gradient with respect to the input, from the output's gradient ``g``."""
        return self.kernel.vjp(F, g, y, z, **self.params)[0]

    @property
    def derivative_into(self) -> Callable | None:
        """``f(dy, y)`` turning ``dy`` into the input's gradient in place, from the output alone
        (what the fused training plan needs of a hidden activation), or None."""
        return _IN_PLACE.get(self.name) if self.kernel is not None and not self.params else None


_REGISTRY: dict = {}


def register(name: str, function: Callable, kernel_name: str | None = None, aliases=(), **params) -> Activation:
    """Make ``name`` (and ``aliases``) resolve to ``function``; ``kernel_name`` names its raw
    rules in ``ops/nn.py`` (built-ins only)."""
    act = Activation(name, function, _nn.KERNELS.get(kernel_name) if kernel_name else None, params)
    for key in (name, *aliases):
        _REGISTRY[key] = act
    return act


def _relu_in_place(dy, y):
    dy *= y > 0
    return dy


def _tanh_in_place(dy, y):
    dy *= 1 - y * y
    return dy


def _sigmoid_in_place(dy, y):
    dy *= y * (1 - y)
    return dy


_IN_PLACE = {"relu": _relu_in_place, "tanh": _tanh_in_place, "sigmoid": _sigmoid_in_place,
             "linear": lambda dy, y: dy}


# --- the functions, with Keras's arguments ------------------------------------------------------------
def linear(x: TensorLike) -> Tensor:
    """The identity (floats are returned as they are, integers as floatx)."""
    x = ops.convert_to_tensor(x)
    return x if x.dtype.startswith("float") else ops.cast(x, float)


def relu(x: TensorLike, negative_slope: float = 0.0, max_value=None, threshold: float = 0.0) -> Tensor:
    """``max(x, 0)`` with Keras's options: values at or below ``threshold`` become 0 (above it
    ``x`` passes), then a ``max_value`` cap, then ``negative_slope * (x - threshold)`` below it.

    >>> relu(np.array([-10.0, -5.0, 0.0, 5.0, 10.0]), negative_slope=0.5).numpy().tolist()
    [-5.0, -2.5, 0.0, 5.0, 10.0]
    """
    if negative_slope == 0 and max_value is None and threshold == 0:
        return ops.relu(x)
    x = ops.convert_to_tensor(x)
    y = ops.where(x > threshold, x, 0.0) if threshold != 0 else ops.relu(x)
    if max_value is not None:
        y = ops.clip(y, 0.0, max_value)
    if negative_slope != 0:
        y = y - negative_slope * ops.relu(threshold - x)
    return y


def leaky_relu(x: TensorLike, negative_slope: float = 0.2) -> Tensor:
    """``x`` where ``x >= 0``, else ``negative_slope * x`` (Keras 3's default slope is 0.2)."""
    return ops.leaky_relu(x, negative_slope)


def elu(x: TensorLike, alpha: float = 1.0) -> Tensor:
    """``x`` where ``x > 0``, else ``alpha * (exp(x) - 1)``."""
    return ops.elu(x, alpha)


def gelu(x: TensorLike, approximate: bool = False) -> Tensor:
    """``x * P(X <= x)`` for a unit normal ``X``: exact by default (as Keras's activation), or the
    tanh approximation.

    >>> gelu(np.array([-1.0, 0.0, 1.0])).numpy().round(4).tolist()
    [-0.1587, 0.0, 0.8413]
    """
    return ops.gelu(x, approximate)


def softmax(x: TensorLike, axis: int | Sequence[int] | None = -1) -> Tensor:
    """``exp(x) / sum(exp(x))`` along ``axis``."""
    return ops.softmax(x, axis)


def log_softmax(x: TensorLike, axis: int | Sequence[int] | None = -1) -> Tensor:
    """``x - logsumexp(x)`` along ``axis``."""
    return ops.log_softmax(x, axis)


def celu(x: TensorLike, alpha: float = 1.0) -> Tensor:
    """``max(0, x) + min(0, alpha * (exp(x / alpha) - 1))``."""
    return ops.celu(x, alpha)


def glu(x: TensorLike, axis: int | Sequence[int] | None = -1) -> Tensor:
    """``a * sigmoid(b)`` for the halves ``a, b`` of ``x`` along ``axis``."""
    return ops.glu(x, axis)


def hard_shrink(x: TensorLike, threshold: float = 0.5) -> Tensor:
    """``x`` where ``|x| > threshold``, else 0."""
    return ops.hard_shrink(x, threshold)


def soft_shrink(x: TensorLike, threshold: float = 0.5) -> Tensor:
    """``x`` moved ``threshold`` towards 0 (0 within ``threshold``)."""
    return ops.soft_shrink(x, threshold)


def threshold(x: TensorLike, threshold, default_value) -> Tensor:
    """``x`` where ``x > threshold``, else ``default_value``."""
    return ops.threshold(x, threshold, default_value)


def squareplus(x: TensorLike, b: TensorLike = 4) -> Tensor:
    """``(x + sqrt(x**2 + b)) / 2``."""
    return ops.squareplus(x, b)


def sparsemax(x: TensorLike, axis: int = -1) -> Tensor:
    """The projection of ``x`` onto the probability simplex along ``axis``."""
    return ops.sparsemax(x, axis)


def _plain(name: str, op: Callable, doc: str) -> Callable:
    @functools.wraps(op)
    def activation(x):
        return op(x)
    activation.__name__ = activation.__qualname__ = name
    activation.__doc__ = doc
    return activation


relu6 = _plain("relu6", ops.relu6, "``min(max(x, 0), 6)``.")
selu = _plain("selu", ops.selu, "``scale * elu(x, alpha)`` with SELU's constants.")
sigmoid = _plain("sigmoid", ops.sigmoid, "``1 / (1 + exp(-x))``.")
silu = _plain("silu", ops.silu, "``x * sigmoid(x)``.")
swish = silu
hard_sigmoid = _plain("hard_sigmoid", ops.hard_sigmoid, "``relu6(x + 3) / 6``.")
hard_silu = _plain("hard_silu", ops.hard_silu, "``x * hard_sigmoid(x)``.")
hard_swish = hard_silu
softplus = _plain("softplus", ops.softplus, "``log(1 + exp(x))``.")
softsign = _plain("softsign", ops.softsign, "``x / (1 + |x|)``.")
tanh = _plain("tanh", ops.tanh, "The hyperbolic tangent.")
exponential = _plain("exponential", _nn.exponential, "``exp(x)``.")
mish = _plain("mish", _nn.mish, "``x * tanh(softplus(x))``.")
log_sigmoid = _plain("log_sigmoid", ops.log_sigmoid, "``log(sigmoid(x))``.")
hard_tanh = _plain("hard_tanh", ops.hard_tanh, "``x`` clipped to ``[-1, 1]``.")
tanh_shrink = _plain("tanh_shrink", ops.tanh_shrink, "``x - tanh(x)``.")
sparse_plus = _plain("sparse_plus", ops.sparse_plus, "0 below -1, ``x`` above 1, ``(x + 1)**2 / 4`` between.")
sparse_sigmoid = _plain("sparse_sigmoid", ops.sparse_sigmoid, "0 below -1, 1 above 1, ``(x + 1) / 2`` between.")

register("linear", linear, "linear", aliases=(None,))
for _name in ("relu", "relu6", "selu", "sigmoid", "softplus", "softsign", "tanh", "exponential", "mish",
              "hard_sigmoid", "log_sigmoid"):
    register(_name, globals()[_name], _name)
register("silu", silu, "silu", aliases=("swish",))
register("hard_silu", hard_silu, "hard_silu", aliases=("hard_swish",))
register("leaky_relu", leaky_relu, "leaky_relu", negative_slope=0.2)
register("elu", elu, "elu", alpha=1.0)
register("gelu", gelu, "gelu", approximate=False)
register("softmax", softmax, "softmax", axis=-1)
register("log_softmax", log_softmax, "log_softmax", axis=-1)
for _name in ("celu", "glu", "hard_shrink", "soft_shrink", "squareplus", "sparsemax", "hard_tanh", "tanh_shrink",
              "sparse_plus", "sparse_sigmoid"):
    register(_name, globals()[_name])
del _name


# --- lookup -------------------------------------------------------------------------------------------
def serialize(activation) -> str | dict:
    """What Keras stores in a config for ``activation``: a built-in's name, or a user's function
    as Keras's ``function`` object naming it (by its registered name when it has one).

    >>> serialize(swish)
    'silu'
    >>> serialize(lambda x: x)["class_name"]
    'function'
    """
    name = get(activation).name
    if name in _REGISTRY:
        return name
    return {"module": "builtins", "class_name": "function", "config": name, "registered_name": "function"}


def deserialize(name, custom_objects=None) -> Activation:
    """The activation a config names (``get`` for a name)."""
    key = name.get("config") if isinstance(name, dict) else name
    if custom_objects and isinstance(key, str) and key in custom_objects:
        return get(custom_objects[key])
    return get(name)


def get(identifier) -> Activation:
    """Resolve ``None``, a name, an ``Activation``, a public activation function or any callable.

    >>> get("tanh").name
    'tanh'
    """
    if isinstance(identifier, Activation):
        return identifier
    if isinstance(identifier, dict) and isinstance(identifier.get("config"), str):
        identifier = identifier["config"]  # {"class_name": "function", "config": "relu", ...}
        from .saving.object_registration import get_registered_object
        registered = get_registered_object(identifier)  # a user's function saved by its registered name
        if identifier not in _REGISTRY and callable(registered):
            return get(registered)
    if isinstance(identifier, str) or identifier is None:
        if identifier in _REGISTRY:
            return _REGISTRY[identifier]
        names = sorted(k for k in _REGISTRY if k is not None)
        raise unknown_name("activation", identifier, names)
    if callable(identifier):
        for act in _REGISTRY.values():
            if act.function is identifier:
                return act
        from .saving.object_registration import registered_name_or_none
        name = registered_name_or_none(identifier) or getattr(identifier, "__name__", type(identifier).__name__)
        return Activation(str(name), identifier)
    raise TypeError(f"activation must be a name or a function, got {identifier!r}")
