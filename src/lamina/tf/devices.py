"""The device questions TensorFlow scripts ask ``tf.config`` first; lamina has one device, the CPU.
``lamina.config`` (Keras's ``keras.config`` settings) carries them too, so it answers both.

>>> import lamina as tf
>>> [d.device_type for d in tf.config.list_physical_devices()], tf.config.list_physical_devices("GPU")
(['CPU'], [])
"""
from __future__ import annotations

import collections
import types

PhysicalDevice = collections.namedtuple("PhysicalDevice", ["name", "device_type"])
_CPU = PhysicalDevice("/physical_device:CPU:0", "CPU")


def list_physical_devices(device_type=None) -> list:
    """The devices of ``device_type`` (all when None): the CPU only."""
    return [_CPU] if device_type is None or str(device_type).upper() == "CPU" else []


def list_logical_devices(device_type=None) -> list:
    """As ``list_physical_devices``."""
    return list_physical_devices(device_type)


def run_functions_eagerly(run_eagerly: bool) -> None:
    """True: every ``tf.function`` runs its Python as written at each call (no trace, no replay)."""
    from .compiled_function import EAGER_SWITCH
    EAGER_SWITCH[0] = bool(run_eagerly)


def functions_run_eagerly() -> bool:
    """Whether ``run_functions_eagerly(True)`` is in force."""
    from .compiled_function import EAGER_SWITCH
    return EAGER_SWITCH[0]


def set_visible_devices(devices, device_type=None) -> None:
    """Accepted: there is only the CPU."""


def _set_memory_growth(device, enable) -> None:
    """Accepted: there is no GPU memory to manage."""


experimental = types.SimpleNamespace(set_memory_growth=_set_memory_growth, list_physical_devices=list_physical_devices)

__all__ = ["PhysicalDevice", "experimental", "functions_run_eagerly", "list_logical_devices", "list_physical_devices",
           "run_functions_eagerly", "set_visible_devices"]
