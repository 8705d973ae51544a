"""``Tuner``: KerasTuner's search loop (``search``, the summaries, the best models) over an
``Oracle``. Each trial builds the model from its hyperparameters, trains it with ``search``'s
arguments (``executions_per_trial`` times) and keeps its best epoch's weights on disk."""
from __future__ import annotations

import copy
import json
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import optuna

from ..callbacks import Callback
from . import study as study_lib
from .hypermodel import HyperModel, get_hypermodel
from .hyperparameters import Boolean, Choice, HyperParameters
from .objective import Objective
from .oracle import Oracle

if TYPE_CHECKING:
    from ..optimizers.optimizer import Optimizer

CHECKPOINT = "checkpoint.weights.h5"
BUILD_CONFIG = "build_config.json"  # the input shape, for a model built on its first data (as KerasTuner keeps)


class SaveBestEpoch(Callback):
    """Save the weights at the epoch with the best objective (every epoch when the objective is
    not in the logs, as KerasTuner does)."""

    def __init__(self, objective: Objective, filepath: Path):
        super().__init__()
        self.objective, self.filepath = objective, filepath
        self.best = float("-inf") if objective.direction == "max" else float("inf")

    def on_epoch_end(self, epoch, logs=None):
        value = (logs or {}).get(self.objective.name)
        if value is None or self.objective.better_than(float(value), self.best):
            self.best = self.best if value is None else float(value)
            self.model.save_weights(str(self.filepath))


def best_epoch_metrics(result, objective: Objective, where: str) -> dict:
    """KerasTuner's reading of what ``fit`` returned: a History gives its best epoch's metrics
    (``_best_step``: that epoch), a dict is taken as is, a number is the objective's value."""
    if isinstance(result, (int, float)) and not isinstance(result, bool):
        return {objective.name: float(result)}
    if isinstance(result, dict):
        if objective.name not in result:
            raise ValueError(f"{where} returned {sorted(result)}, without the objective {objective.name!r}")
        return {k: float(v) for k, v in result.items()}
    history = getattr(result, "history", None)
    if not isinstance(history, dict):
        raise TypeError(f"{where} must return a History, a dict of metrics or a number, got {type(result).__name__}")
    if objective.name not in history:
        raise ValueError(f"objective {objective.name!r} is not among the logged metrics {sorted(history)}: "
                         "name one of those (validation metrics need validation_data=)")
    values = history[objective.name]
    best = 0
    for epoch, value in enumerate(values):
        if objective.better_than(value, values[best]):
            best = epoch
    return {**{k: float(v[best]) for k, v in history.items()}, "_best_step": best}


def average(metric_dicts: list[dict]) -> dict:
    """The mean of each metric over the executions of a trial."""
    names = [k for k in metric_dicts[0] if k != "_best_step"]
    averaged = {k: sum(d[k] for d in metric_dicts) / len(metric_dicts) for k in names}
    return {**averaged, "_best_step": metric_dicts[0].get("_best_step", 0)}


class Tuner:
    """The search loop shared by RandomSearch, GridSearch, BayesianOptimization and Hyperband."""

    # max_model_size, optimizer, loss, metrics, distribution_strategy (a tf.distribute.Strategy) and
    # logger are KerasTuner's and refused unless None; a hypermodel of None is refused too
    def __init__(self, oracle: Oracle, hypermodel: HyperModel | Callable | None, max_model_size: int | None = None,
                 optimizer: str | Optimizer | None = None, loss: str | Callable | None = None,
                 metrics: list | None = None, distribution_strategy: object = None,
                 directory: str | os.PathLike | None = None, project_name: str | None = None, logger: object = None,
                 tuner_id: str | None = None, overwrite: bool = False, executions_per_trial: int = 1,
                 storage: str | optuna.storages.BaseStorage | None = None, **unknown):
        if unknown:
            raise TypeError(f"unexpected tuner arguments {sorted(unknown)}")
        refused = {"max_model_size": max_model_size, "optimizer": optimizer, "loss": loss, "metrics": metrics,
                   "distribution_strategy": distribution_strategy, "logger": logger}
        given = sorted(k for k, v in refused.items() if v is not None)
        if given:
            raise ValueError(f"lamina's tuner does not take {given}: compile the model in build(hp) with its "
                             "optimizer, loss and metrics (KerasTuner's overrides are not supported)")
        if not isinstance(executions_per_trial, int) or executions_per_trial < 1:
            raise ValueError(f"executions_per_trial must be a positive int, got {executions_per_trial!r}")
        self.oracle, self.hypermodel = oracle, get_hypermodel(hypermodel)
        self.executions_per_trial, self.tuner_id = executions_per_trial, tuner_id
        self.directory = Path(directory if directory is not None else ".")
        self.project_name = project_name or "untitled_project"
        self.project_dir = self.directory / self.project_name
        if overwrite and self.project_dir.exists() and storage is None:
            shutil.rmtree(self.project_dir)
        self.project_dir.mkdir(parents=True, exist_ok=True)
        self.oracle.open(storage, self.project_dir, self.project_name, overwrite, self._identity())
        self._populate_initial_space()  # as KerasTuner: search_space_summary works before search

    def _identity(self) -> dict:
        """What a resumed search must share with the one that made the project (``max_trials`` may
        grow: the search goes on to the new count, as KerasTuner's does)."""
        objective = self.oracle.objective
        return {"tuner": type(self).__name__, "objective": [objective.name, objective.direction]}

    # --- the search ---------------------------------------------------------------------------
    def _populate_initial_space(self) -> None:
        """Build once with the defaults, then once more for each value that opens a conditional
        scope, so that the whole space is known before the first trial (as KerasTuner does)."""
        space = self.oracle.hyperparameters
        for _ in range(10):
            before = len(space.space)
            for values in [{}] + self._scope_openers(space):
                hp = space.copy()
                hp.values = {}
                for name, value in values.items():
                    hp.values[name] = value
                self.hypermodel.build(hp)
                self.oracle._merge_space(hp)
            if len(space.space) == before:
                return

    @staticmethod
    def _scope_openers(space: HyperParameters) -> list[dict]:
        openers = []
        for hyperparameter in space.space:
            for parent, allowed in hyperparameter.conditions:
                choice = next((h for h in space.space if h.name == parent), None)
                if isinstance(choice, (Choice, Boolean)):
                    openers += [{parent: value} for value in allowed]
        return openers

    def search(self, *fit_args, **fit_kwargs) -> None:
        """Run trials until the search (shared with every worker on the same storage) has
        ``max_trials`` of them; each trains with ``fit_args`` / ``fit_kwargs`` (``epochs``,
        ``validation_data``, ``callbacks``... as ``model.fit`` takes them)."""
        verbose = fit_kwargs.get("verbose", 1)
        self._populate_initial_space()
        self._prepare_search()
        started, failures = time.monotonic(), 0
        while (claimed := self.oracle.create_trial()) is not None:
            trial, hp = claimed
            failures = self._run_claimed(trial, hp, fit_args, fit_kwargs, verbose, started, failures)

    def _prepare_search(self) -> None:
        """Tuner-specific set-up once the space is known (GridSearch makes its grid)."""

    def _run_claimed(self, trial, hp, fit_args, fit_kwargs, verbose, started, failures) -> int:
        number = trial.number
        if verbose:
            print(f"\nSearch: Running Trial #{number + 1}\n")
        begin = time.monotonic()
        study_lib.RUNNING_HERE.add(trial._trial_id)
        try:
            with study_lib.Heartbeat(self.oracle.study, trial):
                metrics, history, pruned = self.run_trial(trial, hp, *fit_args, **fit_kwargs)
        except Exception as error:  # a configuration that cannot train: recorded, the search goes on
            self.oracle.fail_trial(trial, f"{type(error).__name__}: {error}")
            failures += 1
            if failures >= self.max_consecutive_failed_trials:
                raise RuntimeError(f"{failures} trials in a row failed; the last one: {error}") from error
            return failures
        except BaseException:  # interrupted: the trial is queued again for the next search
            study_lib.requeue(self.oracle.study, trial)
            raise
        finally:
            study_lib.RUNNING_HERE.discard(trial._trial_id)
        self.oracle.end_trial(trial, hp, metrics, history, pruned)
        if verbose:
            self._report(number, metrics, begin, started)
        return 0

    max_consecutive_failed_trials = 3

    def _report(self, number: int, metrics: dict, begin: float, started: float) -> None:
        name = self.oracle.objective.name
        best = self.oracle.get_best_trials(1)
        print(f"Trial {number + 1} Complete [{time.monotonic() - begin:.1f}s]")
        print(f"{name}: {metrics[name]}\n")
        print(f"Best {name} So Far: {best[0].score if best else None}")
        print(f"Total elapsed time: {time.monotonic() - started:.1f}s")

    def trial_dir(self, number: int) -> Path:
        """Where trial ``number`` keeps its checkpoint (unpadded: ids widen when max_trials grows)."""
        return self.project_dir / f"trial_{number}"

    def _fit_kwargs(self, trial, fit_kwargs: dict) -> dict:
        """This trial's arguments for fit (Hyperband changes ``epochs``)."""
        return dict(fit_kwargs)

    def _trial_callbacks(self, trial, hp) -> list:
        """Callbacks the tuner adds to the user's (Hyperband adds its pruning)."""
        return []

    def run_trial(self, trial, hp, *fit_args, **fit_kwargs) -> tuple[dict, dict, bool]:
        """Build and train ``executions_per_trial`` models; the metrics of each one's best epoch,
        averaged, are the trial's."""
        folder = self.trial_dir(trial.number)
        folder.mkdir(parents=True, exist_ok=True)
        checkpoint = folder / CHECKPOINT
        results, pruned = [], False
        for _ in range(self.executions_per_trial):
            kwargs = self._fit_kwargs(trial, fit_kwargs)
            extra = self._trial_callbacks(trial, hp)
            callbacks = copy.deepcopy(list(kwargs.pop("callbacks", None) or []))
            kwargs["callbacks"] = callbacks + [SaveBestEpoch(self.oracle.objective, checkpoint)] + extra
            model = self.hypermodel.build(hp)
            result = self.hypermodel.fit(hp, model, *fit_args, **kwargs)
            results.append(best_epoch_metrics(result, self.oracle.objective, "HyperModel.fit"))
            if not checkpoint.exists() and hasattr(model, "save_weights"):  # a fit that ignored the callbacks
                model.save_weights(str(checkpoint))
            if hasattr(model, "get_build_config") and model.get_build_config() is not None:
                (folder / BUILD_CONFIG).write_text(json.dumps(model.get_build_config()))
            pruned = pruned or any(getattr(c, "pruned", False) for c in extra)
            self._after_fit(hp, extra)
        metrics = average(results)
        history = {k: [[metrics["_best_step"], v]] for k, v in metrics.items() if k != "_best_step"}
        return metrics, history, pruned

    def _after_fit(self, hp, extra: list) -> None:
        """Tuner-specific bookkeeping after a fit (Hyperband records the epochs trained)."""

    # --- results ------------------------------------------------------------------------------
    def get_best_hyperparameters(self, num_trials: int = 1) -> list[HyperParameters]:
        """The hyperparameters of the best trials, best first."""
        return [t.hyperparameters for t in self.oracle.get_best_trials(num_trials)]

    def get_best_models(self, num_models: int = 1) -> list[Any]:
        """The best trials' models, rebuilt and given their best epoch's weights."""
        models = []
        for trial in self.oracle.get_best_trials(num_models):
            checkpoint = self.trial_dir(trial.number) / CHECKPOINT
            if not checkpoint.exists():
                host = (trial.worker or {}).get("host", "another machine")
                raise FileNotFoundError(
                    f"trial {trial.trial_id} ran on {host}: share directory= between the machines, or rebuild "
                    f"and train the model from get_best_hyperparameters() (its weights are at {checkpoint} there)")
            model = self.hypermodel.build(trial.hyperparameters.copy())
            build_config = self.trial_dir(trial.number) / BUILD_CONFIG
            if not model.built and build_config.exists():
                model.build_from_config(json.loads(build_config.read_text()))
            model.load_weights(str(checkpoint))
            models.append(model)
        return models

    def search_space_summary(self, extended: bool = False) -> None:
        """Print the hyperparameters of the search space and their settings."""
        space = self.oracle.hyperparameters.space
        print("Search space summary")
        print(f"Default search space size: {len(space)}")
        for hyperparameter in space:
            print(f"{hyperparameter.name} ({type(hyperparameter).__name__})")
            print(hyperparameter.get_config())

    def results_summary(self, num_trials: int = 10) -> None:
        """Print the best trials, best first."""
        print("Results summary")
        print(f"Results in {self.project_dir}")
        print(f"Showing {num_trials} best trials")
        print(self.oracle.objective)
        for trial in self.oracle.get_best_trials(num_trials):
            print()
            trial.summary()
