"""The global settings Keras keeps in ``keras.backend``: float type, epsilon, layer names, seeding.

>>> import lamina
>>> lamina.backend.floatx()
'float32'
"""
from __future__ import annotations

import random as _pyrandom
import re

import numpy as np

_FLOATX = "float32"
_EPSILON = 1e-7
_NAME_COUNTS: dict[str, int] = {}
_SEED: int | None = None
_RNG: np.random.Generator | None = None


def floatx() -> str:
    """The dtype computations run in (``"float32"`` unless changed)."""
    return _FLOATX


def set_floatx(value: str) -> None:
    """Set the computation dtype: ``"float32"`` (default), ``"float64"`` (for gradient checks) or ``"float16"``."""
    global _FLOATX
    if value not in ("float16", "float32", "float64"):
        raise ValueError(f"set_floatx expects 'float16', 'float32' or 'float64', got {value!r}")
    _FLOATX = value


def epsilon() -> float:
    """The fuzz factor used to avoid dividing by zero and taking log(0) (1e-7)."""
    return _EPSILON


def set_epsilon(value: float) -> None:
    """Set the fuzz factor ``epsilon()`` returns (Keras's ``keras.config.set_epsilon``)."""
    global _EPSILON
    _EPSILON = float(value)


def standardize_dtype(dtype) -> str:
    """The NumPy name of ``dtype`` (``floatx()`` for None), as Keras's ``standardize_dtype``."""
    return floatx() if dtype is None else np.dtype(dtype).name


def snake_case(name: str) -> str:
    """``"BatchNormalization"`` -> ``"batch_normalization"``, as Keras names layers."""
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name).lower()


def unique_name(prefix: str) -> str:
    """``dense``, then ``dense_1``, ``dense_2``... until :func:`clear_session`."""
    count = _NAME_COUNTS.get(prefix, 0)
    _NAME_COUNTS[prefix] = count + 1
    return prefix if count == 0 else f"{prefix}_{count}"


def clear_session() -> None:
    """Reset the layer-name counters and the random state set by a seed, as Keras does."""
    global _RNG
    _NAME_COUNTS.clear()
    _RNG = None if _SEED is None else np.random.default_rng(_SEED)


def set_seed(seed: int) -> None:
    """Make runs repeatable: weights, shuffling and dropout draw from one seeded generator.

    Also seeds Python's ``random`` and NumPy's legacy global state, as ``keras.utils.set_random_seed`` does.

    >>> import lamina
    >>> lamina.random.set_seed(42)
    """
    global _SEED, _RNG
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
        raise TypeError(f"set_seed expects an int, got {seed!r}")
    _SEED = int(seed)
    _RNG = np.random.default_rng(_SEED)
    _pyrandom.seed(_SEED)
    np.random.seed(_SEED % 2**32)


def global_rng() -> np.random.Generator:
    """The generator every unseeded random draw uses (seeded by :func:`set_seed`)."""
    global _RNG
    if _RNG is None:
        _RNG = np.random.default_rng()
    return _RNG


def make_rng(seed) -> np.random.Generator:
    """A generator for an object's ``seed=`` argument: its own stream for an int, else the global one."""
    if seed is None:
        return global_rng()
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool):
        return np.random.default_rng(int(seed))
    raise TypeError(f"seed must be an int or None, got {seed!r}")
