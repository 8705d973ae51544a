"""Weight initializers with Keras's names, formulas and defaults.

Each is a class (``GlorotUniform(seed=None)``) whose call ``init(shape, dtype)`` returns a new
array; ``get("glorot_uniform")`` resolves a name. An initializer with an int ``seed`` returns the
same values at every call (as in Keras); an unseeded one draws from the global generator that
``lamina.random.set_seed`` seeds.

>>> w = GlorotUniform(seed=1)((784, 300))
>>> bool(abs(w).max() <= (6 / (784 + 300)) ** 0.5)
True
"""
from __future__ import annotations

import abc
import math

import numpy as np
import numpy.typing as npt

from . import backend
from ._resolve import UNRESOLVED, from_registry


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
    """An initializer drawing random numbers.

    With an int ``seed`` every call returns the same values, as in Keras; unseeded, each call
    draws afresh from the global generator that ``lamina.random.set_seed`` seeds.
    """

    def __init__(self, seed: int | None = None):
        backend.make_rng(seed)  # rejects a seed that is neither an int nor None
        self.seed = seed

    def rng(self) -> np.random.Generator:
        return backend.make_rng(self.seed)

    def get_config(self):
        return {"seed": self.seed}


class Zeros(Initializer):
    """All zeros.

    >>> Zeros()((2,)).tolist()
    [0.0, 0.0]
    """

    def __call__(self, shape, dtype=None):
        return np.zeros(shape, backend.standardize_dtype(dtype))


class Ones(Initializer):
    """All ones.

    >>> Ones()((2,)).tolist()
    [1.0, 1.0]
    """

    def __call__(self, shape, dtype=None):
        return np.ones(shape, backend.standardize_dtype(dtype))


class Constant(Initializer):
    """Every entry ``value``.

    >>> Constant(0.5)((2,)).tolist()
    [0.5, 0.5]
    """

    def __init__(self, value: npt.ArrayLike = 0.0):  # a scalar (or an array broadcast to the shape)
        self.value = value

    def __call__(self, shape, dtype=None):
        return np.full(shape, self.value, backend.standardize_dtype(dtype))

    def get_config(self):
        return {"value": self.value}


class Identity(Initializer):
    """``gain`` times the identity matrix (``np.eye``); only for 2D shapes.

    >>> Identity(gain=2.0)((2, 3)).tolist()
    [[2.0, 0.0, 0.0], [0.0, 2.0, 0.0]]
    """

    def __init__(self, gain: float = 1.0):
        self.gain = gain

    def __call__(self, shape, dtype=None):
        shape = tuple(shape)
        if len(shape) != 2:
            raise ValueError(f"Identity initializer expects a 2D shape, got shape={shape} of rank {len(shape)}")
        return (self.gain * np.eye(*shape)).astype(backend.standardize_dtype(dtype))

    def get_config(self):
        return {"gain": self.gain}


class RandomUniform(_Seeded):
    """Uniform draws in ``[minval, maxval)``.

    >>> w = RandomUniform(seed=1)((100,))
    >>> bool(-0.05 <= w.min() and w.max() < 0.05)
    True
    """

    def __init__(self, minval: float = -0.05, maxval: float = 0.05, seed: int | None = None):
        super().__init__(seed)
        self.minval, self.maxval = minval, maxval

    def __call__(self, shape, dtype=None):
        values = self.rng().uniform(self.minval, self.maxval, size=shape)
        return values.astype(backend.standardize_dtype(dtype))

    def get_config(self):
        return {"minval": self.minval, "maxval": self.maxval, "seed": self.seed}


class RandomNormal(_Seeded):
    """Normal draws with ``mean`` and ``stddev``.

    >>> RandomNormal(seed=1)((3,)).shape
    (3,)
    """

    def __init__(self, mean: float = 0.0, stddev: float = 0.05, seed: int | None = None):
        super().__init__(seed)
        self.mean, self.stddev = mean, stddev

    def __call__(self, shape, dtype=None):
        values = self.rng().normal(self.mean, self.stddev, size=shape)
        return values.astype(backend.standardize_dtype(dtype))

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


class TruncatedNormal(RandomNormal):
    """Normal draws, redrawn until within two standard deviations of the mean.

    >>> bool(abs(TruncatedNormal(seed=1)((1000,))).max() <= 0.1)
    True
    """

    def __call__(self, shape, dtype=None):
        return self._draw(self.rng(), shape).astype(backend.standardize_dtype(dtype))

    def _draw(self, rng, shape):
        values = rng.normal(0.0, 1.0, size=shape)
        bad = np.abs(values) > 2
        while bad.any():
            values[bad] = rng.normal(0.0, 1.0, size=int(bad.sum()))
            bad = np.abs(values) > 2
        return self.mean + self.stddev * values


class VarianceScaling(_Seeded):
    """Draws with variance ``scale / n`` where ``n`` is fan_in, fan_out or their mean (``mode``).

    ``distribution`` is ``"truncated_normal"`` (``"normal"`` means the same, as in Keras),
    ``"untruncated_normal"`` or ``"uniform"`` (in ``[-limit, limit]``, ``limit = sqrt(3 * scale / n)``).

    >>> VarianceScaling(scale=2.0, distribution="uniform", seed=1)((4, 3)).shape
    (4, 3)
    """

    def __init__(self, scale: float = 1.0, mode: str = "fan_in", distribution: str = "truncated_normal",
                 seed: int | None = None):
        super().__init__(seed)
        if isinstance(scale, bool) or not isinstance(scale, (int, float, np.number)) or not scale > 0.0:
            raise ValueError(f"VarianceScaling expects scale to be a positive float, got scale={scale!r}")
        if mode not in ("fan_in", "fan_out", "fan_avg"):
            raise ValueError(f"VarianceScaling expects mode 'fan_in', 'fan_out' or 'fan_avg', got mode={mode!r}")
        if not isinstance(distribution, str):
            raise ValueError(f"VarianceScaling expects distribution to be a string, got distribution={distribution!r}")
        distribution = distribution.lower()
        if distribution == "normal":
            distribution = "truncated_normal"
        if distribution not in ("truncated_normal", "untruncated_normal", "uniform"):
            raise ValueError("VarianceScaling expects distribution 'truncated_normal', "
                             f"'untruncated_normal' or 'uniform', got distribution={distribution!r}")
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
            values = TruncatedNormal(0.0, math.sqrt(variance) / 0.87962566103423978)._draw(rng, shape)
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


class Orthogonal(_Seeded):
    """A random orthogonal matrix (``gain`` times it), from the QR decomposition of normal draws.

    Shapes of rank above 2 are flattened to ``(prod(shape[:-1]), shape[-1])``. The columns are
    orthonormal when there are at least as many rows as columns, else the rows. Signs follow
    ``diag(R)`` so that the result is uniformly distributed, as in Keras.

    >>> q = Orthogonal(seed=1)((4, 3))
    >>> bool(np.allclose(q.T @ q, np.eye(3), atol=1e-6))
    True
    """

    def __init__(self, gain: float = 1.0, seed: int | None = None):
        super().__init__(seed)
        self.gain = gain

    def __call__(self, shape, dtype=None):
        shape = tuple(shape)
        if len(shape) < 2:
            raise ValueError(f"Orthogonal initializer expects a shape of rank 2 or more, got shape={shape}")
        rows, cols = math.prod(shape[:-1]), shape[-1]
        q, r = np.linalg.qr(self.rng().normal(size=(max(rows, cols), min(rows, cols))))
        q *= np.sign(np.diag(r))
        if rows < cols:
            q = q.T
        return (self.gain * q.reshape(shape)).astype(backend.standardize_dtype(dtype))

    def get_config(self):
        return {"seed": self.seed, "gain": self.gain}


_CLASSES = [Zeros, Ones, Constant, Identity, RandomUniform, RandomNormal, TruncatedNormal, VarianceScaling,
            GlorotUniform, GlorotNormal, HeUniform, HeNormal, LecunUniform, LecunNormal, Orthogonal]
_REGISTRY = {backend.snake_case(c.__name__): c for c in _CLASSES} | {c.__name__: c for c in _CLASSES}
# the other names Keras accepts
_REGISTRY |= {"uniform": RandomUniform, "normal": RandomNormal, "one": Ones, "zero": Zeros,
              "OrthogonalInitializer": Orthogonal, "IdentityInitializer": Identity}

# the function-style aliases Keras exports (``keras.initializers.glorot_uniform``)
zeros, ones, constant, identity = Zeros, Ones, Constant, Identity
random_uniform, random_normal, truncated_normal = RandomUniform, RandomNormal, TruncatedNormal
variance_scaling = VarianceScaling
glorot_uniform, glorot_normal, he_uniform, he_normal = GlorotUniform, GlorotNormal, HeUniform, HeNormal
lecun_uniform, lecun_normal = LecunUniform, LecunNormal
orthogonal = OrthogonalInitializer = Orthogonal
IdentityInitializer = Identity


def register(cls) -> type:
    """Make an initializer class resolvable by ``get(name)``."""
    _REGISTRY[backend.snake_case(cls.__name__)] = _REGISTRY[cls.__name__] = cls
    return cls


def serialize(initializer) -> dict:
    """The Keras config of an initializer object.

    >>> serialize(Zeros())["class_name"]
    'Zeros'
    """
    from .saving.serialization_lib import serialize_keras_object  # here: lamina.saving imports this module

    return serialize_keras_object(initializer)


from .saving.kind_configs import deserialize_initializer as deserialize  # noqa: E402,F401  (keras's; loads at use)


def get(identifier) -> Initializer | None:
    """Resolve a name (``"he_normal"``), a config dict, a class or an instance; None stays None,
    as in Keras (``add_weight`` then picks its default: glorot_uniform for floats, else zeros).

    >>> type(get("zeros")).__name__
    'Zeros'
    """
    if identifier is None:
        return None
    resolved = from_registry(identifier, Initializer, _REGISTRY, "initializer")
    if resolved is not UNRESOLVED:
        return resolved
    if callable(identifier) and not isinstance(identifier, type):
        return identifier
    raise TypeError(f"initializer must be a name, a dict or an Initializer, got {identifier!r}")


def required(identifier, owner: str) -> Initializer:
    """``get(identifier)`` where an initializer must be given (None has no default there)."""
    initializer = get(identifier)
    if initializer is None:
        raise ValueError(f"{owner} needs an initializer (a name such as 'zeros', or an Initializer), got None")
    return initializer
