"""Learning-rate schedules: ``schedule(step)`` gives the rate for optimizer step ``step``.

Pass one as any optimizer's ``learning_rate``; the optimizer evaluates it at its
``iterations`` before each update. Formulas and config keys are Keras 3's
(keras/src/optimizers/schedules/learning_rate_schedule.py).

>>> from lamina.optimizers import schedules
>>> schedule = schedules.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5)
>>> round(schedule(10), 6)
0.05
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np


class _OneStep:
    """NumPy's functions the schedules use, for one Python float: the optimizers evaluate their
    schedule every step, where NumPy's calls on scalars cost ~2-6 us against ~0.3-0.7 us."""

    floor, ceil, cos, log, pi = math.floor, math.ceil, math.cos, math.log, math.pi
    minimum, maximum, power = staticmethod(min), staticmethod(max), staticmethod(pow)

    @staticmethod
    def where(condition, if_true, if_false):
        return if_true if condition else if_false


def _steps(step) -> tuple[Any, Any]:
    """``step`` (a number, an array of steps, a Variable or Tensor) as float64 values, and the
    namespace of functions for them (NumPy, or ``_OneStep`` for a single number)."""
    if isinstance(step, (int, float, np.integer, np.floating)) and not isinstance(step, bool):
        return float(step), _OneStep
    try:
        steps = np.asarray(step, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"A learning rate schedule takes a step number or an array of them, got "
                        f"{type(step).__name__} {step!r}") from None
    return (float(steps), _OneStep) if steps.ndim == 0 else (steps, np)


def _rates(values) -> Any:
    """A Python float for one step (what the optimizers read), else a float32 Tensor of the rates,
    one per step given (as Keras's schedules give for an array, e.g. to plot them)."""
    if not isinstance(values, np.ndarray):
        return float(values)
    from ..ops.tensor import Tensor
    return Tensor(values.astype(np.float32))


class LearningRateSchedule:
    """The base: subclasses implement ``__call__(step)`` and ``get_config()``.

    >>> class Halving(LearningRateSchedule):
    ...     def __call__(self, step):
    ...         return 0.1 / 2 ** step
    ...     def get_config(self):
    ...         return {}
    >>> Halving()(2)
    0.025
    """

    def __call__(self, step: int) -> float:
        raise TypeError(f"Learning rate schedule '{type(self).__name__}' must override __call__(self, step)")

    def get_config(self) -> dict:
        raise TypeError(f"Learning rate schedule '{type(self).__name__}' must override get_config() "
                        "to be serializable")

    @classmethod
    def from_config(cls, config: dict) -> "LearningRateSchedule":
        return cls(**config)


def _check_positive(cls_name: str, arg: str, value) -> None:
    if not value > 0:
        raise ValueError(f"{cls_name} expects {arg} > 0, got {arg}={value}")


class _RateDecay(LearningRateSchedule):
    """The two decays driven by ``decay_rate`` and ``step / decay_steps`` (floored with
    ``staircase``); subclasses give ``at(progress)``, the rate at that progress."""

    def __init__(self, initial_learning_rate: float, decay_steps: int, decay_rate: float,
                 staircase: bool = False, name: str | None = None):
        _check_positive(type(self).__name__, "decay_steps", decay_steps)
        self.initial_learning_rate, self.decay_steps = initial_learning_rate, decay_steps
        self.decay_rate, self.staircase, self.name = decay_rate, staircase, name or type(self).__name__

    def __call__(self, step: Any) -> Any:
        step, xp = _steps(step)
        progress = step / self.decay_steps
        if self.staircase:
            progress = xp.floor(progress)
        return _rates(self.at(progress))  # type: ignore[attr-defined]  # every subclass defines at()

    def get_config(self) -> dict:
        return {"initial_learning_rate": self.initial_learning_rate, "decay_steps": self.decay_steps,
                "decay_rate": self.decay_rate, "staircase": self.staircase, "name": self.name}


class ExponentialDecay(_RateDecay):
    """``initial_learning_rate * decay_rate ** (step / decay_steps)``; with ``staircase``
    the exponent is floored.

    >>> ExponentialDecay(1.0, decay_steps=2, decay_rate=0.5, staircase=True)(3)
    0.5
    """

    def at(self, progress: Any) -> Any:
        return self.initial_learning_rate * float(self.decay_rate) ** progress


class InverseTimeDecay(_RateDecay):
    """``initial_learning_rate / (1 + decay_rate * step / decay_steps)``; with ``staircase``
    ``step / decay_steps`` is floored.

    >>> InverseTimeDecay(1.0, decay_steps=1, decay_rate=0.5)(2)
    0.5
    """

    def at(self, progress: Any) -> Any:
        return self.initial_learning_rate / (1 + self.decay_rate * progress)


class PiecewiseConstantDecay(LearningRateSchedule):
    """``values[0]`` while ``step <= boundaries[0]``, ``values[i]`` while
    ``boundaries[i-1] < step <= boundaries[i]``, ``values[-1]`` after the last boundary.

    >>> schedule = PiecewiseConstantDecay([10, 20], [1.0, 0.5, 0.1])
    >>> schedule(10), schedule(11), schedule(21)
    (1.0, 0.5, 0.1)
    """

    def __init__(self, boundaries: list, values: list, name: str = "PiecewiseConstant"):
        if len(boundaries) != len(values) - 1:
            raise ValueError(f"PiecewiseConstantDecay expects len(values) == len(boundaries) + 1, got "
                             f"boundaries={boundaries} (length {len(boundaries)}) and values={values} "
                             f"(length {len(values)})")
        self.boundaries, self.values, self.name = boundaries, values, name

    def __call__(self, step: Any) -> Any:
        # the first boundary at or after the step picks the value: step <= boundaries[i]
        step, xp = _steps(step)
        if xp is _OneStep:
            return float(next((v for b, v in zip(self.boundaries, self.values) if step <= b), self.values[-1]))
        piece = np.searchsorted(np.asarray(self.boundaries, dtype=np.float64), step, side="left")
        return _rates(np.asarray(self.values, dtype=np.float64)[piece])

    def get_config(self) -> dict:
        return {"boundaries": self.boundaries, "values": self.values, "name": self.name}


class PolynomialDecay(LearningRateSchedule):
    """``(initial - end) * (1 - step / decay_steps) ** power + end`` with ``step`` capped at
    ``decay_steps``; with ``cycle`` the horizon is instead the first multiple of ``decay_steps``
    that is >= ``step`` (``decay_steps`` itself at step 0).

    >>> PolynomialDecay(1.0, decay_steps=4, end_learning_rate=0.0)(1)
    0.75
    """

    def __init__(self, initial_learning_rate: float, decay_steps: int, end_learning_rate: float = 0.0001,
                 power: float = 1.0, cycle: bool = False, name: str = "PolynomialDecay"):
        _check_positive("PolynomialDecay", "decay_steps", decay_steps)
        self.initial_learning_rate, self.decay_steps = initial_learning_rate, decay_steps
        self.end_learning_rate, self.power, self.cycle, self.name = end_learning_rate, power, cycle, name

    def __call__(self, step: Any) -> Any:
        (step, xp), horizon = _steps(step), float(self.decay_steps)
        if self.cycle:
            horizon = horizon * xp.where(step == 0, 1.0, xp.ceil(step / self.decay_steps))
        else:
            step = xp.minimum(step, horizon)
        p = step / horizon
        return _rates((self.initial_learning_rate - self.end_learning_rate) * (1 - p) ** self.power
                      + self.end_learning_rate)

    def get_config(self) -> dict:
        return {"initial_learning_rate": self.initial_learning_rate, "decay_steps": self.decay_steps,
                "end_learning_rate": self.end_learning_rate, "power": self.power, "cycle": self.cycle,
                "name": self.name}


class CosineDecay(LearningRateSchedule):
    """Optional linear warmup from ``initial_learning_rate`` to ``warmup_target`` over
    ``warmup_steps``, then ``start * ((1 - alpha) * 0.5 * (1 + cos(pi * s / decay_steps)) + alpha)``
    with ``s`` the steps since warmup (capped at ``decay_steps``) and ``start`` the warmup
    target (or ``initial_learning_rate`` without warmup).

    >>> CosineDecay(1.0, decay_steps=2)(1)
    0.5
    """

    def __init__(self, initial_learning_rate: float, decay_steps: int, alpha: float = 0.0,
                 name: str = "CosineDecay", warmup_target: float | None = None, warmup_steps: int = 0):
        _check_positive("CosineDecay", "decay_steps", decay_steps)
        self.initial_learning_rate, self.decay_steps, self.alpha = initial_learning_rate, decay_steps, alpha
        self.name, self.warmup_target, self.warmup_steps = name, warmup_target, warmup_steps

    def _decay(self, step: Any, start: float, xp: Any) -> Any:
        cosine = 0.5 * (1.0 + xp.cos(xp.pi * step / self.decay_steps))
        return start * ((1 - self.alpha) * cosine + self.alpha)

    def __call__(self, step: Any) -> Any:
        step, xp = _steps(step)
        if self.warmup_target is None:
            return _rates(self._decay(xp.minimum(step, self.decay_steps), self.initial_learning_rate, xp))
        step = xp.minimum(step, self.decay_steps + self.warmup_steps)
        delta = self.warmup_target - self.initial_learning_rate
        warming = delta * step / max(self.warmup_steps, 1) + self.initial_learning_rate
        decayed = self._decay(xp.maximum(step - self.warmup_steps, 0.0), self.warmup_target, xp)
        return _rates(xp.where(step < self.warmup_steps, warming, decayed))

    def get_config(self) -> dict:
        return {"initial_learning_rate": self.initial_learning_rate, "decay_steps": self.decay_steps,
                "alpha": self.alpha, "name": self.name, "warmup_target": self.warmup_target,
                "warmup_steps": self.warmup_steps}


class CosineDecayRestarts(LearningRateSchedule):
    """Cosine decay from 1 to ``alpha`` over ``first_decay_steps``, then warm restarts: period
    ``i`` lasts ``t_mul ** i`` times longer and starts at ``m_mul ** i`` times the rate; the
    result multiplies ``initial_learning_rate``.

    >>> CosineDecayRestarts(1.0, first_decay_steps=2, t_mul=1.0)(3)
    0.5
    """

    def __init__(self, initial_learning_rate: float, first_decay_steps: int, t_mul: float = 2.0,
                 m_mul: float = 1.0, alpha: float = 0.0, name: str = "SGDRDecay"):
        _check_positive("CosineDecayRestarts", "first_decay_steps", first_decay_steps)
        self.initial_learning_rate, self.first_decay_steps = initial_learning_rate, first_decay_steps
        self._t_mul, self._m_mul, self.alpha, self.name = t_mul, m_mul, alpha, name

    def __call__(self, step: Any) -> Any:
        step, xp = _steps(step)
        fraction = step / self.first_decay_steps
        if self._t_mul == 1.0:
            restart = xp.floor(fraction)
            fraction = fraction - restart
        else:  # periods grow geometrically: find the period, then the fraction within it
            restart = xp.floor(xp.log(1.0 - fraction * (1.0 - self._t_mul)) / math.log(self._t_mul))
            done = (1.0 - self._t_mul ** restart) / (1.0 - self._t_mul)
            fraction = (fraction - done) / self._t_mul ** restart
        cosine = 0.5 * self._m_mul ** restart * (1.0 + xp.cos(xp.pi * fraction))
        return _rates(self.initial_learning_rate * ((1 - self.alpha) * cosine + self.alpha))

    def get_config(self) -> dict:
        return {"initial_learning_rate": self.initial_learning_rate,
                "first_decay_steps": self.first_decay_steps, "t_mul": self._t_mul, "m_mul": self._m_mul,
                "alpha": self.alpha, "name": self.name}


_SCHEDULES = {cls.__name__: cls for cls in (ExponentialDecay, InverseTimeDecay, PiecewiseConstantDecay,
                                            PolynomialDecay, CosineDecay, CosineDecayRestarts)}


def serialize(schedule: LearningRateSchedule) -> dict:
    """Keras's serialized form: ``{"module", "class_name", "config", "registered_name"}``.

    >>> serialize(ExponentialDecay(0.1, 10, 0.9))["class_name"]
    'ExponentialDecay'
    """
    return {"module": "keras.optimizers.schedules", "class_name": type(schedule).__name__,
            "config": schedule.get_config(), "registered_name": None}


def deserialize(config: dict) -> LearningRateSchedule:
    """Rebuild a built-in schedule from :func:`serialize`'s output.

    >>> deserialize(serialize(CosineDecay(0.1, 100))).decay_steps
    100
    """
    cls = _SCHEDULES.get(str(config.get("class_name"))) if isinstance(config, dict) else None
    if cls is None:
        raise ValueError(f"Unknown learning rate schedule {config!r}; expected a dict whose class_name is "
                         f"one of {', '.join(sorted(_SCHEDULES))}")
    return cls.from_config(dict(config.get("config", {})))


__all__ = ["LearningRateSchedule", "ExponentialDecay", "InverseTimeDecay", "PiecewiseConstantDecay",
           "PolynomialDecay", "CosineDecay", "CosineDecayRestarts", "serialize", "deserialize"]
