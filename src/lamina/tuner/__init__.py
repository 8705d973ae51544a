"""KerasTuner's API on Optuna: ``from lamina import tuner as kt``.

The tuners (``RandomSearch``, ``GridSearch``, ``BayesianOptimization``, ``Hyperband``) take
KerasTuner's arguments; Optuna's samplers and pruners do the searching, and the search lives in
an Optuna study (an SQLite file under ``directory/project_name`` unless ``storage=`` names
another), so that a killed search resumes and workers on many machines share one.
"""
from .._optional import require

require("optuna", "lamina.tuner")

from .hypermodel import HyperModel
from .hyperparameters import (
           Boolean,
           Choice,
           Fixed,
           Float,
           HyperParameter,
           HyperParameters,
           Int,
)
from .objective import Objective
from .oracle import Oracle
from .trial import Trial
from .tuner import Tuner
from .tuners import BayesianOptimization, GridSearch, Hyperband, RandomSearch

__all__ = ["BayesianOptimization", "Boolean", "Choice", "Fixed", "Float", "GridSearch", "HyperModel",
           "HyperParameter", "HyperParameters", "Hyperband", "Int", "Objective", "Oracle", "RandomSearch", "Trial",
           "Tuner"]
