"""``Optimizer``: the base every optimizer shares.

It owns what is common: the learning rate (a float or a schedule), ``iterations``, gradient
clipping (``clipnorm``, ``clipvalue``, ``global_clipnorm``), decoupled weight decay, and the
slots' bookkeeping. A subclass creates its slots in ``build`` and writes one update rule in
``update_step(grad, variable, learning_rate)``, changing ``variable.value`` in place.
"""
from __future__ import annotations

import numpy as np

from .. import backend
from ..variables import Variable


class Optimizer:
    def __init__(self, learning_rate=0.001, weight_decay=None, clipnorm=None, clipvalue=None,
                 global_clipnorm=None, use_ema=False, ema_momentum=0.99, ema_overwrite_frequency=None,
                 loss_scale_factor=None, gradient_accumulation_steps=None, name=None, **kwargs):
        if kwargs:
            raise TypeError(f"{type(self).__name__} got unexpected keyword argument(s) {sorted(kwargs)}")
        self.name = name or backend.snake_case(type(self).__name__)
        if sum(c is not None for c in (clipnorm, clipvalue, global_clipnorm)) > 1:
            raise ValueError(f"{type(self).__name__}: set at most one of clipnorm, clipvalue and "
                             f"global_clipnorm, got clipnorm={clipnorm}, clipvalue={clipvalue}, "
                             f"global_clipnorm={global_clipnorm}")
        for arg, value in (("clipnorm", clipnorm), ("clipvalue", clipvalue), ("global_clipnorm", global_clipnorm),
                           ("weight_decay", weight_decay)):
            if value is not None and not value >= 0:
                raise ValueError(f"{type(self).__name__} expects {arg} >= 0, got {arg}={value}")
        if not 0 <= ema_momentum <= 1:
            raise ValueError(f"{type(self).__name__} expects ema_momentum in [0, 1], got {ema_momentum}")
        self.weight_decay, self.clipnorm, self.clipvalue = weight_decay, clipnorm, clipvalue
        self.global_clipnorm, self.use_ema, self.ema_momentum = global_clipnorm, use_ema, ema_momentum
        self.ema_overwrite_frequency = ema_overwrite_frequency
        self.loss_scale_factor, self.gradient_accumulation_steps = loss_scale_factor, gradient_accumulation_steps
        self._learning_rate = None
        self.learning_rate = learning_rate
        self.iterations = Variable(np.zeros((), np.int64), name="iteration", trainable=False)
        self.built = False
        self._slots: dict[int, dict[str, Variable]] = {}
        self.variables: list[Variable] = []  # iteration, learning rate, then the slots in order
        self._exclude_from_weight_decay: set[str] = set()

    # --- learning rate -----------------------------------------------------------------------
    @property
    def learning_rate(self) -> float:
        """The current rate: a schedule is evaluated at ``iterations``."""
        return self.current_learning_rate()

    @learning_rate.setter
    def learning_rate(self, value) -> None:
        if callable(value):
            self._learning_rate = value
            return
        try:
            value = float(value)
        except (TypeError, ValueError):
            raise TypeError(f"{type(self).__name__} expects learning_rate to be a float or a schedule, "
                            f"got {value!r}") from None
        if not value >= 0:
            raise ValueError(f"{type(self).__name__} expects learning_rate >= 0, got {value}")
        self._learning_rate = value

    def current_learning_rate(self) -> float:
        if callable(self._learning_rate):
            return float(self._learning_rate(int(self.iterations.value)))
        return self._learning_rate

    # --- slots -------------------------------------------------------------------------------
    def build(self, variables: list[Variable]) -> None:
        """Create the slots for ``variables``; subclasses call ``add_slot`` for each."""
        self.built = True

    def add_slot(self, variable: Variable, slot: str, initial=0.0) -> Variable:
        slot_var = Variable(np.full(variable.shape, initial, variable.value.dtype),
                            name=f"{variable.path.replace('/', '_')}_{slot}", trainable=False)
        self._slots.setdefault(id(variable), {})[slot] = slot_var
        self.variables.append(slot_var)
        return slot_var

    def slot(self, variable: Variable, name: str) -> Variable:
        return self._slots[id(variable)][name]

    def exclude_from_weight_decay(self, var_list=None, var_names=None) -> None:
        """Do not decay these variables (by object or by name substring)."""
        self._exclude_from_weight_decay |= {id(v) for v in var_list or ()}
        self._exclude_names = tuple(var_names or ())

    # --- applying gradients --------------------------------------------------------------------
    def apply(self, grads, variables) -> None:
        """One step: clip, decay, then ``update_step`` for each (grad, variable) pair."""
        variables = list(variables)
        if not self.built:
            self.build(variables)
        grads = self._clip(list(grads))
        learning_rate = self.current_learning_rate()
        for grad, variable in zip(grads, variables):
            if grad is None:
                continue
            if self.weight_decay and self._decays(variable):
                variable.value -= variable.value * (self.weight_decay * learning_rate)
            self.update_step(grad, variable, learning_rate)
            if variable.constraint is not None:
                variable.value[...] = variable.constraint(variable.value)
        self.iterations.value += 1

    def apply_gradients(self, grads_and_vars) -> None:
        """Keras's spelling: ``apply_gradients(zip(grads, variables))``."""
        pairs = list(grads_and_vars)
        self.apply([g for g, _ in pairs], [v for _, v in pairs])

    def _decays(self, variable) -> bool:
        if id(variable) in self._exclude_from_weight_decay:
            return False
        return not any(name in variable.name for name in getattr(self, "_exclude_names", ()))

    def _clip(self, grads):
        if self.clipvalue is not None:
            grads = [None if g is None else np.clip(g, -self.clipvalue, self.clipvalue) for g in grads]
        if self.clipnorm is not None:
            grads = [None if g is None else _scale_to_norm(g, np.sqrt(np.sum(g * g)), self.clipnorm) for g in grads]
        if self.global_clipnorm is not None:
            norm = np.sqrt(sum(float(np.sum(g * g)) for g in grads if g is not None))
            grads = [None if g is None else _scale_to_norm(g, norm, self.global_clipnorm) for g in grads]
        return grads

    def update_step(self, grad, variable, learning_rate) -> None:
        raise TypeError(f"{type(self).__name__} must implement update_step(grad, variable, learning_rate)")

    @property
    def plain(self) -> bool:
        """True when no clipping, weight decay or EMA applies, so updates may be fused."""
        return (self.clipnorm is None and self.clipvalue is None and self.global_clipnorm is None
                and not self.weight_decay and not self.use_ema)

    def get_config(self) -> dict:
        lr = self._learning_rate
        return {"name": self.name, "learning_rate": lr.get_config() if hasattr(lr, "get_config") else lr,
                "weight_decay": self.weight_decay, "clipnorm": self.clipnorm,
                "global_clipnorm": self.global_clipnorm, "clipvalue": self.clipvalue,
                "use_ema": self.use_ema, "ema_momentum": self.ema_momentum,
                "ema_overwrite_frequency": self.ema_overwrite_frequency,
                "loss_scale_factor": self.loss_scale_factor,
                "gradient_accumulation_steps": self.gradient_accumulation_steps}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def _scale_to_norm(grad, norm, limit):
    return grad * (limit / norm) if norm > limit else grad
