"""Losses with Keras's names, formulas and reductions (``lamina.losses``, as ``keras.losses``).

``__all__`` is what a model file may name; the helpers below it are lamina's own.
"""
from .losses import *  # noqa: F401,F403  (the names in losses.__all__)
from .losses import __all__  # noqa: F401
from .losses import _FUNCTION_CLASSES, _REGISTRY, check_label_smoothing, check_sparse_labels, get, register  # noqa: F401
from .loss import reduce_weighted_values, squeeze_or_expand_to_same_rank  # noqa: F401
from .reduction import Reduction  # noqa: F401  (tf.keras 2's; not a loss a file may name)
from ..saving.kind_configs import deserialize_loss as deserialize, serialize  # noqa: F401  (keras.losses's)
