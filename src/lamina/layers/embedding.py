"""``Embedding``: a trainable vector per integer id (a categorical feature's learned encoding).

>>> import numpy as np, lamina
>>> layer = lamina.layers.Embedding(input_dim=10, output_dim=4)
>>> layer(np.array([[1, 2, 3], [4, 5, 6]])).shape
(2, 3, 4)
"""
from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from .. import constraints, initializers, ops, regularizers
from ..ops.primitive import defop
from .._types import ConstraintLike, InitializerLike, RegularizerLike
from .layer import Layer


def _positive_int(owner: str, name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"{owner} expects {name} to be a positive integer, got {name}={value!r} "
                         f"(of type {type(value).__name__})")
    return int(value)


def _lookup(table: np.ndarray, ids: np.ndarray, layer: str) -> np.ndarray:
    """Rows ``ids`` of ``table``; an id outside ``[0, len(table))`` is refused (NumPy would wrap a
    negative one), checked here, in the op, so that a traced step needs no Python read of the ids."""
    if ids.size and (ids.min() < 0 or ids.max() >= len(table)):
        bad = ids[(ids < 0) | (ids >= len(table))].flat[0]
        raise ValueError(f"Embedding '{layer}' has ids in [0, {len(table)}), got id {bad}: raise input_dim, or "
                         "map the ids into that range first")
    return np.take(table, ids, axis=0)


def _lookup_vjp(F, g, out, table, ids, layer):
    # each row's gradient is the sum over the positions that used it (index_add, not assignment)
    return F.index_add(np.shape(table), np.asarray(ids, np.intp), g, g.dtype), None


_LOOKUP = defop("embedding_lookup", _lookup, _lookup_vjp)


class Embedding(Layer):
    """Maps each id in ``[0, input_dim)`` to a row of the ``(input_dim, output_dim)`` weight
    ``embeddings``: the output has the input's shape plus ``output_dim``. The gradient reaches only
    the rows the batch used (a sum where an id repeats). Ids outside the range are refused, never
    wrapped or clipped (Keras's backends differ there: JAX clips, TensorFlow raises on CPU).
    ``mask_zero=True`` is refused: lamina has no masking."""

    def __init__(self, input_dim: int, output_dim: int, embeddings_initializer: InitializerLike = "uniform",
                 embeddings_regularizer: RegularizerLike = None, embeddings_constraint: ConstraintLike = None,
                 mask_zero: bool = False, weights: Any = None, lora_rank: int | None = None,
                 lora_alpha: float | None = None, quantization_config: Any = None, **kwargs):
        if kwargs.pop("input_length", None) is not None:
            warnings.warn("Embedding: the argument input_length is deprecated (as in Keras 3); just remove it",
                          UserWarning, stacklevel=2)
        super().__init__(**kwargs)
        owner = f"Embedding '{self.name}'"
        self.input_dim = _positive_int(owner, "input_dim", input_dim)
        self.output_dim = _positive_int(owner, "output_dim", output_dim)
        if mask_zero:
            raise ValueError(f"{owner}: mask_zero=True needs masking, which lamina does not support")
        if lora_rank or quantization_config is not None:
            raise ValueError(f"{owner}: LoRA (lora_rank) and quantization are not supported by lamina")
        self.mask_zero = False
        self.embeddings_initializer = initializers.get(embeddings_initializer)
        self.embeddings_regularizer = regularizers.get(embeddings_regularizer)
        self.embeddings_constraint = constraints.get(embeddings_constraint)
        self.embeddings: Any = None
        if weights is not None:
            self.build()
            self.set_weights(weights if isinstance(weights, list) and len(weights) == 1 else [weights])

    def build(self, input_shape=None):
        if self.built:
            return
        self.embeddings = self.add_weight((self.input_dim, self.output_dim), self.embeddings_initializer,
                                          name="embeddings", regularizer=self.embeddings_regularizer,
                                          constraint=self.embeddings_constraint)
        self.built = True

    def compute_output_shape(self, input_shape):
        return (*input_shape, self.output_dim)

    def call(self, inputs):
        ids = inputs
        if ids.dtype.kind == "f":  # Keras casts any other dtype to int32
            ids = ops.cast(ids, "int32")
        elif ids.dtype.kind not in "iu":
            raise TypeError(f"Embedding '{self.name}' expects integer ids, got inputs of dtype {ids.dtype}")
        return _LOOKUP(self.embeddings, ids, layer=self.name)

    def get_config(self):
        config = {**super().get_config(), "input_dim": self.input_dim, "output_dim": self.output_dim,
                  "embeddings_initializer": initializers.serialize(self.embeddings_initializer),
                  "embeddings_regularizer": regularizers.serialize(self.embeddings_regularizer),
                  "activity_regularizer": regularizers.serialize(self.activity_regularizer),
                  "embeddings_constraint": constraints.serialize(self.embeddings_constraint),
                  "mask_zero": False, "quantization_config": None}
        return config
