"""Utilities: the progress bar, the model summary, seeding, data helpers and pictures."""
from ..backend import set_seed as set_random_seed
from .._lazy import lazy_names
from .plot_model import ModelPlot, plot_model  # eager: the function shares its submodule's name
from .progbar import Progbar
from .py_dataset import PyDataset

# the charts, the summary and the data helpers load at first use: fit needs none of them
__getattr__, __dir__ = lazy_names(__name__, {
    "split_dataset": "dataset_utils", "normalize": "numerical", "to_categorical": "numerical",
    "plot_confusion_matrix": "plotting",
    "plot_history": "plotting", "plot_images": "plotting", "print_summary": "summary",
    "pack_x_y_sample_weight": "lamina.trainers.structures", "unpack_x_y_sample_weight": "lamina.trainers.structures"})

Sequence = PyDataset  # the older Keras name

__all__ = ["ModelPlot", "Progbar", "PyDataset", "Sequence", "normalize", "pack_x_y_sample_weight",
           "plot_confusion_matrix", "plot_history", "plot_images", "plot_model", "print_summary", "set_random_seed",
           "split_dataset", "to_categorical", "unpack_x_y_sample_weight"]
