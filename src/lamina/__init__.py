"""lamina: Keras's Sequential API for multilayer perceptrons, on NumPy.

Change one import and a Keras MLP script runs: ``import lamina as tf`` (then ``tf.keras.X``)
or ``import lamina as keras``.

>>> import lamina as keras
>>> model = keras.Sequential([keras.layers.Dense(10, activation="softmax", input_shape=(4,))])
>>> model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
"""
from ._lazy import lazy_module

datasets = lazy_module(__name__ + ".datasets")  # its downloader pulls in http, email, ssl: loaded at first use
from . import (activations, backend, ops, callbacks, initializers, layers, losses, metrics, models,  # noqa: E402
               optimizers, random, saving, utils)
from . import constraints, regularizers
from .layers import Input
from .models import Model, Sequential
from .variables import Variable
from .ops import GradientTape, Tensor

__version__ = "0.1.0"

__all__ = ["Model", "Sequential", "Input", "Variable", "GradientTape", "Tensor", "ops", "activations", "backend", "callbacks", "datasets",
           "initializers", "keras", "layers", "losses", "metrics", "models", "optimizers", "random",
           "saving", "utils", "__version__", "constraints", "regularizers"]

from . import keras  # noqa: E402  (the same API again, for ``tf.keras.X``)
