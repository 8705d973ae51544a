"""Weight initializers with Keras's names, formulas and defaults.

Each is a class (``GlorotUniform(seed=None)``) whose call ``init(shape, dtype)`` returns a new
array; ``get("glorot_uniform")`` resolves a name. An unseeded initializer draws from the global
generator that ``lamina.random.set_seed`` seeds.

>>> w = GlorotUniform(seed=1)((784, 300))
>>> bool(abs(w).max() <= (6 / (784 + 300)) ** 0.5)
True
"""
from __future__ import annotations

import abc
import math

import numpy as np

from . import backend


def compute_fans(shape) -> tuple[float, float]:
    """Keras's fans: a kernel ``(in, out)`` has fan_in ``in`` and fan_out ``out``."""
    shape = tuple(shape)
    if len(shape) < 1:
        return 1.0, 1.0
    if len(shape) == 1:
        return float(shape[0]), float(shape[0])
    if len(shape) == 2:
        return float(shape[0]), float(shape[1])
    receptive = math.prod(shape[:-2])
    return float(shape[-2] * receptive), float(shape[-1] * receptive)


class Initializer(abc.ABC):
    """Base class: subclasses implement ``__call__(shape, dtype=None)``."""

    @abc.abstractmethod
    def __call__(self, shape, dtype=None):
        """A new array of ``shape`` in ``dtype`` (``floatx()`` when None)."""

    def get_config(self) -> dict:
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class _Seeded(Initializer):
    def __init__(self, seed=None):
        self.seed = seed
        self._rng = None if seed is None else backend.make_rng(seed)

    def rng(self):
        return self._rng if self._rng is not None else backend.global_rng()

    def get_config(self):
        return {"seed": self.seed}


class Zeros(Initializer):
    def __call__(self, shape, dtype=None):
        return np.zeros(shape, backend.standardize_dtype(dtype))


class Ones(Initializer):
    def __call__(self, shape, dtype=None):
        return np.ones(shape, backend.standardize_dtype(dtype))


class Constant(Initializer):
    def __init__(self, value=0.0):
        self.value = value

    def __call__(self, shape, dtype=None):
        return np.full(shape, self.value, backend.standardize_dtype(dtype))

    def get_config(self):
        return {"value": self.value}


class RandomUniform(_Seeded):
    def __init__(self, minval=-0.05, maxval=0.05, seed=None):
        super().__init__(seed)
        self.minval, self.maxval = minval, maxval

    def __call__(self, shape, dtype=None):
        values = self.rng().uniform(self.minval, self.maxval, size=shape)
        return values.astype(backend.standardize_dtype(dtype))

    def get_config(self):
        return {"minval": self.minval, "maxval": self.maxval, "seed": self.seed}


class RandomNormal(_Seeded):
    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        super().__init__(seed)
        self.mean, self.stddev = mean, stddev

    def __call__(self, shape, dtype=None):
        values = self.rng().normal(self.mean, self.stddev, size=shape)
        return values.astype(backend.standardize_dtype(dtype))

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


class TruncatedNormal(RandomNormal):
    """Normal draws, redrawn until within two standard deviations of the mean."""

    def __call__(self, shape, dtype=None):
        rng = self.rng()
        values = rng.normal(0.0, 1.0, size=shape)
        bad = np.abs(values) > 2
        while bad.any():
            values[bad] = rng.normal(0.0, 1.0, size=int(bad.sum()))
            bad = np.abs(values) > 2
        return (self.mean + self.stddev * values).astype(backend.standardize_dtype(dtype))


class VarianceScaling(_Seeded):
    """Draws with variance ``scale / n`` where ``n`` is fan_in, fan_out or their mean (``mode``)."""

    def __init__(self, scale=1.0, mode="fan_in", distribution="truncated_normal", seed=None):
        super().__init__(seed)
        if scale <= 0.0:
            raise ValueError(f"VarianceScaling expects scale > 0, got scale={scale}")
        if mode not in ("fan_in", "fan_out", "fan_avg"):
            raise ValueError(f"VarianceScaling mode must be 'fan_in', 'fan_out' or 'fan_avg', got {mode!r}")
        if distribution not in ("truncated_normal", "untruncated_normal", "uniform"):
            raise ValueError("VarianceScaling distribution must be 'truncated_normal', "
                             f"'untruncated_normal' or 'uniform', got {distribution!r}")
        self.scale, self.mode, self.distribution = scale, mode, distribution

    def __call__(self, shape, dtype=None):
        fan_in, fan_out = compute_fans(shape)
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[self.mode]
        variance = self.scale / max(1.0, n)
        rng = self.rng()
        if self.distribution == "uniform":
            limit = math.sqrt(3.0 * variance)
            values = rng.uniform(-limit, limit, size=shape)
        elif self.distribution == "untruncated_normal":
            values = rng.normal(0.0, math.sqrt(variance), size=shape)
        else:  # 0.879... is the stddev of a unit normal truncated to [-2, 2]
            values = TruncatedNormal(0.0, math.sqrt(variance) / 0.87962566103423978, seed=rng)(shape, "float64")
        return values.astype(backend.standardize_dtype(dtype))

    def get_config(self):
        return {"scale": self.scale, "mode": self.mode, "distribution": self.distribution, "seed": self.seed}


def _preset(name, scale, mode, distribution):
    def __init__(self, seed=None):
        VarianceScaling.__init__(self, scale, mode, distribution, seed)

    def get_config(self):
        return {"seed": self.seed}

    doc = f"``VarianceScaling(scale={scale}, mode={mode!r}, distribution={distribution!r})``."
    return type(name, (VarianceScaling,), {"__init__": __init__, "get_config": get_config, "__doc__": doc})


GlorotUniform = _preset("GlorotUniform", 1.0, "fan_avg", "uniform")
GlorotNormal = _preset("GlorotNormal", 1.0, "fan_avg", "truncated_normal")
HeUniform = _preset("HeUniform", 2.0, "fan_in", "uniform")
HeNormal = _preset("HeNormal", 2.0, "fan_in", "truncated_normal")
LecunUniform = _preset("LecunUniform", 1.0, "fan_in", "uniform")
LecunNormal = _preset("LecunNormal", 1.0, "fan_in", "truncated_normal")

_CLASSES = [Zeros, Ones, Constant, RandomUniform, RandomNormal, TruncatedNormal, VarianceScaling,
            GlorotUniform, GlorotNormal, HeUniform, HeNormal, LecunUniform, LecunNormal]
_REGISTRY = {backend.snake_case(c.__name__): c for c in _CLASSES} | {c.__name__: c for c in _CLASSES}

# the function-style aliases Keras exports (``keras.initializers.glorot_uniform``)
zeros, ones, constant = Zeros, Ones, Constant
random_uniform, random_normal, truncated_normal = RandomUniform, RandomNormal, TruncatedNormal
variance_scaling = VarianceScaling
glorot_uniform, glorot_normal, he_uniform, he_normal = GlorotUniform, GlorotNormal, HeUniform, HeNormal
lecun_uniform, lecun_normal = LecunUniform, LecunNormal


def register(cls):
    """Make an initializer class resolvable by ``get(name)``."""
    _REGISTRY[backend.snake_case(cls.__name__)] = _REGISTRY[cls.__name__] = cls
    return cls


def serialize(initializer) -> dict:
    return {"module": "keras.initializers", "class_name": type(initializer).__name__,
            "config": initializer.get_config(), "registered_name": None}


def get(identifier) -> Initializer:
    """Resolve a name (``"he_normal"``), a config dict, a class or an instance.

    >>> type(get("zeros")).__name__
    'Zeros'
    """
    if isinstance(identifier, Initializer) or (callable(identifier) and not isinstance(identifier, type)):
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, Initializer):
        return identifier()
    if isinstance(identifier, dict):
        cls = _REGISTRY.get(identifier.get("class_name"))
        if cls is None:
            raise ValueError(f"Unknown initializer class {identifier.get('class_name')!r}")
        return cls.from_config(identifier.get("config", {}))
    if isinstance(identifier, str):
        if identifier in _REGISTRY:
            return _REGISTRY[identifier]()
        names = sorted(k for k in _REGISTRY if k.islower())
        raise ValueError(f"Unknown initializer {identifier!r}. Valid names: {', '.join(names)}")
    raise TypeError(f"initializer must be a name, a dict or an Initializer, got {identifier!r}")
