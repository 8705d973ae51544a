"""RMSprop."""
from __future__ import annotations

from .._types import LearningRateLike
from . import kernels
from .optimizer import Optimizer, _check_range


class RMSprop(Optimizer):
    """``v = rho*v + (1-rho)*g**2``; ``step = lr * g / sqrt(v + eps)`` (centered: ``v - a**2 + eps``
    under the root, where ``a`` averages ``g`` the same way); with momentum ``m = momentum*m + step;
    w -= m``, else ``w -= step``.

    Slots (saved in this order, each kind for all variables before the next kind):
    ``velocity``; ``momentum`` (when ``momentum > 0``); ``average_gradient`` (when ``centered``).

    >>> import lamina
    >>> lamina.optimizers.RMSprop().rho
    0.9
    """

    def __init__(self, learning_rate: LearningRateLike = 0.001, rho: float = 0.9, momentum: float = 0.0,
                 epsilon: float = 1e-7, centered: bool = False, name: str | None = "rmsprop", **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        _check_range("RMSprop", "rho", rho, 0, 1)
        _check_range("RMSprop", "momentum", momentum, 0, 1, closed=True)
        if not epsilon >= 0:
            raise ValueError(f"RMSprop expects epsilon >= 0, got epsilon={epsilon}")
        self.rho, self.momentum, self.epsilon, self.centered = rho, momentum, epsilon, centered

    def build_slots(self, variables):
        for variable in variables:
            self.add_slot(variable, "velocity")
        if self.momentum > 0:
            for variable in variables:
                self.add_slot(variable, "momentum")
        if self.centered:
            for variable in variables:
                self.add_slot(variable, "average_gradient")

    def update_step(self, grad, variable, learning_rate):
        average = self.slot(variable, "average_gradient")._value if self.centered else None
        momentum = self.slot(variable, "momentum")._value if self.momentum > 0 else None
        kernels.rmsprop(variable._value, grad, self.slot(variable, "velocity")._value, average, momentum,
                        self.scratch(variable), self.rho, self.momentum, learning_rate, self.epsilon)

    _elementwise_rule = update_step  # one rule per element: the fused plan may update all weights at once

    def get_config(self):
        return {**super().get_config(), "rho": self.rho, "momentum": self.momentum,
                "epsilon": self.epsilon, "centered": self.centered}
