"""Adamax: Adam with the infinity norm."""
from __future__ import annotations

import numpy as np

from .._types import LearningRateLike
from .adam import _check_adam_args
from .optimizer import Optimizer


class Adamax(Optimizer):
    """``m = b1*m + (1-b1)*g; u = max(b2*u, |g|)``; ``w -= lr * m / ((1 - b1**t) * (u + eps))``.

    Slots (saved in this order): ``momentum``, ``norm`` for each variable in turn.

    >>> import lamina
    >>> lamina.optimizers.Adamax().beta_2
    0.999
    """

    def __init__(self, learning_rate: LearningRateLike = 0.001, beta_1: float = 0.9, beta_2: float = 0.999,
                 epsilon: float = 1e-7, name: str | None = "adamax", **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        _check_adam_args("Adamax", beta_1, beta_2, epsilon)
        self.beta_1, self.beta_2, self.epsilon = beta_1, beta_2, epsilon

    def build_slots(self, variables):
        for variable in variables:
            self.add_slot(variable, "momentum")
            self.add_slot(variable, "norm")

    def update_step(self, grad, variable, learning_rate):
        t = self.updates_applied + 1
        m = self.slot(variable, "momentum")._value
        u = self.slot(variable, "norm")._value
        m += (grad - m) * (1 - self.beta_1)
        np.maximum(u * self.beta_2, np.abs(grad), out=u)
        variable._value -= (m * learning_rate) / ((u + self.epsilon) * (1 - self.beta_1 ** t))

    _elementwise_rule = update_step  # one rule per element: the fused plan may update all weights at once

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon}
