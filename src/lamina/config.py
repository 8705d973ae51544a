"""``lamina.config``: the settings Keras 3 keeps in ``keras.config`` (the float type, epsilon,
and whether loading may run code stored in files).

>>> import lamina
>>> lamina.config.floatx()
'float32'
"""
from .backend.config import epsilon, floatx, set_epsilon, set_floatx
from .saving.safe_mode import enable_unsafe_deserialization

__all__ = ["enable_unsafe_deserialization", "epsilon", "floatx", "set_epsilon", "set_floatx"]
