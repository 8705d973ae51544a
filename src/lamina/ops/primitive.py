"""``Primitive``: one op's forward rule and, beside it, its vector-Jacobian product (VJP).

A primitive's ``forward`` takes NumPy values and returns a NumPy array (or a tuple of them).
Calling the primitive wraps the result in a ``Tensor`` and, while a ``GradientTape`` of the
calling thread records, puts one node on the tape. Its gradient comes in one of two forms:

- ``vjp(F, g, out, *inputs, **params)``: written once against an array namespace ``F``. The tape
  calls it with ``F = RAW`` (NumPy, on arrays: the fast first-order case) or with
  ``F = lamina.ops`` (on tensors: when another tape is recording the backward pass itself, which
  is how second-order gradients come out). Operators (``g * out``) work the same in both.
- ``raw_vjp(g, out, *inputs, **params)`` plus ``composite``: a hand-written NumPy backward pass
  for a fused op (a whole ``Dense`` call is one node), and the same computation written in ops,
  which the tape differentiates instead when the backward pass must itself be recorded. With
  ``saves=True`` the forward rule returns ``(output, residuals)`` and ``raw_vjp`` takes the
  residuals after ``out``: what the backward pass needs that is neither input nor output.

A VJP returns one gradient per input (``None`` where there is none); the tape sums a
broadcast input's gradient back to its shape and casts it to its dtype.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from . import tape as _tape
from .tensor import Tensor


class Primitive:
    """An op the tape knows how to differentiate."""

    __slots__ = ("name", "forward", "vjp", "raw_vjp", "composite", "multi_output", "saves", "takes_needs")

    def __init__(self, name: str, forward: Callable, vjp: Callable | None = None, *,
                 raw_vjp: Callable | None = None, composite: Callable | None = None,
                 multi_output: bool = False, saves: bool = False, takes_needs: bool = False):
        if raw_vjp is not None and composite is None:
            raise ValueError(f"primitive {name!r}: a raw_vjp needs a composite for higher-order gradients")
        self.name, self.forward, self.vjp = name, forward, vjp
        self.raw_vjp, self.composite, self.multi_output = raw_vjp, composite, multi_output
        self.saves = saves  # forward returns (output, residuals); raw_vjp gets the residuals
        # the VJP gets needs=(bool per input): it may skip the gradients nobody asked for (the
        # input gradient of a first layer is the largest product of a step)
        self.takes_needs = takes_needs

    @property
    def differentiable(self) -> bool:
        return self.vjp is not None or self.raw_vjp is not None

    def __call__(self, *args, **params):
        values = [a._value if isinstance(a, Tensor) else a for a in args]
        out = self.forward(*values, **params)
        residuals = None
        if self.saves:
            out, residuals = out
        result = tuple(Tensor(o) for o in out) if self.multi_output else Tensor(out)
        # any thread's tape: the one cheap test when nothing records; ``record`` takes this thread's
        if _tape.ANYWHERE and (self.differentiable or _tape.RECORDING_ALL):
            _tape.record(self, args, params, result, residuals)
        return result

    def __repr__(self) -> str:
        return f"<Primitive {self.name}>"


def defop(name: str, forward: Callable, vjp: Callable | None = None, **kwargs) -> Primitive:
    """A new primitive (the op modules define theirs with this)."""
    return Primitive(name, forward, vjp, **kwargs)


# --- the NumPy namespace that first-order VJPs run against -----------------------------------------
class _Raw:
    """NumPy under Keras's op names, for VJP rules run on arrays (``F = RAW``)."""

    def __getattr__(self, name):
        return getattr(np, name)

    @staticmethod
    def cast(x, dtype):
        return np.asarray(x).astype(dtype, copy=False)

    @staticmethod
    def convert_to_tensor(x, dtype=None):
        return np.asarray(x, dtype=dtype)

    @staticmethod
    def sigmoid(x):
        return np.exp(-np.logaddexp(0, -x))

    @staticmethod
    def softplus(x):
        return np.logaddexp(0, x)

    @staticmethod
    def index_add(shape, key, g, dtype):
        """Zeros of ``shape`` with ``g`` added at ``zeros[key]`` (repeated indices add up)."""
        out = np.zeros(shape, dtype)
        np.add.at(out, key, g)
        return out

    @staticmethod
    def erf(x):
        from .math_ops import _erf_raw
        return _erf_raw(x)


RAW = _Raw()


def shape_of(x) -> tuple:
    """The shape of a tensor or of anything NumPy can take as an array."""
    return x._value.shape if isinstance(x, Tensor) else np.shape(x)


def unbroadcast(F, g, shape: tuple):
    """Sum ``g`` over the axes that broadcasting added or stretched, giving it ``shape``."""
    gshape = tuple(g.shape)
    if gshape == tuple(shape):
        return g
    lead = len(gshape) - len(shape)
    axes = tuple(range(lead)) + tuple(i + lead for i, d in enumerate(shape) if d == 1 and gshape[i + lead] != 1)
    if axes:
        g = F.sum(g, axis=axes)
    return F.reshape(g, shape)
