"""AdamW: Adam with decoupled weight decay on by default."""
from __future__ import annotations

from .._types import LearningRateLike
from .adam import Adam


class AdamW(Adam):
    """Adam's update after the base's decoupled decay ``w -= w * weight_decay * lr``
    (``weight_decay`` 0.004 by default, and required).

    Slots (saved in this order): as Adam: ``momentum``, ``velocity`` per variable, then
    (amsgrad) ``velocity_hat`` per variable.

    >>> import lamina
    >>> lamina.optimizers.AdamW().weight_decay
    0.004
    """

    def __init__(self, learning_rate: LearningRateLike = 0.001, weight_decay: float | None = 0.004,
                 beta_1: float = 0.9, beta_2: float = 0.999, epsilon: float = 1e-7, amsgrad: bool = False,
                 name: str | None = "adamw", **kwargs):
        if weight_decay is None:
            raise ValueError("AdamW expects weight_decay to be a float, got weight_decay=None")
        super().__init__(learning_rate=learning_rate, beta_1=beta_1, beta_2=beta_2, epsilon=epsilon,
                         amsgrad=amsgrad, name=name, weight_decay=weight_decay, **kwargs)
