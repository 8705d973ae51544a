"""Layers with Keras's names and arguments.

>>> import lamina
>>> lamina.layers.Dense(10, activation="softmax").units
10
"""
from .category_encoding import CategoryEncoding
from .dense import Dense
from .embedding import Embedding
from .input_layer import Input, InputLayer
from .input_spec import InputSpec
from .layer import Layer
from .reshaping import Flatten
from .core import Activation, Identity
from .normalization import BatchNormalization, LayerNormalization, UnitNormalization
from .preprocessing import Normalization, Rescaling
from .regularization import ActivityRegularization, AlphaDropout, Dropout, GaussianDropout, GaussianNoise
from .reshaping import Reshape
from .activations import ELU, LeakyReLU, PReLU, ReLU, Softmax
from .lambda_layer import Lambda
from .merging import (Add, Average, Concatenate, Dot, Maximum, Minimum, Multiply, Subtract, add, average,
                      concatenate, dot, maximum, minimum, multiply, subtract)
from ..saving.serialization_lib import deserialize_layer as deserialize, serialize_layer as serialize  # noqa: E402

__all__ = ["Layer", "InputLayer", "Input", "InputSpec", "Dense", "Embedding", "Flatten"]
__all__ += ["Activation", "Identity", "Dropout", "GaussianNoise", "GaussianDropout", "AlphaDropout",
            "ActivityRegularization", "BatchNormalization", "LayerNormalization", "UnitNormalization",
            "Normalization", "Rescaling", "Reshape", "CategoryEncoding"]
__all__ += ["ReLU", "LeakyReLU", "PReLU", "ELU", "Softmax", "Lambda", "Add", "Subtract", "Multiply", "Average",
            "Maximum", "Minimum", "Concatenate", "Dot", "add", "subtract", "multiply", "average", "maximum", "minimum",
            "concatenate", "dot"]
__all__ += ["serialize", "deserialize"]


def __getattr__(name: str):
    from ._absent import missing_layer
    if name.startswith("__"):  # dunder probes (copy, doctest) get the plain error
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    raise missing_layer(name)
