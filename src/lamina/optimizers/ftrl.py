"""FTRL-Proximal ("Follow The Regularized Leader")."""
from __future__ import annotations

import numpy as np

from .._types import LearningRateLike
from .optimizer import Optimizer


class Ftrl(Optimizer):
    """With ``p = -learning_rate_power``, ``g2 = g + 2 * l2_shrinkage * w`` and
    ``l2 = l2_regularization_strength + beta / (2 * lr)``:
    ``n_new = n + g**2``; ``z += g2 - (n_new**p - n**p) / lr * w``;
    ``w = (clip(z, -l1, l1) - z) / (n_new**p / lr + 2 * l2)``; ``n = n_new``.

    Slots (saved in this order): ``accumulator`` (``n``, starting at
    ``initial_accumulator_value``), ``linear`` (``z``) for each variable in turn.

    >>> import lamina
    >>> lamina.optimizers.Ftrl().learning_rate_power
    -0.5
    """

    def __init__(self, learning_rate: LearningRateLike = 0.001, learning_rate_power: float = -0.5,
                 initial_accumulator_value: float = 0.1, l1_regularization_strength: float = 0.0,
                 l2_regularization_strength: float = 0.0, l2_shrinkage_regularization_strength: float = 0.0,
                 beta: float = 0.0, name: str | None = "ftrl", **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        if not learning_rate_power <= 0:
            raise ValueError(f"Ftrl expects learning_rate_power <= 0, got learning_rate_power={learning_rate_power}")
        for arg, value in (("initial_accumulator_value", initial_accumulator_value),
                           ("l1_regularization_strength", l1_regularization_strength),
                           ("l2_regularization_strength", l2_regularization_strength),
                           ("l2_shrinkage_regularization_strength", l2_shrinkage_regularization_strength)):
            if not value >= 0:
                raise ValueError(f"Ftrl expects {arg} >= 0, got {arg}={value}")
        self.learning_rate_power = learning_rate_power
        self.initial_accumulator_value = initial_accumulator_value
        self.l1_regularization_strength = l1_regularization_strength
        self.l2_regularization_strength = l2_regularization_strength
        self.l2_shrinkage_regularization_strength = l2_shrinkage_regularization_strength
        self.beta = beta

    def build_slots(self, variables):
        for variable in variables:
            self.add_slot(variable, "accumulator", self.initial_accumulator_value)
            self.add_slot(variable, "linear")

    def update_step(self, grad, variable, learning_rate):
        n = self.slot(variable, "accumulator")._value
        z = self.slot(variable, "linear")._value
        power = -self.learning_rate_power
        l1 = self.l1_regularization_strength
        l2 = self.l2_regularization_strength + self.beta / (2.0 * learning_rate)
        w = variable._value
        shrunk_grad = grad + (2 * self.l2_shrinkage_regularization_strength) * w
        n_new = n + np.square(grad)
        z += shrunk_grad - (np.power(n_new, power) - np.power(n, power)) / learning_rate * w
        quadratic = np.power(n_new, power) / learning_rate + 2 * l2
        w[...] = (np.clip(z, -l1, l1) - z) / quadratic
        n[...] = n_new

    _elementwise_rule = update_step  # one rule per element: the fused plan may update all weights at once

    def get_config(self):
        return {**super().get_config(), "learning_rate_power": self.learning_rate_power,
                "initial_accumulator_value": self.initial_accumulator_value,
                "l1_regularization_strength": self.l1_regularization_strength,
                "l2_regularization_strength": self.l2_regularization_strength,
                "l2_shrinkage_regularization_strength": self.l2_shrinkage_regularization_strength,
                "beta": self.beta}
