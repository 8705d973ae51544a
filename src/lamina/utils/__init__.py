"""Utilities: the progress bar, the model summary, seeding."""
from ..backend import set_seed as set_random_seed
from .progbar import Progbar
from .summary import print_summary

__all__ = ["Progbar", "print_summary", "set_random_seed"]
