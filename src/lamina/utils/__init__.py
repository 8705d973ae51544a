"""Utilities: the progress bar, the model summary, seeding, data helpers and pictures."""
from ..backend import set_seed as set_random_seed
from .._lazy import lazy_names
from .plot_model import ModelPlot, plot_model  # eager: the function shares its submodule's name
from .progbar import Progbar
from .py_dataset import PyDataset

# the charts, the summary and the data helpers load at first use: fit needs none of them; and
# keras.utils's names for what lamina keeps elsewhere (the saving registry's, the backend's, ops'
# and the trainers'), by their modules' full names
_SAVING = "lamina.saving.object_registration"
__getattr__, _ = lazy_names(__name__, {
    "split_dataset": "dataset_utils", "normalize": "numerical", "to_categorical": "numerical",
    "plot_confusion_matrix": "plotting",
    "plot_history": "plotting", "plot_images": "plotting", "print_summary": "summary",
    "clear_session": "keras_utils", "get_source_inputs": "keras_utils",
    "CustomObjectScope": _SAVING, "custom_object_scope": _SAVING, "get_custom_objects": _SAVING,
    "get_registered_name": _SAVING, "get_registered_object": _SAVING, "register_keras_serializable": _SAVING,
    "serialize_keras_object": "lamina.saving.serialization_lib",
    "deserialize_keras_object": "lamina.saving.serialization_lib",
    "is_keras_tensor": "lamina.backend.keras_names",
    "enable_interactive_logging": "io_utils", "disable_interactive_logging": "io_utils",
    "is_interactive_logging_enabled": "io_utils", "pad_sequences": "sequence_utils",
    "timeseries_dataset_from_array": "timeseries", "get_file": "file_utils",
    "standardize_dtype": "lamina.ops.dtypes",  # Keras's rules (``int`` is int32), not backend.config's
    "pack_x_y_sample_weight": "lamina.trainers.structures", "unpack_x_y_sample_weight": "lamina.trainers.structures"})

Sequence = PyDataset  # the older Keras name

__all__ = ["ModelPlot", "Progbar", "PyDataset", "Sequence", "normalize", "plot_confusion_matrix", "plot_history",
           "plot_images", "plot_model", "print_summary", "set_random_seed", "split_dataset", "to_categorical",
           "clear_session", "get_source_inputs", "CustomObjectScope", "custom_object_scope", "get_custom_objects",
           "get_registered_name", "get_registered_object", "register_keras_serializable", "serialize_keras_object",
           "deserialize_keras_object", "is_keras_tensor", "standardize_dtype", "pack_x_y_sample_weight",
           "unpack_x_y_sample_weight", "enable_interactive_logging", "disable_interactive_logging",
           "is_interactive_logging_enabled", "pad_sequences", "timeseries_dataset_from_array",
           "get_file"]


def __dir__() -> list:
    """What ``__all__`` names, loaded or not."""
    return sorted(set(globals()) | set(__all__))
