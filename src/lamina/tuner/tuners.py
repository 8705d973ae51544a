"""The four tuners, each an Optuna sampler (and pruner) behind KerasTuner's arguments:
RandomSearch (``RandomSampler``), GridSearch (``GridSampler``), BayesianOptimization
(``TPESampler``) and Hyperband (``RandomSampler`` with ``HyperbandPruner``)."""
from __future__ import annotations


import math
from collections.abc import Callable
from typing import TypeAlias

import optuna

from ..callbacks import Callback
from .hypermodel import HyperModel
from .hyperparameters import HyperParameters
from .objective import Objective
from .oracle import Oracle
from .tuner import Tuner

DEFAULT_MAX_TRIALS = 10  # KerasTuner's default for RandomSearch and BayesianOptimization
# a metric name or an Objective (KerasTuner's list of several, and None, are refused with a message)
Objectives: TypeAlias = str | Objective | list[str | Objective] | None


class RandomSearch(Tuner):
    """Hyperparameters drawn at random (Optuna's ``RandomSampler``).

    >>> import lamina, tempfile, numpy as np
    >>> from lamina import tuner as kt
    >>> def build(hp):
    ...     model = lamina.Sequential([lamina.Input((2,)), lamina.layers.Dense(1)])
    ...     model.compile(optimizer=lamina.optimizers.SGD(hp.Float("lr", 1e-3, 1e-1, sampling="log")), loss="mse")
    ...     return model
    >>> tuner = kt.RandomSearch(build, objective="loss", max_trials=2, seed=0, directory=tempfile.mkdtemp())
    >>> x = np.ones((8, 2), "float32")
    >>> tuner.search(x, x[:, :1], epochs=1, verbose=0)
    >>> len(tuner.oracle.get_best_trials(5))
    2
    """

    def __init__(self, hypermodel: HyperModel | Callable | None = None, objective: Objectives = None,
                 max_trials: int = DEFAULT_MAX_TRIALS, seed: int | None = None,
                 hyperparameters: HyperParameters | None = None, tune_new_entries: bool = True,
                 allow_new_entries: bool = True, max_retries_per_trial: int = 0,
                 max_consecutive_failed_trials: int = 3, **kwargs):
        _check_retries(max_retries_per_trial)
        oracle = Oracle(objective, max_trials, optuna.samplers.RandomSampler(seed=seed), None,
                        hyperparameters, tune_new_entries, allow_new_entries)
        self.max_consecutive_failed_trials = max_consecutive_failed_trials
        super().__init__(oracle, hypermodel, **kwargs)


class BayesianOptimization(Tuner):
    """Sequential model-based search with Optuna's ``TPESampler``: after ``num_initial_points``
    random trials, each trial goes where past trials promise most.

    KerasTuner fits a Gaussian process instead; ``alpha`` (its noise) and ``beta`` (its
    exploration) have no counterpart in TPE, so only their defaults are accepted.
    """

    def __init__(self, hypermodel: HyperModel | Callable | None = None, objective: Objectives = None,
                 max_trials: int = DEFAULT_MAX_TRIALS, num_initial_points: int | None = None, alpha: float = 1e-4,
                 beta: float = 2.6, seed: int | None = None, hyperparameters: HyperParameters | None = None,
                 tune_new_entries: bool = True, allow_new_entries: bool = True, max_retries_per_trial: int = 0,
                 max_consecutive_failed_trials: int = 3, **kwargs):
        if alpha != 1e-4 or beta != 2.6:
            raise ValueError(f"BayesianOptimization(alpha={alpha}, beta={beta}): these tune KerasTuner's Gaussian "
                             "process; lamina searches with Optuna's TPE sampler, which has neither. Leave "
                             "alpha and beta at their defaults (1e-4, 2.6)")
        _check_retries(max_retries_per_trial)
        self.num_initial_points, self.seed = num_initial_points, seed
        sampler = optuna.samplers.TPESampler(seed=seed, n_startup_trials=num_initial_points or 10)
        oracle = Oracle(objective, max_trials, sampler, None, hyperparameters, tune_new_entries, allow_new_entries)
        self.max_consecutive_failed_trials = max_consecutive_failed_trials
        super().__init__(oracle, hypermodel, **kwargs)

    def _prepare_search(self) -> None:
        if self.num_initial_points is None:  # KerasTuner: three random points per dimension
            startup = 3 * max(len(self.oracle.hyperparameters.space), 1)
            self.oracle.study.sampler = optuna.samplers.TPESampler(seed=self.seed, n_startup_trials=startup)


class GridSearch(Tuner):
    """Every combination of the hyperparameters' values (Optuna's ``GridSampler``); a range with
    no step gives 10 evenly spaced values, as in KerasTuner. ``max_trials=None`` runs the whole
    grid."""

    def __init__(self, hypermodel: HyperModel | Callable | None = None, objective: Objectives = None,
                 max_trials: int | None = None, seed: int | None = None,
                 hyperparameters: HyperParameters | None = None, tune_new_entries: bool = True,
                 allow_new_entries: bool = True, max_retries_per_trial: int = 0,
                 max_consecutive_failed_trials: int = 3, **kwargs):
        _check_retries(max_retries_per_trial)
        self.seed = seed
        # the grid is known once the model has been built; until then Optuna's default sampler
        # stands in (it draws nothing: no trial runs before the grid exists)
        oracle = Oracle(objective, max_trials, optuna.samplers.RandomSampler(seed=seed), None,
                        hyperparameters, tune_new_entries, allow_new_entries)
        oracle.grid = True
        self.max_consecutive_failed_trials = max_consecutive_failed_trials
        super().__init__(oracle, hypermodel, **kwargs)

    def _prepare_search(self) -> None:
        space = {h.name: h.grid() for h in self.oracle.hyperparameters.space if type(h).__name__ != "Fixed"}
        size = math.prod(len(v) for v in space.values()) if space else 1
        self.oracle.study.sampler = _AskedGridSampler(space or {"_": [0]}, seed=self.seed)
        self.oracle.max_trials = size if self.oracle.max_trials is None else min(self.oracle.max_trials, size)


class _AskedGridSampler(optuna.samplers.GridSampler):
    """Optuna's GridSampler, minus its ``study.stop()`` once the grid is done: that works only
    inside ``study.optimize``, and a search asks and tells (its budget is the grid's size)."""

    def after_trial(self, study, trial, state, values) -> None:
        return None


class _PruneCallback(Callback):
    """Reports the objective to Optuna after each epoch and stops training when the Hyperband
    pruner says the trial has lost its bracket's round."""

    def __init__(self, trial: optuna.Trial, objective_name: str, max_epochs: int):
        super().__init__()
        self.trial, self.objective_name, self.max_epochs = trial, objective_name, max_epochs
        self.pruned, self.epochs = False, 0

    def on_epoch_end(self, epoch, logs=None):
        self.epochs = epoch + 1
        value = (logs or {}).get(self.objective_name)
        if value is None:
            raise ValueError(f"Hyperband: objective {self.objective_name!r} is not in the epoch's logs "
                             f"{sorted(logs or {})}")
        self.trial.report(float(value), step=epoch + 1)
        if epoch + 1 < self.max_epochs and self.trial.should_prune():  # the last rung is the end anyway
            self.pruned = True
            self.model.stop_training = True


class Hyperband(Tuner):
    """Hyperband (Li et al., 2018) with Optuna's ``HyperbandPruner``: random configurations, each
    trained up to ``max_epochs`` and stopped at a rung (epochs ``factor**k``) when it is not among
    the best ``1/factor`` of its bracket. The brackets and the number of configurations follow
    KerasTuner; a configuration is trained once and stopped, where KerasTuner trains it again
    from its checkpoint in a later round (``tuner/epochs`` in its values is the epochs it ran).
    """

    def __init__(self, hypermodel: HyperModel | Callable | None = None, objective: Objectives = None,
                 max_epochs: int = 100, factor: int = 3, hyperband_iterations: int = 1, seed: int | None = None,
                 hyperparameters: HyperParameters | None = None, tune_new_entries: bool = True,
                 allow_new_entries: bool = True, max_retries_per_trial: int = 0,
                 max_consecutive_failed_trials: int = 3, **kwargs):
        for name, value, low in (("max_epochs", max_epochs, 1), ("factor", factor, 2),
                                 ("hyperband_iterations", hyperband_iterations, 1)):
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ValueError(f"Hyperband: {name} must be an int >= {low}, got {value!r}")
        if kwargs.get("executions_per_trial", 1) != 1:
            raise ValueError("Hyperband: executions_per_trial must be 1 (a trial is stopped epoch by epoch by "
                             "Optuna's pruner, which cannot average several runs)")
        _check_retries(max_retries_per_trial)
        self.max_epochs, self.factor = max_epochs, factor
        pruner = optuna.pruners.HyperbandPruner(min_resource=1, max_resource=max_epochs, reduction_factor=factor)
        trials = hyperband_iterations * sum(self._bracket_size(b) for b in range(self._brackets()))
        oracle = Oracle(objective, trials, optuna.samplers.RandomSampler(seed=seed), pruner,
                        hyperparameters, tune_new_entries, allow_new_entries)
        self.max_consecutive_failed_trials = max_consecutive_failed_trials
        super().__init__(oracle, hypermodel, **kwargs)

    def _brackets(self) -> int:
        """KerasTuner's count: how many times max_epochs divides by factor staying >= 1 epoch."""
        return int(math.log(self.max_epochs, self.factor) + 1e-9) + 1

    def _bracket_size(self, bracket: int) -> int:
        """How many configurations KerasTuner starts in a bracket (its round 0)."""
        end_size = math.ceil(1 + math.log(self.max_epochs, self.factor)) / (bracket + 1)
        return math.ceil(end_size * self.factor ** bracket)

    def _fit_kwargs(self, trial, fit_kwargs: dict) -> dict:
        return {**fit_kwargs, "epochs": self.max_epochs}

    def _trial_callbacks(self, trial, hp) -> list:
        hp.values.update({"tuner/epochs": self.max_epochs, "tuner/initial_epoch": 0})
        return [_PruneCallback(trial, self.oracle.objective.name, self.max_epochs)]

    def _after_fit(self, hp, extra: list) -> None:
        hp.values["tuner/epochs"] = extra[0].epochs


def _check_retries(max_retries_per_trial: int) -> None:
    if max_retries_per_trial != 0:
        raise ValueError(f"max_retries_per_trial={max_retries_per_trial}: lamina does not retry a trial whose "
                         "model raised (a trial interrupted by a dead worker is always run again); leave it at 0")
