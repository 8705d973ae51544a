"""KerasTuner's API on Optuna: ``from lamina import tuner as kt``.

The tuners (``RandomSearch``, ``GridSearch``, ``BayesianOptimization``, ``Hyperband``) take
KerasTuner's arguments; Optuna's samplers and pruners do the searching, and the search lives in
an Optuna study (an SQLite file under ``directory/project_name`` unless ``storage=`` names
another), so that a killed search resumes and workers on many machines share one.
"""
from .._optional import require

require("optuna", "lamina.tuner")

from .hypermodel import HyperModel  # noqa: E402
from .hyperparameters import Boolean, Choice, Fixed, Float, HyperParameter, HyperParameters, Int  # noqa: E402
from .objective import Objective  # noqa: E402
from .oracle import Oracle  # noqa: E402
from .trial import Trial  # noqa: E402
from .tuner import Tuner  # noqa: E402
from .tuners import BayesianOptimization, GridSearch, Hyperband, RandomSearch  # noqa: E402

__all__ = ["HyperModel", "HyperParameters", "HyperParameter", "Int", "Float", "Choice", "Boolean", "Fixed",
           "Objective", "Oracle", "Trial", "Tuner", "RandomSearch", "GridSearch", "BayesianOptimization",
           "Hyperband"]
