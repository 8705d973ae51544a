"""lamina: Keras's API for multilayer perceptrons (Sequential, Functional, subclassed), on NumPy.

Change one import and a Keras MLP script runs: ``import lamina as tf`` (then ``tf.keras.X``, and
TensorFlow's own names such as ``tf.constant``, ``tf.GradientTape``, ``tf.reduce_mean``,
``tf.nn.relu``, from ``lamina.tf``) or ``import lamina as keras``.

>>> import lamina as keras
>>> model = keras.Sequential([keras.layers.Dense(10, activation="softmax", input_shape=(4,))])
>>> model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
"""
import sys as _sys

from ._lazy import lazy_module

datasets = lazy_module(__name__ + ".datasets")  # its downloader pulls in http, email, ssl: loaded at first use
from . import (activations, backend, ops, callbacks, initializers, layers, losses, metrics, models,  # noqa: E402
               optimizers, random, saving, utils)
from . import constraints, regularizers
from . import wrappers  # scikit-learn is imported only when a wrapper class is first used
from .layers import Input
from .models import Model, Sequential
from .ops import GradientTape, Tensor
from . import tf as _tf
from .tf import *  # noqa: F401,F403  (TensorFlow's names for ``import lamina as tf``; Variable among them)
from .tf import dtypes, linalg, math, nn
from . import config  # Keras's keras.config, with tf.config's device functions

__version__ = "0.1.0"

__all__ = sorted(set(["Model", "Sequential", "Input", "Variable", "GradientTape", "Tensor", "ops", "activations",
                      "backend", "callbacks", "datasets", "initializers", "keras", "layers", "losses", "metrics",
                      "models", "optimizers", "random", "saving", "utils", "__version__", "config", "constraints",
                      "regularizers", "wrappers"] + _tf.__all__))

for _name in ("dtypes", "linalg", "math", "nn"):  # ``from lamina.math import reduce_sum`` works too
    _sys.modules[f"{__name__}.{_name}"] = getattr(_tf, _name)
del _name

from . import keras  # noqa: E402  (the same API again, for ``tf.keras.X``)
