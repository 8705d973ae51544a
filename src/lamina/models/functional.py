"""``Functional``: the model ``Model(inputs, outputs)`` makes, a graph of layer calls.

>>> import lamina
>>> lamina.backend.clear_session()
>>> x = lamina.Input(shape=(5,), name="features")
>>> h = lamina.layers.Dense(4, activation="relu")(x)
>>> model = lamina.Model(x, lamina.layers.Dense(1)(h))
>>> type(model).__name__, [layer.name for layer in model.layers]
('Functional', ['features', 'dense', 'dense_1'])
"""
from __future__ import annotations

from .model import Model


class Functional(Model):
    """A graph model: ``Model(inputs, outputs)`` returns one (a ``Model`` instance too)."""
