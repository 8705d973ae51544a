"""The rest of Keras's ``keras.backend`` names, and tf.keras's ``get_value``/``set_value`` that
scripts use on an optimizer's learning rate (``K.set_value(model.optimizer.learning_rate, 1e-3)``).

>>> import lamina
>>> opt = lamina.optimizers.SGD(learning_rate=0.1)
>>> lamina.backend.set_value(opt.learning_rate, 0.01)
>>> round(float(lamina.backend.get_value(opt.learning_rate)), 6)
0.01
"""
from __future__ import annotations

from typing import Any

import numpy as np

from . import config

_IMAGE_DATA_FORMAT = "channels_last"
_UIDS: dict[str, int] = {}


def backend() -> str:
    """The name of the array backend: ``"numpy"``."""
    return "numpy"


def get_value(x) -> Any:
    """A tensor's or Variable's value as a NumPy array; anything else is returned as it is."""
    from ..ops.tensor import Tensor
    return x.numpy() if isinstance(x, Tensor) else x


def set_value(x, value) -> None:
    """Write ``value`` (converted to ``x``'s dtype) into the Variable ``x``."""
    if not getattr(x, "_is_variable", False):
        raise TypeError(f"set_value expects a Variable, got {type(x).__name__}; a learning rate that comes from a "
                        "schedule cannot be set (give the optimizer a float learning_rate)")
    x.assign(np.asarray(value, dtype=x.dtype))


def batch_get_value(tensors) -> list:
    """``[get_value(t) for t in tensors]``."""
    return [get_value(t) for t in tensors]


def batch_set_value(tuples) -> None:
    """``set_value(x, value)`` for each ``(x, value)`` pair."""
    for x, value in tuples:
        set_value(x, value)


def image_data_format() -> str:
    """``"channels_last"`` (or what ``set_image_data_format`` set)."""
    return _IMAGE_DATA_FORMAT


def set_image_data_format(data_format: str) -> None:
    """Set ``"channels_last"`` or ``"channels_first"``."""
    global _IMAGE_DATA_FORMAT
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(f"set_image_data_format expects 'channels_last' or 'channels_first', got {data_format!r}")
    _IMAGE_DATA_FORMAT = data_format


def int_shape(x) -> tuple | None:
    """tf.keras 2's ``K.int_shape``: the shape of a tensor, Variable, symbolic tensor or array
    as a tuple of ints (None for an unknown size, such as a symbolic batch); None when even the
    rank is unknown. Something without a shape raises AttributeError, as in tf.keras."""
    try:
        return tuple(None if d is None else int(d) for d in x.shape)
    except ValueError:  # a TensorShape of unknown rank cannot be listed
        return None


def get_uid(prefix: str = "") -> int:
    """1, 2, 3... for each call with the same ``prefix``."""
    _UIDS[prefix] = _UIDS.get(prefix, 0) + 1
    return _UIDS[prefix]


def is_keras_tensor(x) -> bool:
    """Whether ``x`` is a symbolic tensor (what ``Input(...)`` and layers called on it give)."""
    return hasattr(x, "_keras_history")


def is_float_dtype(dtype) -> bool:
    """Whether ``dtype`` is a floating-point dtype."""
    return np.dtype(config.standardize_dtype(dtype)).kind == "f"


def is_int_dtype(dtype) -> bool:
    """Whether ``dtype`` is an integer dtype (signed or not)."""
    return np.dtype(config.standardize_dtype(dtype)).kind in "iu"


def result_type(*dtypes) -> str:
    """The dtype Keras gives an op over inputs of ``dtypes``."""
    from ..ops.dtypes import result_type as _result_type
    return _result_type(*dtypes)
