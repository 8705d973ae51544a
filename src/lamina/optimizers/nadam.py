"""Nadam: Adam with Nesterov momentum, in Keras's momentum-cache form."""
from __future__ import annotations

import numpy as np

from .._types import LearningRateLike
from . import kernels
from .adam import _check_adam_args
from .optimizer import Optimizer


class Nadam(Optimizer):
    """With ``u_t = b1 * (1 - 0.5 * 0.96 ** t)`` (Keras 3's exponent is ``t`` itself, not the
    ``0.004 * t`` of Keras 2's Nadam) and ``U_t = u_1 * ... * u_t``:
    ``m = b1*m + (1-b1)*g; v = b2*v + (1-b2)*g**2``;
    ``m_hat = u_{t+1} * m / (1 - U_t * u_{t+1}) + (1 - u_t) * g / (1 - U_t)``;
    ``w -= lr * m_hat / (sqrt(v / (1 - b2**t)) + eps)``.

    State (saved in this order): the running product ``U`` (one scalar, created before the
    slots, as Keras 3.0-3.8 did), then ``momentum``, ``velocity`` for each variable in turn.

    >>> import lamina
    >>> lamina.optimizers.get("nadam").beta_1
    0.9
    """

    def __init__(self, learning_rate: LearningRateLike = 0.001, beta_1: float = 0.9, beta_2: float = 0.999,
                 epsilon: float = 1e-7, name: str | None = "nadam", **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        _check_adam_args("Nadam", beta_1, beta_2, epsilon)
        self.beta_1, self.beta_2, self.epsilon = beta_1, beta_2, epsilon

    def build_slots(self, variables):
        dtype = variables[0]._value.dtype if variables else np.dtype(np.float32)
        self._u_product = self.add_variable(np.ones((), dtype), name="u_product")
        for variable in variables:
            self.add_slot(variable, "momentum")
            self.add_slot(variable, "velocity")

    def _u(self, t: int) -> float:
        return self.beta_1 * (1.0 - 0.5 * 0.96 ** t)

    def update_steps(self, grads, variables, learning_rate):
        self._u_product._value *= self._u(self.updates_applied + 1)  # once per step, shared by all variables
        super().update_steps(grads, variables, learning_rate)

    def update_step(self, grad, variable, learning_rate):
        t = self.updates_applied + 1
        u_t, u_next = self._u(t), self._u(t + 1)
        u_product = float(self._u_product._value)
        kernels.nadam(variable._value, grad, self.slot(variable, "momentum")._value,
                      self.slot(variable, "velocity")._value, self.scratch(variable), self.scratch(variable, 1),
                      1 - self.beta_1, 1 - self.beta_2, u_next / (1 - u_product * u_next),
                      (1 - u_t) / (1 - u_product), 1 / (1 - self.beta_2 ** t), learning_rate, self.epsilon)

    _elementwise_rule = update_step  # one rule per element: the fused plan may update all weights at once

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon}
