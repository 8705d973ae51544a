"""``lamina.random``: Keras's ``keras.random`` (and TensorFlow's ``tf.random`` names that match it).

Every function takes ``seed``: None draws from the global generator (repeatable after
``set_seed``, which also seeds weight initializers, shuffling and dropout); an int gives the same
values at every call (Keras's stateless rule); a ``SeedGenerator`` gives new values at each call,
repeatably from its seed, and keeps its position in a ``seed_generator_state`` Variable that a
layer holding it tracks. The draws come from NumPy's generators: the same seed gives the same
numbers in lamina every time, not the numbers Keras on JAX would draw.

>>> import lamina
>>> lamina.random.set_seed(42)
>>> a = lamina.random.normal((2, 3))
>>> lamina.random.set_seed(42)
>>> bool((lamina.random.normal((2, 3)) == a).numpy().all())
True
>>> gen = lamina.random.SeedGenerator(7)
>>> bool((lamina.random.uniform((3,), seed=gen) == lamina.random.uniform((3,), seed=gen)).numpy().all())
False
"""
from __future__ import annotations

import random as _pyrandom

import numpy as np

from .backend import config, set_seed
from .ops.dtypes import standardize_dtype
from .ops.tensor import Tensor


class SeedGenerator:
    """A seed that moves on at each draw: ``SeedGenerator(seed=None, name=None)``.

    Its ``state`` is a non-trainable uint32 Variable ``[seed, counter]`` named
    ``seed_generator_state``; each draw uses the state and advances the counter. Without a seed it
    takes one from Python's ``random`` (so ``set_seed`` makes it repeatable too).
    """

    def __init__(self, seed: int | None = None, name: str | None = None, **kwargs):
        from .variables import Variable
        if kwargs:
            raise ValueError(f"SeedGenerator got unexpected keyword argument(s) {sorted(kwargs)}")
        self.name = name or config.unique_name("seed_generator")
        self._initial_seed = seed
        if seed is None:
            seed = _pyrandom.randint(1, int(1e9))
        if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
            raise ValueError(f"SeedGenerator expects seed to be an int, got seed={seed!r}")
        self.state = Variable(np.array([int(seed) % 2**32, 0], np.uint32), name="seed_generator_state",
                              trainable=False, path=f"{self.name}/seed_generator_state")

    def next(self, ordered: bool = True) -> Tensor:
        """The current state (a copy), then advance it: the counter by one, or (``ordered=False``)
        to a scrambled next value as Keras does."""
        current = self.state.numpy()
        if ordered:
            self.state.assign(current + np.array([0, 1], np.uint32))
        else:
            self.state.assign(((current.astype(np.uint64) + 1) * 5387 % 933199).astype(np.uint32))
        return Tensor(current)

    def get_config(self) -> dict:
        return {"seed": self._initial_seed, "name": self.name}

    @classmethod
    def from_config(cls, config: dict) -> SeedGenerator:
        return cls(**config)

    def __repr__(self) -> str:
        return f"<SeedGenerator name={self.name}, state={self.state.numpy().tolist()}>"


def _generator(seed) -> np.random.Generator:
    if seed is None:
        return config.global_rng()
    if isinstance(seed, SeedGenerator):
        return np.random.default_rng([int(s) for s in seed.next().numpy()])
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool):
        return np.random.default_rng(int(seed) % 2**64)
    raise ValueError(f"seed must be None, an int or a lamina.random.SeedGenerator, got seed={seed!r}")


def _shape(shape, op: str) -> tuple:
    if isinstance(shape, Tensor):
        shape = shape._value.tolist()
    if isinstance(shape, (int, np.integer)):
        return (int(shape),)
    try:
        return tuple(int(d) for d in shape)
    except (TypeError, ValueError):
        raise TypeError(f"{op} expects shape to be a tuple of ints, got shape={shape!r}") from None


def _float_dtype(dtype, op: str) -> str:
    name = standardize_dtype(dtype)
    if np.dtype(name).kind != "f":
        raise ValueError(f"{op} draws floats: dtype must be a float dtype, got dtype={name}")
    return name


def _scalar(value) -> np.ndarray:
    return np.asarray(value._value if isinstance(value, Tensor) else value, np.float64)


def normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None, name=None) -> Tensor:
    """Draws from a normal distribution with ``mean`` and ``stddev`` (floatx unless ``dtype``)."""
    dtype = _float_dtype(dtype, "normal")
    draws = _generator(seed).standard_normal(_shape(shape, "normal"))
    return Tensor((draws * _scalar(stddev) + _scalar(mean)).astype(dtype))


def uniform(shape, minval=0.0, maxval=None, dtype=None, seed=None, name=None) -> Tensor:
    """Draws from ``[minval, maxval)`` (``maxval`` 1 when None). An integer ``dtype`` draws
    integers, as TensorFlow's ``tf.random.uniform`` does, and then needs ``maxval``."""
    name_ = standardize_dtype(dtype)
    if np.dtype(name_).kind in "iu":
        if maxval is None:
            raise ValueError(f"uniform with the integer dtype {name_} needs maxval")
        return randint(shape, minval, maxval, dtype=name_, seed=seed)
    low, high = _scalar(minval), _scalar(1.0 if maxval is None else maxval)
    if np.any(high < low):
        raise ValueError(f"uniform expects minval <= maxval, got minval={minval}, maxval={maxval}")
    draws = _generator(seed).random(_shape(shape, "uniform"))
    return Tensor((low + (high - low) * draws).astype(_float_dtype(name_, "uniform")))


def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None, name=None) -> Tensor:
    """Normal draws more than two standard deviations from the mean redrawn (so all fall inside)."""
    dtype = _float_dtype(dtype, "truncated_normal")
    rng = _generator(seed)
    draws = rng.standard_normal(_shape(shape, "truncated_normal"))
    outside = np.abs(draws) > 2.0
    while outside.any():
        draws[outside] = rng.standard_normal(int(outside.sum()))
        outside = np.abs(draws) > 2.0
    return Tensor((draws * _scalar(stddev) + _scalar(mean)).astype(dtype))


def randint(shape, minval, maxval, dtype="int32", seed=None) -> Tensor:
    """Integers drawn uniformly from ``[minval, maxval)``."""
    name = standardize_dtype(dtype)
    if np.dtype(name).kind not in "iu":
        raise ValueError(f"randint draws integers: dtype must be an integer dtype, got dtype={name}")
    if not int(minval) < int(maxval):
        raise ValueError(f"randint expects minval < maxval, got minval={minval}, maxval={maxval}")
    draws = _generator(seed).integers(int(minval), int(maxval), size=_shape(shape, "randint"))
    return Tensor(draws.astype(name))


def dropout(inputs, rate, noise_shape=None, seed=None) -> Tensor:
    """``inputs`` with each element set to 0 with probability ``rate`` and the others scaled by
    ``1 / (1 - rate)``; ``noise_shape`` (None entries: the input's) shares one draw across axes.
    The gradient flows through the kept elements."""
    from . import ops
    x = ops.convert_to_tensor(inputs)
    if not 0 <= float(rate) < 1:
        raise ValueError(f"dropout expects 0 <= rate < 1, got rate={rate}")
    if float(rate) == 0:
        return x
    if noise_shape is None:
        noise = x.shape
    else:
        noise = tuple(x.shape[i] if d is None else int(d) for i, d in enumerate(noise_shape))
    keep = _generator(seed).random(noise) >= float(rate)
    scale = np.asarray(1.0 / (1.0 - float(rate)), x.dtype if x.dtype.kind == "f" else config.floatx())
    return x * Tensor(keep.astype(scale.dtype) * scale)


def shuffle(x, axis=0, seed=None) -> Tensor:
    """``x`` with its slices along ``axis`` in a random order."""
    from . import ops
    x = ops.convert_to_tensor(x)
    order = _generator(seed).permutation(x.shape[int(axis)])
    return ops.take(x, order, axis=int(axis))


def categorical(logits, num_samples, dtype="int32", seed=None) -> Tensor:
    """``num_samples`` class indices per row of ``logits`` (batch, classes), each class drawn with
    probability ``softmax(logits)``; a class with logit ``-inf`` is never drawn."""
    scores = np.asarray(logits._value if isinstance(logits, Tensor) else logits, np.float64)
    if scores.ndim != 2:
        raise ValueError(f"categorical expects logits of shape (batch, classes), got shape {scores.shape}")
    gumbel = -np.log(-np.log(_generator(seed).random((scores.shape[0], int(num_samples), scores.shape[1]))
                             .clip(1e-300, None)))
    return Tensor(np.argmax(scores[:, None, :] + gumbel, axis=-1).astype(standardize_dtype(dtype)))


def gamma(shape, alpha, dtype=None, seed=None) -> Tensor:
    """Draws from a gamma distribution of shape parameter ``alpha`` (scale 1)."""
    dtype = _float_dtype(dtype, "gamma")
    return Tensor(_generator(seed).gamma(_scalar(alpha), 1.0, size=_shape(shape, "gamma")).astype(dtype))


def binomial(shape, counts, probabilities, dtype=None, seed=None) -> Tensor:
    """The number of successes in ``counts`` trials of success probability ``probabilities``."""
    dtype = standardize_dtype(dtype)
    draws = _generator(seed).binomial(np.asarray(_scalar(counts), np.int64), _scalar(probabilities),
                                      size=_shape(shape, "binomial"))
    return Tensor(draws.astype(dtype))


def beta(shape, alpha, beta, dtype=None, seed=None) -> Tensor:
    """Draws from a beta distribution with parameters ``alpha`` and ``beta``."""
    dtype = _float_dtype(dtype, "beta")
    return Tensor(_generator(seed).beta(_scalar(alpha), _scalar(beta), size=_shape(shape, "beta")).astype(dtype))


__all__ = ["SeedGenerator", "beta", "binomial", "categorical", "dropout", "gamma", "normal", "randint", "set_seed",
           "shuffle", "truncated_normal", "uniform"]
