"""Adam."""
from __future__ import annotations

import numpy as np

from .._types import LearningRateLike
from . import kernels
from .optimizer import Optimizer, _check_range


class Adam(Optimizer):
    """``m = b1*m + (1-b1)*g; v = b2*v + (1-b2)*g**2``;
    ``w -= lr * sqrt(1-b2**t) / (1-b1**t) * m / (sqrt(v) + eps)`` (with amsgrad, ``v`` is the
    running max of ``v``), ``t`` the 1-based update count.

    Slots (saved in this order): ``momentum``, ``velocity`` for each variable in turn, then
    (amsgrad) ``velocity_hat`` for each variable.

    >>> import lamina
    >>> round(float(lamina.optimizers.Adam().learning_rate), 6)
    0.001
    """

    def __init__(self, learning_rate: LearningRateLike = 0.001, beta_1: float = 0.9, beta_2: float = 0.999,
                 epsilon: float = 1e-7, amsgrad: bool = False, name: str | None = "adam", **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        _check_adam_args(type(self).__name__, beta_1, beta_2, epsilon)
        self.beta_1, self.beta_2, self.epsilon, self.amsgrad = beta_1, beta_2, epsilon, amsgrad

    def build_slots(self, variables):
        for variable in variables:
            self.add_slot(variable, "momentum")
            self.add_slot(variable, "velocity")
        if self.amsgrad:
            for variable in variables:
                self.add_slot(variable, "velocity_hat")

    def update_step(self, grad, variable, learning_rate):
        t = self.updates_applied + 1
        alpha = learning_rate * np.sqrt(1 - self.beta_2 ** t) / (1 - self.beta_1 ** t)
        v_hat = self.slot(variable, "velocity_hat")._value if self.amsgrad else None
        kernels.adam(variable._value, grad, self.slot(variable, "momentum")._value,
                     self.slot(variable, "velocity")._value, v_hat, self.scratch(variable),
                     1 - self.beta_1, 1 - self.beta_2, alpha, self.epsilon)

    _elementwise_rule = update_step  # one rule per element: the fused plan may update all weights at once

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2,
                "epsilon": self.epsilon, "amsgrad": self.amsgrad}


def _check_adam_args(cls: str, beta_1, beta_2, epsilon) -> None:
    _check_range(cls, "beta_1", beta_1, 0, 1)
    _check_range(cls, "beta_2", beta_2, 0, 1)
    if not epsilon >= 0:
        raise ValueError(f"{cls} expects epsilon >= 0, got epsilon={epsilon}")
