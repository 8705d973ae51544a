"""Stochastic gradient descent, with optional (Nesterov) momentum."""
from __future__ import annotations

from .._types import LearningRateLike
from . import kernels
from .optimizer import Optimizer, _check_range


class SGD(Optimizer):
    """Plain: ``w -= lr * g``. With momentum: ``m = momentum * m - lr * g; w += m``;
    with nesterov: ``w += momentum * m - lr * g`` (using the new ``m``).

    Slots (saved in this order): ``momentum`` for each variable, only when ``momentum > 0``.

    >>> import lamina
    >>> round(float(lamina.optimizers.SGD(learning_rate=0.1, momentum=0.9).learning_rate), 6)
    0.1
    """

    def __init__(self, learning_rate: LearningRateLike = 0.01, momentum: float = 0.0, nesterov: bool = False,
                 name: str | None = "SGD", **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        _check_range("SGD", "momentum", momentum, 0, 1, closed=True)
        self.momentum, self.nesterov = float(momentum), bool(nesterov)

    def build_slots(self, variables):
        if self.momentum:
            for variable in variables:
                self.add_slot(variable, "momentum")

    def update_step(self, grad, variable, learning_rate):
        momentum = self.slot(variable, "momentum")._value if self.momentum else None
        kernels.sgd(variable._value, grad, momentum, lambda: self.scratch(variable), learning_rate, self.momentum,
                    self.nesterov)

    def gemm_momentum(self) -> float | None:
        """For the fused plan: the update can land inside the gradient's matrix product (plain
        SGD: 0; momentum without Nesterov: the momentum), or None."""
        if not (self.plain and not self.nesterov and type(self).update_step is SGD.update_step):
            return None
        return self.momentum

    _elementwise_rule = update_step  # one rule per element: the fused plan may update all weights at once

    def get_config(self):
        return {**super().get_config(), "momentum": self.momentum, "nesterov": self.nesterov}
