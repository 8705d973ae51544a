"""Lamb: Adam's step scaled per variable by a trust ratio of norms."""
from __future__ import annotations

import numpy as np

from .._types import LearningRateLike
from .adam import _check_adam_args
from .optimizer import Optimizer


class Lamb(Optimizer):
    """``m = b1*m + (1-b1)*g; v = b2*v + (1-b2)*g**2``;
    ``u = (m / (1-b1**t)) / (sqrt(v / (1-b2**t)) + eps)``;
    ``w -= r * lr * u`` with the trust ratio ``r = ||w|| / ||u||`` (``1`` when either norm is
    0), ``t`` the 1-based update count. The ratio takes the norms of the whole variable, so the
    fused plan cannot update all the weights as one array: Lamb declares no elementwise rule.

    Slots (saved in this order): ``momentum``, ``velocity`` for each variable in turn.
    Keras's ``optimizers.get`` does not know the name ``"lamb"``, so neither does lamina's: pass
    ``Lamb()`` itself.

    >>> import lamina
    >>> lamina.optimizers.Lamb().epsilon
    1e-07
    """

    def __init__(self, learning_rate: LearningRateLike = 0.001, beta_1: float = 0.9, beta_2: float = 0.999,
                 epsilon: float = 1e-7, name: str | None = "lamb", **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        _check_adam_args("Lamb", beta_1, beta_2, epsilon)
        self.beta_1, self.beta_2, self.epsilon = beta_1, beta_2, epsilon

    def build_slots(self, variables):
        for variable in variables:
            self.add_slot(variable, "momentum")
            self.add_slot(variable, "velocity")

    def update_step(self, grad, variable, learning_rate):
        t = self.updates_applied + 1
        w = variable._value
        m, v = self.slot(variable, "momentum")._value, self.slot(variable, "velocity")._value
        m += (grad - m) * (1 - self.beta_1)
        v += (grad * grad - v) * (1 - self.beta_2)
        update = (m / (1 - self.beta_1 ** t)) / (np.sqrt(v / (1 - self.beta_2 ** t)) + self.epsilon)
        weight_norm = np.sqrt(np.sum(w * w))
        update_norm = np.sqrt(np.sum(update * update))
        ratio = weight_norm / update_norm if weight_norm > 0 and update_norm > 0 else 1.0
        w -= update * (ratio * learning_rate)

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon}
