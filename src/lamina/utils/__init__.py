"""Utilities: the progress bar, the model summary, seeding, data helpers and pictures."""
from ..backend import set_seed as set_random_seed
from .dataset_utils import split_dataset
from .numerical import normalize, to_categorical
from .plot_model import ModelPlot, plot_model
from .plotting import plot_confusion_matrix, plot_history, plot_images
from .progbar import Progbar
from .py_dataset import PyDataset
from .summary import print_summary

Sequence = PyDataset  # the older Keras name

__all__ = ["ModelPlot", "Progbar", "PyDataset", "Sequence", "normalize", "plot_confusion_matrix", "plot_history",
           "plot_images", "plot_model", "print_summary", "set_random_seed", "split_dataset", "to_categorical"]
