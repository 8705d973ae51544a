"""``lamina.config``: the settings Keras 3 keeps in ``keras.config`` (the float type, epsilon,
and whether loading may run code stored in files), and the device functions of TensorFlow's
``tf.config`` (``list_physical_devices``...: the CPU only), for ``import lamina as tf``.

>>> import lamina
>>> lamina.config.floatx()
'float32'
"""
from .backend.config import epsilon, floatx, set_epsilon, set_floatx
from .saving.safe_mode import enable_unsafe_deserialization
from .tf.devices import (PhysicalDevice, experimental, functions_run_eagerly, list_logical_devices,
                         list_physical_devices, run_functions_eagerly, set_visible_devices)

__all__ = ["PhysicalDevice", "enable_unsafe_deserialization", "epsilon", "experimental", "floatx",
           "functions_run_eagerly", "list_logical_devices", "list_physical_devices", "run_functions_eagerly",
           "set_epsilon", "set_floatx", "set_visible_devices"]
