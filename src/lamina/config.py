"""``lamina.config``: the settings Keras 3 keeps in ``keras.config`` (the float type and dtype
policy, epsilon, the image data format, where output goes, traceback filtering, caps on ``fit``,
and whether loading may run code stored in files), and the device functions of TensorFlow's
``tf.config`` (``list_physical_devices``...: the CPU only), for ``import lamina as tf``.

>>> import lamina
>>> lamina.config.floatx()
'float32'
"""
from .backend.config import epsilon, floatx, set_epsilon, set_floatx
from .backend.keras_names import backend, image_data_format, set_image_data_format
from .backend.run_config import (disable_traceback_filtering, dtype_policy, enable_traceback_filtering,
                                 is_traceback_filtering_enabled, max_epochs, max_steps_per_epoch, set_dtype_policy,
                                 set_max_epochs, set_max_steps_per_epoch)
from .saving.safe_mode import enable_unsafe_deserialization
from .tf.devices import (PhysicalDevice, experimental, functions_run_eagerly, list_logical_devices,
                         list_physical_devices, run_functions_eagerly, set_visible_devices)
from .utils.io_utils import disable_interactive_logging, enable_interactive_logging, is_interactive_logging_enabled

__all__ = ["PhysicalDevice", "backend", "disable_interactive_logging", "disable_traceback_filtering", "dtype_policy",
           "enable_interactive_logging", "enable_traceback_filtering", "enable_unsafe_deserialization", "epsilon",
           "experimental", "floatx", "functions_run_eagerly", "image_data_format", "is_interactive_logging_enabled",
           "is_traceback_filtering_enabled", "list_logical_devices", "list_physical_devices", "max_epochs",
           "max_steps_per_epoch", "run_functions_eagerly", "set_dtype_policy", "set_epsilon", "set_floatx",
           "set_image_data_format", "set_max_epochs", "set_max_steps_per_epoch", "set_visible_devices"]
