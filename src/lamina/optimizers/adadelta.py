"""Adadelta."""
from __future__ import annotations

import numpy as np

from .._types import LearningRateLike
from .optimizer import Optimizer, _check_range


class Adadelta(Optimizer):
    """``G = rho*G + (1-rho)*g**2``; ``d = -sqrt(D + eps) / sqrt(G + eps) * g``;
    ``D = rho*D + (1-rho)*d**2``; ``w += lr * d``.

    Slots (saved in this order): ``accumulated_grad``, ``accumulated_delta_var`` for each
    variable in turn.

    >>> import lamina
    >>> lamina.optimizers.Adadelta().rho
    0.95
    """

    def __init__(self, learning_rate: LearningRateLike = 0.001, rho: float = 0.95, epsilon: float = 1e-7,
                 name: str | None = "adadelta", **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        _check_range("Adadelta", "rho", rho, 0, 1)
        if not epsilon >= 0:
            raise ValueError(f"Adadelta expects epsilon >= 0, got epsilon={epsilon}")
        self.rho, self.epsilon = rho, epsilon

    def build_slots(self, variables):
        for variable in variables:
            self.add_slot(variable, "accumulated_grad")
            self.add_slot(variable, "accumulated_delta_var")

    def update_step(self, grad, variable, learning_rate):
        grads_sq = self.slot(variable, "accumulated_grad")._value
        deltas_sq = self.slot(variable, "accumulated_delta_var")._value
        grads_sq *= self.rho
        grads_sq += (1 - self.rho) * np.square(grad)
        delta = -np.sqrt(deltas_sq + self.epsilon) * grad / np.sqrt(grads_sq + self.epsilon)
        deltas_sq *= self.rho
        deltas_sq += (1 - self.rho) * np.square(delta)
        variable._value += learning_rate * delta

    _elementwise_rule = update_step  # one rule per element: the fused plan may update all weights at once

    def get_config(self):
        return {**super().get_config(), "rho": self.rho, "epsilon": self.epsilon}
