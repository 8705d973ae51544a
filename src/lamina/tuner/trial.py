"""A trial as KerasTuner shows it: its id, hyperparameters, metrics, score and status, read from
the Optuna trial that holds them (its user attribute ``lamina_result``)."""
from __future__ import annotations

import optuna

from .hyperparameters import HyperParameters
from .objective import MetricsTracker, Objective

RESULT_ATTR = "lamina_result"  # the user attribute holding a finished trial's values and metrics

# Optuna's states in KerasTuner's words (a trial Hyperband stopped early still has a score)
_STATUS = {"COMPLETE": "COMPLETED", "PRUNED": "COMPLETED", "RUNNING": "RUNNING", "WAITING": "IDLE",
           "FAIL": "FAILED"}


class Trial:
    """One configuration of the search and what training it gave."""

    def __init__(self, frozen: optuna.trial.FrozenTrial, space: HyperParameters, objective: Objective, id_width: int):
        attrs = frozen.user_attrs.get(RESULT_ATTR, {})
        self.number = frozen.number
        self.trial_id = f"{frozen.number:0{id_width}d}"
        self.hyperparameters = space.copy()
        self.hyperparameters.values = dict(attrs.get("hyperparameters", {}))
        self.metrics = MetricsTracker(attrs.get("metrics", {}), objective)
        self.score = attrs.get("score")
        self.best_step = attrs.get("best_step")
        self.status = _STATUS.get(frozen.state.name, frozen.state.name)
        self.message = attrs.get("message")
        self.worker = frozen.user_attrs.get("lamina_worker")

    def summary(self) -> None:
        """Print the trial's hyperparameters and score, as KerasTuner does."""
        print(f"Trial {self.trial_id} summary")
        print("Hyperparameters:")
        for name, value in self.hyperparameters.values.items():
            print(f"{name}: {value}")
        if self.score is not None:
            print(f"Score: {self.score}")
        if self.message:
            print(self.message)

    def __repr__(self) -> str:
        return f"Trial(trial_id={self.trial_id!r}, status={self.status!r}, score={self.score!r})"
