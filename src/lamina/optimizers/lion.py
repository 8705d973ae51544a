"""Lion: the sign of an interpolated momentum."""
from __future__ import annotations

import numpy as np

from .._types import LearningRateLike
from .optimizer import Optimizer, _check_range


class Lion(Optimizer):
    """``w -= lr * sign(b1*m + (1-b1)*g)``, then ``m = b2*m + (1-b2)*g``.

    Slots (saved in this order): ``momentum`` for each variable.

    >>> import lamina
    >>> lamina.optimizers.Lion().beta_2
    0.99
    """

    def __init__(self, learning_rate: LearningRateLike = 0.001, beta_1: float = 0.9, beta_2: float = 0.99,
                 name: str | None = "lion", **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        # beta_1 = 0 would make Lion plain sign descent, so Keras rejects it
        _check_range("Lion", "beta_1", beta_1, 0, 1, closed=True, open_low=True)
        _check_range("Lion", "beta_2", beta_2, 0, 1, closed=True)
        self.beta_1, self.beta_2 = beta_1, beta_2

    def build_slots(self, variables):
        for variable in variables:
            self.add_slot(variable, "momentum")

    def update_step(self, grad, variable, learning_rate):
        m = self.slot(variable, "momentum")._value
        variable._value -= learning_rate * np.sign(m * self.beta_1 + grad * (1.0 - self.beta_1))
        m *= self.beta_2
        m += grad * (1.0 - self.beta_2)

    _elementwise_rule = update_step  # one rule per element: the fused plan may update all weights at once

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2}
