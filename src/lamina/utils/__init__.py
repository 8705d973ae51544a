"""Utilities: the progress bar, the model summary, seeding."""
from ..backend import set_seed as set_random_seed
from .progbar import Progbar
from .py_dataset import PyDataset
from .summary import print_summary
from .dataset_utils import split_dataset
from .numerical import normalize, to_categorical

Sequence = PyDataset  # the older Keras name

__all__ = ["Progbar", "PyDataset", "Sequence", "print_summary", "set_random_seed"]
__all__ += ["normalize", "split_dataset", "to_categorical"]
from .plot_model import ModelPlot, plot_model
__all__ += ["ModelPlot", "plot_model"]
from .plotting import plot_confusion_matrix, plot_history, plot_images
__all__ += ["plot_confusion_matrix", "plot_history", "plot_images"]
