"""The run-wide settings of Keras 3's ``keras.config`` beyond the float type: caps on the epochs
and steps of every ``fit`` (for a quick trial run of a long script, also from the environment
variables ``KERAS_MAX_EPOCHS`` and ``KERAS_MAX_STEPS_PER_EPOCH``), traceback filtering, and the
global dtype policy, which in lamina is the float type ``floatx()`` itself.

>>> import lamina
>>> lamina.config.max_epochs() is None
True
>>> lamina.config.dtype_policy()
<DTypePolicy "float32">
"""
from __future__ import annotations

import os
import warnings

from . import config

__all__ = ["DTypePolicy", "capped_epochs", "capped_steps", "disable_traceback_filtering", "dtype_policy",
           "enable_traceback_filtering", "is_traceback_filtering_enabled", "max_epochs", "max_steps_per_epoch",
           "set_dtype_policy", "set_max_epochs", "set_max_steps_per_epoch"]


def _cap(value, what: str) -> int | None:
    """A cap as Keras takes it: None or 0 for none, else a positive int."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{what} expects None or a non-negative int, got {value!r}")
    return value or None  # Keras caps only when the value is truthy: 0 means no cap


def _env_cap(name: str) -> int | None:
    text = os.environ.get(name)
    if text is None:
        return None
    try:
        return _cap(int(text), name)
    except ValueError as error:
        raise ValueError(f"the environment variable {name} must be a non-negative int, got {text!r}") from error


_CAPS = {"epochs": _env_cap("KERAS_MAX_EPOCHS"), "steps": _env_cap("KERAS_MAX_STEPS_PER_EPOCH")}
_FILTER_TRACEBACKS = [True]


def set_max_epochs(max_epochs: int | None) -> None:
    """Cap the epochs of every ``fit`` at ``max_epochs`` (None or 0: no cap)."""
    _CAPS["epochs"] = _cap(max_epochs, "set_max_epochs")


def max_epochs() -> int | None:
    """The cap on the epochs of ``fit`` (None when there is none)."""
    return _CAPS["epochs"]


def set_max_steps_per_epoch(max_steps_per_epoch: int | None) -> None:
    """Cap the steps of each epoch of ``fit``, ``evaluate`` and ``predict`` (None or 0: no cap)."""
    _CAPS["steps"] = _cap(max_steps_per_epoch, "set_max_steps_per_epoch")


def max_steps_per_epoch() -> int | None:
    """The cap on the steps per epoch (None when there is none)."""
    return _CAPS["steps"]


def capped_epochs(epochs: int) -> int:
    """``epochs``, lowered to ``max_epochs()`` with Keras's warning when the cap is smaller."""
    cap = _CAPS["epochs"]
    if cap is not None and cap < epochs:
        warnings.warn(f"Limiting epochs to {cap}", stacklevel=3)
        return cap
    return epochs


def capped_steps(steps: int | None) -> int | None:
    """``steps`` (None: the whole data), lowered to ``max_steps_per_epoch()`` when that is smaller."""
    cap = _CAPS["steps"]
    if cap is not None and (not steps or cap < steps):
        warnings.warn(f"Limiting steps_per_epoch to {cap}", stacklevel=3)
        return cap
    return steps


def enable_traceback_filtering() -> None:
    """Show only the frames outside lamina in the traceback of an error raised through ``fit``,
    ``evaluate``, ``predict`` or a layer call (the default)."""
    _FILTER_TRACEBACKS[0] = True


def disable_traceback_filtering() -> None:
    """Keep lamina's own frames in tracebacks (for debugging lamina itself)."""
    _FILTER_TRACEBACKS[0] = False


def is_traceback_filtering_enabled() -> bool:
    """Whether tracebacks leave out lamina's own frames."""
    return _FILTER_TRACEBACKS[0]


class DTypePolicy:
    """The dtype policy lamina runs under: one float type for both computation and variables,
    ``floatx()``, as a Keras ``DTypePolicy`` names it."""

    def __init__(self, name: str | None = None):
        self.name = config.floatx() if name is None else _float_name(name)

    @property
    def compute_dtype(self) -> str:
        """The dtype layers compute in."""
        return self.name

    @property
    def variable_dtype(self) -> str:
        """The dtype of the layers' weights (the same: lamina has no mixed precision)."""
        return self.name

    @property
    def quantization_mode(self) -> None:
        """None: lamina does not quantize."""
        return None

    def get_config(self) -> dict:
        """``{"name": ...}``, as Keras's."""
        return {"name": self.name}

    @classmethod
    def from_config(cls, config: dict) -> DTypePolicy:
        """The policy ``get_config`` described."""
        return cls(**config)

    def __eq__(self, other) -> bool:
        return isinstance(other, DTypePolicy) and other.name == self.name

    def __hash__(self) -> int:
        return hash(self.name)

    def __repr__(self) -> str:
        return f'<DTypePolicy "{self.name}">'


_FLOATS = ("float16", "float32", "float64")


def _float_name(name: str) -> str:
    if name in ("mixed_float16", "mixed_bfloat16"):
        raise ValueError(f"set_dtype_policy got {name!r}: lamina computes in one float dtype on the CPU, with "
                         "variables of that same dtype, so it has no mixed precision; use 'float32' (or "
                         "'float64' / 'float16')")
    if name not in _FLOATS:
        raise ValueError(f"set_dtype_policy expects one of {list(_FLOATS)} (or a policy whose compute and variable "
                         f"dtypes are one of them), got {name!r}")
    return name


def set_dtype_policy(policy: str | object) -> None:
    """Set the global dtype policy: a float dtype's name, or a policy (lamina's or Keras's)
    whose compute and variable dtypes are equal. lamina keeps one float type, so this sets
    ``floatx()``; mixed precision (``"mixed_float16"``...) is refused."""
    if isinstance(policy, str):
        name = _float_name(policy)
    elif hasattr(policy, "compute_dtype") and hasattr(policy, "variable_dtype"):
        compute, variable = str(policy.compute_dtype), str(policy.variable_dtype)
        if compute != variable:
            raise ValueError(f"set_dtype_policy got a policy computing in {compute} with {variable} variables: "
                             "lamina computes in one float dtype on the CPU, the variables' own, so it has no "
                             "mixed precision")
        name = _float_name(compute)
    else:
        raise ValueError("set_dtype_policy expects the name of a policy ('float32'...) or a DTypePolicy, got "
                         f"{policy!r} of type {type(policy).__name__}")
    config.set_floatx(name)


def dtype_policy() -> DTypePolicy:
    """The global dtype policy: ``floatx()``'s."""
    return DTypePolicy(config.floatx())
