"""RMSprop."""
from __future__ import annotations

import numpy as np

from .optimizer import Optimizer


class RMSprop(Optimizer):
    """``v = rho*v + (1-rho)*g**2``; ``step = lr * g / sqrt(v + eps)`` (centered: ``v - a**2``
    under the root, where ``a`` averages ``g`` the same way); with momentum ``m = momentum*m + step;
    w -= m``, else ``w -= step``.
    """

    def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False,
                 name="rmsprop", **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        if not 0 <= rho < 1:
            raise ValueError(f"RMSprop expects rho in [0, 1), got rho={rho}")
        if not 0 <= momentum <= 1:
            raise ValueError(f"RMSprop expects momentum in [0, 1], got momentum={momentum}")
        self.rho, self.momentum, self.epsilon, self.centered = rho, momentum, epsilon, centered

    def build(self, variables):
        for variable in variables:
            self.add_slot(variable, "velocity")
        if self.momentum:
            for variable in variables:
                self.add_slot(variable, "momentum")
        if self.centered:
            for variable in variables:
                self.add_slot(variable, "average_gradient")
        super().build(variables)

    def update_step(self, grad, variable, learning_rate):
        v = self.slot(variable, "velocity").value
        v *= self.rho
        v += (1 - self.rho) * np.square(grad)
        denominator = v
        if self.centered:
            a = self.slot(variable, "average_gradient").value
            a *= self.rho
            a += (1 - self.rho) * grad
            denominator = v - np.square(a)
        step = learning_rate * grad / np.sqrt(denominator + self.epsilon)
        if self.momentum:
            m = self.slot(variable, "momentum").value
            m *= self.momentum
            m += step
            variable.value -= m
        else:
            variable.value -= step

    def get_config(self):
        return {**super().get_config(), "rho": self.rho, "momentum": self.momentum,
                "epsilon": self.epsilon, "centered": self.centered}
