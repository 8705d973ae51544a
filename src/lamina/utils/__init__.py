"""Utilities: the progress bar, the model summary, seeding, data helpers and pictures."""
from ..backend import set_seed as set_random_seed
from .._lazy import lazy_names
from .plot_model import ModelPlot, plot_model  # eager: the function shares its submodule's name
from .progbar import Progbar
from .py_dataset import PyDataset

# the charts, the summary and the data helpers load at first use: fit needs none of them
_own_getattr, _ = lazy_names(__name__, {
    "split_dataset": "dataset_utils", "normalize": "numerical", "to_categorical": "numerical",
    "plot_confusion_matrix": "plotting",
    "plot_history": "plotting", "plot_images": "plotting", "print_summary": "summary",
    "clear_session": "keras_utils", "get_source_inputs": "keras_utils"})
# keras.utils's names for what lamina keeps elsewhere: the saving registry's (its code loads at
# first use, as lamina.saving's does), the backend's and ops'
_ELSEWHERE = {name: "lamina.saving.object_registration" for name in (
    "CustomObjectScope", "custom_object_scope", "get_custom_objects", "get_registered_name", "get_registered_object",
    "register_keras_serializable")}
_ELSEWHERE |= {"serialize_keras_object": "lamina.saving.serialization_lib",
               "deserialize_keras_object": "lamina.saving.serialization_lib",
               "is_keras_tensor": "lamina.backend.keras_names",
               "standardize_dtype": "lamina.ops.dtypes"}  # Keras's rules (``int`` is int32), not backend.config's


def __getattr__(name: str):
    """The names above, imported at their first use and then kept as module attributes."""
    if name in _ELSEWHERE:
        import importlib
        value = getattr(importlib.import_module(_ELSEWHERE[name]), name)
    else:
        value = _own_getattr(name)
    globals()[name] = value
    return value


Sequence = PyDataset  # the older Keras name

__all__ = ["ModelPlot", "Progbar", "PyDataset", "Sequence", "normalize", "plot_confusion_matrix", "plot_history",
           "plot_images", "plot_model", "print_summary", "set_random_seed", "split_dataset", "to_categorical",
           "clear_session", "get_source_inputs", "CustomObjectScope", "custom_object_scope", "get_custom_objects",
           "get_registered_name", "get_registered_object", "register_keras_serializable", "serialize_keras_object",
           "deserialize_keras_object", "is_keras_tensor", "standardize_dtype"]


def __dir__() -> list:
    """What ``__all__`` names, loaded or not."""
    return sorted(set(globals()) | set(__all__))
