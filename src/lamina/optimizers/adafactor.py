"""Adafactor: a second moment kept as row and column statistics for variables of rank >= 2."""
from __future__ import annotations

import numpy as np

from .._types import LearningRateLike
from ..variables import Variable
from .optimizer import Optimizer


class Adafactor(Optimizer):
    """With ``t`` the 1-based update count, ``rho = min(lr, 1/sqrt(t))`` and the step size
    ``alpha = max(epsilon_2, rms(w)) * rho``, ``s = g**2 + epsilon_1`` and ``b = 1 - t**beta_2_decay``:

    - rank >= 2: ``r = b*r + (1-b)*mean(s, -1)``, ``c = b*c + (1-b)*mean(s, -2)`` and
      ``v = r / mean(r, -1) (outer) c`` over the last two axes;
    - rank < 2: ``v = b*v + (1-b)*s``;

    then ``u = g / sqrt(v)``, ``u /= max(1, rms(u) / clip_threshold)`` and ``w -= alpha * u``.
    ``relative_step`` caps a constant ``lr`` at ``1/sqrt(t)`` as Keras does, but ``rho`` takes
    that minimum anyway, so it changes nothing (in Keras neither). The means and the rms span a
    whole variable, so Adafactor declares no elementwise rule (the fused plan applies it per
    variable).

    State (saved in this order), for each variable in turn: ``r`` and ``c`` (named as the
    variable, shaped as its shape less the last axis, and less the second last), then its
    ``velocity``. A variable of rank < 2 has no factored statistics: Keras keeps two int32 scalar
    placeholders in their place (with the variable's name as their path), and lamina does too, so
    the ``.keras`` files of either load in the other.

    >>> import lamina
    >>> lamina.optimizers.get("adafactor").beta_2_decay
    -0.8
    """

    def __init__(self, learning_rate: LearningRateLike = 0.001, beta_2_decay: float = -0.8,
                 epsilon_1: float = 1e-30, epsilon_2: float = 1e-3, clip_threshold: float = 1.0,
                 relative_step: bool = True, name: str | None = "adafactor", **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        for arg, value in (("epsilon_1", epsilon_1), ("epsilon_2", epsilon_2)):
            if not value >= 0:
                raise ValueError(f"Adafactor expects {arg} >= 0, got {arg}={value}")
        if not clip_threshold > 0:
            raise ValueError(f"Adafactor expects clip_threshold > 0, got clip_threshold={clip_threshold}")
        if not beta_2_decay <= 0:  # above 0, 1 - t**decay is below 0: a decay rate of no meaning
            raise ValueError(f"Adafactor expects beta_2_decay <= 0, got beta_2_decay={beta_2_decay}")
        self.beta_2_decay, self.epsilon_1, self.epsilon_2 = beta_2_decay, epsilon_1, epsilon_2
        self.clip_threshold, self.relative_step = clip_threshold, bool(relative_step)

    def build_slots(self, variables):
        for variable in variables:
            if variable._value.ndim < 2:
                for _ in range(2):
                    self._variables.append(Variable(np.zeros((), np.int32), name=variable.name,
                                                    path=variable.name, trainable=False))
            else:
                shape, dtype = variable.shape, variable._value.dtype
                slots = self._slots.setdefault(id(variable), {})
                slots["r"] = self.add_variable(np.zeros(shape[:-1], dtype), name=variable.name)
                slots["c"] = self.add_variable(np.zeros(shape[:-2] + shape[-1:], dtype), name=variable.name)
            self.add_slot(variable, "velocity")

    def update_step(self, grad, variable, learning_rate):
        t = self.updates_applied + 1
        w = variable._value
        dtype = w.dtype.type
        inverse_root_t = dtype(1.0 / np.sqrt(t))
        rate = dtype(learning_rate)
        if self.relative_step and not callable(self._learning_rate):
            rate = min(rate, inverse_root_t)
        rho = min(rate, inverse_root_t)
        alpha = max(dtype(self.epsilon_2), _rms(w)) * rho
        squared = grad * grad + dtype(self.epsilon_1)
        decay = dtype(1.0 - t ** self.beta_2_decay)
        slots = self._slots[id(variable)]
        v = slots["velocity"]._value
        if w.ndim >= 2:
            r, c = slots["r"]._value, slots["c"]._value
            r[...] = decay * r + (1 - decay) * np.mean(squared, axis=-1)
            c[...] = decay * c + (1 - decay) * np.mean(squared, axis=-2)
            v[...] = (r / np.mean(r, axis=-1, keepdims=True))[..., None] * c[..., None, :]
        else:
            v[...] = decay * v + (1 - decay) * squared
        update = grad / np.sqrt(v)
        update /= max(dtype(1.0), _rms(update) / dtype(self.clip_threshold))
        w -= alpha * update

    def finish_step(self) -> None:
        """The base's step count and flush of tiny state, but not of the second moments: they sit
        at ``epsilon_1`` (1e-30 by default, the flush's own threshold) where a gradient is ~0, and
        zeroing them would change the next ``g / sqrt(v)`` where Keras keeps them."""
        everything = self._variables
        self._variables = self._averages + self._accumulators  # the base's state; all the slots are moments
        try:
            super().finish_step()
        finally:
            self._variables = everything

    def get_config(self):
        return {**super().get_config(), "beta_2_decay": self.beta_2_decay, "epsilon_1": self.epsilon_1,
                "epsilon_2": self.epsilon_2, "clip_threshold": self.clip_threshold,
                "relative_step": self.relative_step}


def _rms(x: np.ndarray):
    return np.sqrt(np.mean(x * x))

