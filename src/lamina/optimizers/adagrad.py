"""Adagrad."""
from __future__ import annotations

import numpy as np

from .._types import LearningRateLike
from .optimizer import Optimizer


class Adagrad(Optimizer):
    """``a += g**2; w -= lr * g / sqrt(a + eps)``, ``a`` starting at ``initial_accumulator_value``.

    Slots (saved in this order): ``accumulator`` for each variable.

    >>> import lamina
    >>> lamina.optimizers.Adagrad().initial_accumulator_value
    0.1
    """

    def __init__(self, learning_rate: LearningRateLike = 0.001, initial_accumulator_value: float = 0.1,
                 epsilon: float = 1e-7, name: str | None = None, **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        if not initial_accumulator_value >= 0:
            raise ValueError(f"Adagrad expects initial_accumulator_value >= 0, got "
                             f"initial_accumulator_value={initial_accumulator_value}")
        if not epsilon >= 0:
            raise ValueError(f"Adagrad expects epsilon >= 0, got epsilon={epsilon}")
        self.initial_accumulator_value, self.epsilon = initial_accumulator_value, epsilon

    def build_slots(self, variables):
        for variable in variables:
            self.add_slot(variable, "accumulator", self.initial_accumulator_value)

    def update_step(self, grad, variable, learning_rate):
        a = self.slot(variable, "accumulator")._value
        a += np.square(grad)
        variable._value -= (learning_rate * grad) / np.sqrt(a + self.epsilon)

    _elementwise_rule = update_step  # one rule per element: the fused plan may update all weights at once

    def get_config(self):
        return {**super().get_config(), "initial_accumulator_value": self.initial_accumulator_value,
                "epsilon": self.epsilon}
