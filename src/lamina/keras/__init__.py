"""``lamina.keras``: the whole API again, so ``import lamina as tf; tf.keras.layers.Dense`` and
``from lamina.keras.datasets import mnist`` work as they do with TensorFlow."""
import sys as _sys

from .. import (activations, backend, callbacks, datasets, initializers, layers, losses, metrics, models,
                optimizers, random, saving, utils)
from .. import config, constraints, regularizers, tree, wrappers
from ..layers import Input, InputSpec
from ..models import Model, Sequential
from ..ops import GradientTape
from ..variables import Variable
from .. import ops
from .._about import version
from ..backend.keras_tensor import KerasTensor
from ..initializers import Initializer
from ..layers import Layer
from ..losses import Loss
from ..metrics import Metric
from ..optimizers import Optimizer
from ..regularizers import Regularizer

for _name in ("ops", "activations", "backend", "callbacks", "datasets", "initializers", "layers", "losses",
              "metrics", "models", "optimizers", "random", "saving", "utils", "constraints", "regularizers", "config",
              "wrappers", "tree"):
    _sys.modules[f"{__name__}.{_name}"] = globals()[_name]

__all__ = ["Model", "Sequential", "Input", "Variable", "GradientTape", "ops", "activations", "backend",
           "callbacks", "datasets", "initializers", "layers", "losses", "metrics", "models", "optimizers", "random",
           "saving", "utils",
           "constraints", "regularizers", "config", "wrappers", "tree",
           "Layer", "Loss", "Metric", "Optimizer", "Initializer", "Regularizer", "KerasTensor", "version",
           "InputSpec"]
