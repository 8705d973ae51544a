"""``tf.nn``: activations, ``dropout``, ``moments``, ``l2_normalize``, the cross-entropies with
logits and the small helpers of custom training loops (``compute_average_loss``, ``l2_loss``).

>>> import lamina as tf
>>> tf.nn.softmax([0.0, 0.0]).numpy().tolist()
[0.5, 0.5]
"""
from .nn_ops import (batch_normalization, bias_add, compute_average_loss, dropout, elu, embedding_lookup, gelu,
                     l2_loss, l2_normalize, leaky_relu, log_softmax, moments, relu, relu6, scale_regularization_loss,
                     selu, sigmoid, sigmoid_cross_entropy_with_logits, silu, softmax,
                     softmax_cross_entropy_with_logits, softplus, softsign, sparse_softmax_cross_entropy_with_logits,
                     swish, tanh, weighted_cross_entropy_with_logits, zero_fraction)
from .reductions import in_top_k, top_k

__all__ = sorted(name for name in dir() if not name.startswith("_") and name not in ("nn_ops", "reductions"))


def __getattr__(name: str):
    """A tf.nn name lamina does not have: refused, saying so (dunder probes get Python's own error)."""
    if name.startswith("_"):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from ._refused import refusal
    raise refusal(name, "tf.nn")
