"""The oracle: a KerasTuner ``Oracle`` face on an Optuna study (samplers and pruners are
Optuna's). It hands out trials (``create_trial``), records their results (``end_trial``) and
ranks them (``get_best_trials``)."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import optuna
from optuna.trial import TrialState

from . import study as study_lib
from .hyperparameters import Fixed, HyperParameter, HyperParameters
from .objective import Objective, create_objective
from .trial import RESULT_ATTR, Trial


class Oracle:
    """Holds the study, the search space and the budget of one search."""

    # objective: a metric name or an Objective (KerasTuner's list of several is refused)
    def __init__(self, objective: str | Objective | list[str | Objective] | None, max_trials: int | None,
                 sampler: optuna.samplers.BaseSampler, pruner: optuna.pruners.BasePruner | None = None,
                 hyperparameters: HyperParameters | None = None, tune_new_entries: bool = True,
                 allow_new_entries: bool = True):
        self.objective: Objective = create_objective(objective)
        if max_trials is not None and (isinstance(max_trials, bool) or not isinstance(max_trials, int)
                                       or max_trials < 1):
            raise ValueError(f"max_trials must be a positive int, got {max_trials!r}")
        if hyperparameters is not None and not isinstance(hyperparameters, HyperParameters):
            raise TypeError(f"hyperparameters must be a kt.HyperParameters, got {type(hyperparameters).__name__}")
        if not (tune_new_entries and allow_new_entries) and hyperparameters is None:
            raise ValueError("tune_new_entries=False or allow_new_entries=False needs the search space given "
                             "as hyperparameters=kt.HyperParameters()")
        self.max_trials = max_trials
        self.sampler, self.pruner = sampler, pruner
        self.given = hyperparameters or HyperParameters()
        self.tune_new_entries, self.allow_new_entries = tune_new_entries, allow_new_entries
        self.hyperparameters = self.given.copy()  # the space, grown by each build
        self.study: optuna.Study = None  # type: ignore[assignment]  # opened by the tuner (open)
        self.grid = False

    @property
    def budget(self) -> int:
        """How many trials the whole search runs (across all workers)."""
        assert self.max_trials is not None  # GridSearch sets it from the grid before its search
        return self.max_trials

    def open(self, storage, directory: Path, study_name: str, overwrite: bool, identity: dict) -> None:
        """Create or load the study; refuse to resume one made by a different search."""
        storage = study_lib.open_storage(storage, directory)
        if overwrite:
            try:
                optuna.delete_study(study_name=study_name, storage=storage)
            except KeyError:
                pass
        direction: Literal["maximize", "minimize"] = (
            "maximize" if self.objective.direction == "max" else "minimize")
        self.study = optuna.create_study(storage=storage, study_name=study_name, sampler=self.sampler,
                                         pruner=self.pruner, direction=direction, load_if_exists=True)
        known = self.study.user_attrs.get("lamina_search")
        if known is None:
            self.study.set_user_attr("lamina_search", identity)
        elif known != identity:
            raise ValueError(f"project {study_name!r} holds another search ({known}), not this one ({identity}): "
                             "pass overwrite=True to start anew, or another project_name")

    def _choose(self, trial: optuna.Trial) -> Any:
        def choose(hyperparameter: HyperParameter):
            given = self.given._find(hyperparameter.name, hyperparameter.conditions)
            if given is None and not self.allow_new_entries:
                raise RuntimeError(f"allow_new_entries=False, but the model asked for a new hyperparameter "
                                   f"{hyperparameter!r}: add it to hyperparameters=")
            if given is None and not self.tune_new_entries:
                return hyperparameter.default
            chosen = given or hyperparameter
            return chosen.value if isinstance(chosen, Fixed) else chosen.suggest(trial)
        return choose

    def create_trial(self) -> tuple[optuna.Trial, HyperParameters] | None:
        """The next trial this worker runs and its (empty) hyperparameters, or ``None`` when the
        search is done."""
        trial = study_lib.claim_trial(self.study, self.budget, grid=self.grid)
        if trial is None:
            return None
        hp = self.hyperparameters.copy()
        hp.values = {}
        hp._choose = self._choose(trial)
        return trial, hp

    def end_trial(self, trial: optuna.Trial, hp: HyperParameters, metrics: dict, history: dict,
                  pruned: bool = False) -> None:
        """Record a finished trial's hyperparameters and metrics (best epoch, averaged over
        executions, as KerasTuner scores) and tell Optuna its value."""
        self._merge_space(hp)
        score = float(metrics[self.objective.name])
        result = {"hyperparameters": hp.values, "metrics": history, "score": score,
                  "best_step": metrics.get("_best_step")}
        self.study._storage.set_trial_user_attr(trial._trial_id, RESULT_ATTR, result)
        state = TrialState.PRUNED if pruned else TrialState.COMPLETE
        self.study.tell(trial, None if pruned else score, state=state)

    def fail_trial(self, trial: optuna.Trial, message: str) -> None:
        """Record a trial whose build or fit raised."""
        result = {"hyperparameters": {}, "message": message}
        self.study._storage.set_trial_user_attr(trial._trial_id, RESULT_ATTR, result)
        self.study.tell(trial, state=TrialState.FAIL)

    def _merge_space(self, hp: HyperParameters) -> None:
        for hyperparameter in hp.space:
            if self.hyperparameters._find(hyperparameter.name, hyperparameter.conditions) is None:
                self.hyperparameters._space.append(hyperparameter)

    def _id_width(self) -> int:
        return len(str(max(self.budget - 1, 0)))

    def get_trial(self, trial_id: str) -> Trial:
        """The trial with this id."""
        for trial in self.trials.values():
            if trial.trial_id == trial_id:
                return trial
        raise KeyError(f"no trial {trial_id!r} in this search")

    @property
    def trials(self) -> dict[str, Trial]:
        """Every trial of the search by id (trials a worker stepped back from left out)."""
        width = self._id_width()
        frozen = [t for t in self.study.get_trials(deepcopy=False)
                  if not t.user_attrs.get(study_lib.UNCLAIMED_ATTR)]
        trials = [Trial(t, self.hyperparameters, self.objective, width) for t in frozen]
        return {t.trial_id: t for t in trials}

    def get_best_trials(self, num_trials: int = 1) -> list[Trial]:
        """The ``num_trials`` best completed trials, best first."""
        done = [t for t in self.trials.values() if t.status == "COMPLETED" and t.score is not None]
        done.sort(key=lambda t: t.score, reverse=self.objective.direction == "max")
        return done[:num_trials]
