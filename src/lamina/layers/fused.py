"""Built-in layers with a hand-written backward pass: each call is ONE tape node.

A layer that mixes in ``FusedCall`` writes three things: ``forward(x, training) -> (y, ctx)``
and ``backward(ctx, dy, needs) -> (dx, grads)`` on NumPy arrays (``grads``: one per variable
of ``fused_variables()``, in order; ``needs`` says which of the input and the variables the
tape wants, so the others may be None; ``backward`` must not change ``dy``, which other nodes
may share), and ``composite(x, training)``, the same computation in ``lamina.ops``. The tape calls
``backward`` for first-order gradients; when a tape records the backward pass itself (second
order), it differentiates ``composite`` instead. Tests hold ``backward`` to the automatic
gradient of ``composite``.
"""
from __future__ import annotations

from typing import Sequence

from ..ops.primitive import Primitive


def _forward(x, *variables, layer, training):
    return layer.forward(x, training)


def _raw_vjp(g, y, ctx, x, *variables, layer, training, needs):
    dx, grads = layer.backward(ctx, g, needs)
    return (dx, *grads)


def _composite(x, *variables, layer, training):
    return layer.composite(x, training)


LAYER_CALL = Primitive("layer_call", _forward, raw_vjp=_raw_vjp, composite=_composite, saves=True, takes_needs=True)


class FusedCall:
    """Mix in before ``Layer``: ``call`` runs ``forward`` as one node whose VJP is ``backward``."""

    def call(self, inputs, training=None):
        if not self.fused:
            return self.composite(inputs, training)
        return LAYER_CALL(inputs, *self.fused_variables(), layer=self, training=bool(training))

    def fused_variables(self) -> Sequence:
        """The Variables ``backward`` gives gradients for, in its order: the layer's own weights
        (here ``gamma`` and ``beta``; Dense has its own), not a Variable a subclass adds beside
        them (it gets no gradient from this node, as in Keras, where such a Variable is unused)."""
        return [v for v in (getattr(self, "gamma", None), getattr(self, "beta", None)) if v is not None]

    @property
    def fused(self) -> bool:
        """Whether this call can run as the fused node (a subclass may say no for some settings)."""
        return True
