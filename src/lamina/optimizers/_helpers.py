"""The optimizers' small helpers: a gradient checked against its variable, clipping, argument
checks. Split from ``optimizer.py``, which imports them (the optimizers import ``_check_range``
from there)."""
from __future__ import annotations

import numpy as np


def clip(grads: list, clipnorm, global_clipnorm, clipvalue) -> list:
    """``grads`` clipped as the optimizer's ``clipnorm`` (each gradient's norm), or else
    ``global_clipnorm`` (all together), or else ``clipvalue`` (each element) asks."""
    if clipnorm:
        return [_scale_to_norm(g, float(np.sqrt(np.sum(g * g))), clipnorm) for g in grads]
    if global_clipnorm:
        norm = float(np.sqrt(sum(float(np.sum(g * g)) for g in grads)))
        return [_scale_to_norm(g, norm, global_clipnorm) for g in grads]
    if clipvalue:
        return [np.clip(g, -clipvalue, clipvalue) for g in grads]
    return grads


def _as_array(grad, variable) -> np.ndarray:
    """A gradient (tensor or array-like) as an array of its variable's shape and dtype."""
    value = grad._value if hasattr(grad, "_value") else np.asarray(grad)
    if value.shape != variable.shape:
        raise ValueError(f"The gradient for Variable '{variable.path}' has shape {value.shape}, but the variable has "
                         f"shape {variable.shape}")
    return value if value.dtype == variable._value.dtype else value.astype(variable._value.dtype)


def _scale_to_norm(grad, norm, limit):
    return grad * (limit / norm) if norm > limit else grad


def _is_int(value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def _check_range(cls: str, arg: str, value, low, high, closed: bool = False, open_low: bool = False) -> None:
    """Raise unless ``low <= value < high`` (``<= high`` when ``closed``; ``low < value`` when ``open_low``)."""
    above = value > low if open_low else value >= low
    below = value <= high if closed else value < high
    if not (above and below):
        interval = f"{'(' if open_low else '['}{low}, {high}{']' if closed else ')'}"
        raise ValueError(f"{cls} expects {arg} in {interval}, got {arg}={value}")
