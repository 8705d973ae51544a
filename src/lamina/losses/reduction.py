"""tf.keras 2's ``tf.keras.losses.Reduction``: the names of the reductions a loss's
``reduction=`` takes. ``AUTO`` is tf.keras 2's default, which outside a distribution strategy
meant ``SUM_OVER_BATCH_SIZE``; lamina's losses take it as that (and save that name, which
Keras 3 reads).

>>> import lamina as tf
>>> loss = tf.keras.losses.MeanSquaredError(reduction=tf.keras.losses.Reduction.AUTO)
>>> loss.reduction
'sum_over_batch_size'
"""
from __future__ import annotations

__all__ = ["Reduction"]


class Reduction:
    """The reduction names of tf.keras 2: ``AUTO``, ``NONE``, ``SUM``, ``SUM_OVER_BATCH_SIZE``."""

    AUTO = "auto"
    NONE = "none"
    SUM = "sum"
    SUM_OVER_BATCH_SIZE = "sum_over_batch_size"

    @classmethod
    def all(cls) -> tuple:
        """The four names."""
        return (cls.AUTO, cls.NONE, cls.SUM, cls.SUM_OVER_BATCH_SIZE)

    @classmethod
    def validate(cls, key: str) -> None:
        """Raise a ValueError unless ``key`` is one of the four names."""
        if key not in cls.all():
            raise ValueError(f"Reduction {key!r} is not one of tf.keras's reductions {cls.all()}")
