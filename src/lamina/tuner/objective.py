"""What a search optimizes (``Objective``), the direction KerasTuner infers from a metric's name,
and the metrics a trial records (``MetricsTracker``).

>>> create_objective("val_loss"), create_objective("val_accuracy").direction
(Objective(name="val_loss", direction="min"), 'max')
"""
from __future__ import annotations

from typing import Any

# KerasTuner's list: the metrics that grow as the model gets better
_MAX_CLASSES = {"Accuracy", "BinaryAccuracy", "CategoricalAccuracy", "SparseCategoricalAccuracy",
                "TopKCategoricalAccuracy", "SparseTopKCategoricalAccuracy", "TruePositives", "TrueNegatives",
                "Precision", "Recall", "AUC", "SensitivityAtSpecificity", "SpecificityAtSensitivity"}
_MAX_FUNCTIONS = {"accuracy", "categorical_accuracy", "binary_accuracy", "sparse_categorical_accuracy"}
# not in KerasTuner's list, which would minimize them: scores where larger is better
_MAX_CLASSES |= {"R2Score", "F1Score", "FBetaScore"}


class Objective:
    """A metric's name and whether smaller (``"min"``) or larger (``"max"``) is better."""

    def __init__(self, name: str, direction: str):
        if direction not in ("min", "max"):
            raise ValueError(f"Objective {name!r}: direction must be 'min' or 'max', got {direction!r}")
        self.name, self.direction = name, direction

    def better_than(self, a: float, b: float) -> bool:
        """Whether value ``a`` beats value ``b``."""
        return a > b if self.direction == "max" else a < b

    def __eq__(self, other) -> bool:
        return isinstance(other, Objective) and (self.name, self.direction) == (other.name, other.direction)

    def __repr__(self) -> str:
        return f'Objective(name="{self.name}", direction="{self.direction}")'


def infer_metric_direction(name: str) -> str | None:
    """``"min"`` for a loss or error, ``"max"`` for accuracy-like metrics, ``None`` if unknown."""
    from .. import losses, metrics
    base = name.removeprefix("val_").removeprefix("weighted_")
    if base in ("loss", "crossentropy", "ce"):
        return "min"
    if base == "acc" or base in _MAX_FUNCTIONS:
        return "max"
    for resolve in (metrics.get, losses.get):
        try:
            resolved = resolve(base)
        except (ValueError, TypeError, KeyError):
            continue
        function = getattr(resolved, "fn", None) or getattr(resolved, "_fn", None)
        names = {type(resolved).__name__, getattr(function, "__name__", "")}
        return "max" if names & (_MAX_CLASSES | _MAX_FUNCTIONS) else "min"
    return None


def create_objective(objective) -> Objective:
    """An ``Objective`` from a name (direction inferred) or an ``Objective``."""
    if isinstance(objective, Objective):
        return objective
    if isinstance(objective, str):
        direction = infer_metric_direction(objective)
        if direction is None:
            raise ValueError(f"Could not infer whether {objective!r} should be minimized or maximized: pass "
                             f'kt.Objective("{objective}", direction="min") (or "max")')
        return Objective(objective, direction)
    if isinstance(objective, (list, tuple)):
        # a list is KerasTuner's multi-objective: a value lamina refuses, not a wrong type
        raise ValueError("several objectives are not supported: pass one name or one kt.Objective")  # noqa: TRY004
    raise TypeError(f"objective must be a metric name or a kt.Objective, got {objective!r}")


class MetricsTracker:
    """A trial's metrics: for each name, the values reported at each step."""

    def __init__(self, history: dict[str, list] | None = None, objective: Objective | None = None):
        # {name: [[step, value], ...]} (lists: the form kept in Optuna's JSON attributes)
        self.history: dict[str, list] = {k: [list(p) for p in v] for k, v in (history or {}).items()}
        self.objective = objective

    def exists(self, name: str) -> bool:
        """Whether ``name`` was reported."""
        return name in self.history

    def update(self, name: str, value: float, step: int = 0) -> None:
        """Record ``value`` of ``name`` at ``step``."""
        self.history.setdefault(name, []).append([int(step), float(value)])

    def _values(self, name: str) -> list:
        if name not in self.history:
            raise ValueError(f"Unknown metric {name!r}: this trial recorded {sorted(self.history)}")
        return [value for _, value in self.history[name]]

    def get_history(self, name: str) -> list[float]:
        """Every recorded value of ``name``, in order."""
        return self._values(name)

    def get_last_value(self, name: str) -> float:
        """The latest value of ``name``."""
        return self._values(name)[-1]

    def get_best_value(self, name: str) -> float:
        """The best value of ``name`` (smallest unless the direction inferred from its name is max)."""
        values = self._values(name)
        direction = (self.objective.direction if self.objective and self.objective.name == name
                     else infer_metric_direction(name) or "min")
        return max(values) if direction == "max" else min(values)

    def get_config(self) -> dict[str, Any]:
        """The history, JSON-ready."""
        return {"history": self.history}
