"""lamina: Keras's Sequential API for multilayer perceptrons, on NumPy.

Change one import and a Keras MLP script runs: ``import lamina as tf`` (then ``tf.keras.X``)
or ``import lamina as keras``.

>>> import lamina as keras
>>> model = keras.Sequential([keras.layers.Dense(10, activation="softmax", input_shape=(4,))])
>>> model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
"""
from . import (activations, backend, ops, callbacks, datasets, initializers, layers, losses, metrics, models,
               optimizers, random, saving, utils)
from . import config, constraints, regularizers
from . import wrappers  # scikit-learn is imported only when a wrapper class is first used
from .layers import Input
from .models import Model, Sequential
from .variables import Variable
from .ops import GradientTape, Tensor

__version__ = "0.1.0"

__all__ = ["Model", "Sequential", "Input", "Variable", "GradientTape", "Tensor", "ops", "activations", "backend", "callbacks", "datasets",
           "initializers", "keras", "layers", "losses", "metrics", "models", "optimizers", "random",
           "saving", "utils", "__version__", "config", "constraints", "regularizers", "wrappers"]

from . import keras  # noqa: E402  (the same API again, for ``tf.keras.X``)
