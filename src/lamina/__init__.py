"""lamina: Keras's API for multilayer perceptrons (Sequential, Functional, subclassed), on NumPy.

Change one import and a Keras MLP script runs: ``import lamina as tf`` (then ``tf.keras.X``, and
TensorFlow's own names such as ``tf.constant``, ``tf.GradientTape``, ``tf.reduce_mean``,
``tf.nn.relu``, from ``lamina.tf``) or ``import lamina as keras``.

>>> import lamina as keras
>>> model = keras.Sequential([keras.layers.Dense(10, activation="softmax", input_shape=(4,))])
>>> model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["accuracy"])

``import lamina`` itself loads almost nothing: each subpackage (``lamina.layers``, ...) and each
top-level name (``lamina.Sequential``, ``lamina.constant``, ...) is imported at its first use
(PEP 562's module ``__getattr__``), so a script pays only for what it touches, and
``python -c "import lamina"`` does not pay for all ~150 modules (bench/RESULTS.md).
"""
import sys as _sys

from ._lazy import alias_modules as _alias_modules
from ._lazy import lazy_module as _lazy_module

__version__ = "0.1.0"

datasets = _lazy_module(__name__ + ".datasets")  # its downloader pulls in http, email, ssl: loaded at first use

# the subpackages ``lamina.X`` names (besides any other submodule, found on demand)
_SUBMODULES = ("activations", "backend", "ops", "callbacks", "initializers", "layers", "losses", "metrics", "models",
               "optimizers", "random", "saving", "utils", "constraints", "regularizers", "wrappers", "config", "keras",
               "tf", "data", "tree")
# top-level names and the module each comes from; TensorFlow's names (``lamina.tf.__all__``) come from lamina.tf
_NAMES = {"Input": "layers", "Model": "models", "Sequential": "models", "GradientTape": "ops", "Tensor": "ops",
          "dtypes": "tf", "linalg": "tf", "math": "tf", "nn": "tf",
          # Keras 3's top-level base classes and helpers
          "Layer": "layers", "Loss": "losses", "Metric": "metrics", "Optimizer": "optimizers",
          "Initializer": "initializers", "Regularizer": "regularizers", "KerasTensor": "backend.keras_tensor",
          "version": "_about", "InputSpec": "layers"}
_OWN_ALL = ["Model", "Sequential", "Input", "Variable", "GradientTape", "Tensor", "ops", "activations", "backend",
            "callbacks", "datasets", "initializers", "keras", "layers", "losses", "metrics", "models", "optimizers",
            "random", "saving", "utils", "__version__", "config", "constraints", "regularizers", "wrappers",
            "Layer", "Loss", "Metric", "Optimizer", "Initializer", "Regularizer", "KerasTensor", "version",
            "data", "tree", "InputSpec"]

# ``from lamina.math import reduce_sum`` works too: lamina.math is lamina.tf.math
_alias_modules({f"{__name__}.{name}": f"{__name__}.tf.{name}" for name in ("dtypes", "linalg", "math", "nn")})


def __getattr__(name: str):
    """Import what ``lamina.<name>`` names at its first use, and keep it as a module attribute."""
    import importlib.util

    if name == "__all__":
        value = sorted(set(_OWN_ALL + importlib.import_module(__name__ + ".tf").__all__))
    elif name.startswith("_"):  # dunder probes (pytest, doctest, copy) must not load the package
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    elif name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")  # the import sets the attribute
    elif name in _NAMES:
        value = getattr(importlib.import_module(f"{__name__}.{_NAMES[name]}"), name)
    else:
        tf = importlib.import_module(__name__ + ".tf")
        if name in tf.__all__:
            value = getattr(tf, name)
        elif importlib.util.find_spec(f"{__name__}.{name}") is not None:
            return importlib.import_module(f"{__name__}.{name}")  # lamina.variables, lamina.tuner, ...
        else:
            raise tf._refusal(name)  # says why lamina lacks it (tf.strings, tf.ragged, ...) and what to use
    globals()[name] = value
    return value


def __dir__() -> list:
    """The public API (``__all__``) with what is loaded already: ``dir(lamina)`` as when it all loaded eagerly."""
    public = __getattr__("__all__")
    return sorted(set(globals()) | set(public) | {"tf"})
