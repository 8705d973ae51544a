"""The search space: KerasTuner's ``HyperParameters`` and its five kinds of hyperparameter.

A hyperparameter draws its value from Optuna (``suggest``) during a search, and gives its
``default`` outside one, as in KerasTuner: ``hp.Int("units", 32, 256, step=32)`` returns 32 on a
fresh ``HyperParameters``. Conditional hyperparameters (``conditional_scope``) are registered
always, but only an active one takes a value.

>>> hp = HyperParameters()
>>> hp.Int("units", 32, 256, step=32), hp.Float("lr", 1e-4, 1e-2, sampling="log"), hp.Boolean("bn")
(32, 0.0001, False)
>>> hp.values
{'units': 32, 'lr': 0.0001, 'bn': False}
"""
from __future__ import annotations

import abc
import contextlib
import math
from collections.abc import Callable, Iterable, Iterator
from typing import Any

_SAMPLINGS = ("linear", "log", "reverse_log")
GRID_SAMPLES = 10  # KerasTuner's GridSearch takes 10 evenly spaced values of a range without a step


class HyperParameter(abc.ABC):
    """What every kind shares: a name, a default and the parent conditions that make it active."""

    def __init__(self, name: str, default: Any = None, conditions: tuple = ()):
        if not isinstance(name, str) or not name:
            raise TypeError(f"a hyperparameter's name must be a non-empty string, got {name!r}")
        self.name = name
        self._default = default
        self.conditions = tuple(conditions)

    @property
    def default(self) -> Any:
        """The value outside a search (and GridSearch's first)."""
        return self._default

    @abc.abstractmethod
    def suggest(self, trial) -> Any:
        """The value Optuna's ``trial`` draws for this hyperparameter."""

    @abc.abstractmethod
    def grid(self) -> list:
        """GridSearch's values, in Optuna's parameter space (what ``suggest`` asks Optuna for)."""

    def get_config(self) -> dict:
        """KerasTuner's summary fields (``search_space_summary`` prints them)."""
        return {"default": self.default, "conditions": [list(c) for c in self.conditions]}

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}: {v!r}" for k, v in self.get_config().items() if k != "conditions")
        return f"{type(self).__name__}(name: {self.name!r}, {fields})"


def _check_sampling(sampling: str, name: str, min_value, max_value) -> str:
    if sampling not in _SAMPLINGS:
        raise ValueError(f"hyperparameter {name!r}: sampling must be one of {list(_SAMPLINGS)}, got {sampling!r}")
    if min_value > max_value:
        raise ValueError(f"hyperparameter {name!r}: min_value {min_value} is above max_value {max_value}")
    if sampling != "linear" and min_value <= 0:
        raise ValueError(f"hyperparameter {name!r}: sampling={sampling!r} needs min_value > 0, got {min_value}")
    return sampling


class _Numerical(HyperParameter):
    """Int and Float: a range, a step (added for linear sampling, multiplied for log) and a
    sampling; ``max_value`` is included, as in KerasTuner."""

    integer = False

    def __init__(self, name, min_value, max_value, step=None, sampling="linear", default=None, conditions=()):
        super().__init__(name, default, conditions)
        self.min_value, self.max_value = min_value, max_value
        self.sampling = _check_sampling(sampling, name, min_value, max_value)
        if step is not None and (step <= 0 or (sampling != "linear" and step <= 1)):
            need = "> 0" if sampling == "linear" else "> 1 (it multiplies)"
            raise ValueError(f"hyperparameter {name!r}: step must be {need} with sampling={sampling!r}, got {step}")
        self.step = step
        if default is not None and not min_value <= default <= max_value:
            raise ValueError(f"hyperparameter {name!r}: default {default} is outside [{min_value}, {max_value}]")

    @property
    def default(self):
        return self._default if self._default is not None else self.min_value

    def _cast(self, value):
        return round(value) if self.integer else float(value)

    def _geometric_count(self) -> int:
        # the values min * step**k that do not pass max_value (1e-9: 10**3 in floating point)
        return math.floor(math.log(self.max_value / self.min_value) / math.log(self.step) + 1e-9) + 1

    def _stepped_high(self):
        return self.min_value + ((self.max_value - self.min_value) // self.step) * self.step

    def _reflect(self, value):
        """reverse_log: the mirror image of log sampling, dense near ``max_value``."""
        return self.max_value + self.min_value - value

    def suggest(self, trial):
        if self.step is not None and self.sampling != "linear":
            index = trial.suggest_int(self.name, 0, self._geometric_count() - 1)
            value = self.min_value * self.step ** index
            return self._cast(self._reflect(value) if self.sampling == "reverse_log" else value)
        log = self.sampling != "linear"
        if self.integer:
            if self.step is not None:
                return trial.suggest_int(self.name, self.min_value, self._stepped_high(), step=self.step)
            value = trial.suggest_int(self.name, self.min_value, self.max_value, log=log)
        elif self.step is not None:
            return trial.suggest_float(self.name, self.min_value, self._stepped_high(), step=self.step)
        else:
            value = trial.suggest_float(self.name, self.min_value, self.max_value, log=log)
        return self._cast(self._reflect(value) if self.sampling == "reverse_log" else value)

    def values_in_grid(self) -> list:
        """The values GridSearch tries (in this hyperparameter's own terms)."""
        if self.step is not None and self.sampling != "linear":
            values = [self.min_value * self.step ** k for k in range(self._geometric_count())]
            return [self._cast(self._reflect(v) if self.sampling == "reverse_log" else v) for v in values]
        if self.step is not None:
            count = int((self.max_value - self.min_value) // self.step) + 1
            return [self._cast(self.min_value + k * self.step) for k in range(count)]
        if self.integer and self.sampling == "linear":
            return list(range(self.min_value, self.max_value + 1))
        low, high = self.min_value, self.max_value
        if self.sampling == "linear":
            points = [low + (high - low) * k / (GRID_SAMPLES - 1) for k in range(GRID_SAMPLES)]
        else:
            points = [low * (high / low) ** (k / (GRID_SAMPLES - 1)) for k in range(GRID_SAMPLES)]
            points = [self._reflect(p) for p in points] if self.sampling == "reverse_log" else points
        return sorted(dict.fromkeys(self._cast(p) for p in points))

    def grid(self) -> list:
        values = self.values_in_grid()
        if self.step is not None and self.sampling != "linear":
            return list(range(len(values)))  # suggest asks Optuna for the index
        if self.sampling == "reverse_log":  # suggest asks Optuna for the mirror image
            return [self._reflect(v) for v in values]
        return values

    def get_config(self) -> dict:
        return {**super().get_config(), "min_value": self.min_value, "max_value": self.max_value,
                "step": self.step, "sampling": self.sampling}


class Int(_Numerical):
    """An integer in ``[min_value, max_value]``; ``step`` defaults to 1 for linear sampling.

    >>> Int("layers", 6, 13, step=3).values_in_grid()
    [6, 9, 12]
    >>> Int("batch", 2, 32, step=2, sampling="log").values_in_grid()
    [2, 4, 8, 16, 32]
    """

    integer = True

    # each bound, step and default an int (or a float holding one, such as 32.0)
    def __init__(self, name: str, min_value: int | float, max_value: int | float, step: int | float | None = None,
                 sampling: str = "linear", default: int | float | None = None, conditions: tuple = ()):
        for argument, value in (("min_value", min_value), ("max_value", max_value), ("step", step),
                                ("default", default)):
            if value is not None and (isinstance(value, bool) or int(value) != value):
                raise ValueError(f"hyperparameter {name!r}: {argument} must be an int, got {value!r}")
        def cast(v):
            return None if v is None else int(v)
        if step is None and sampling == "linear":
            step = 1
        super().__init__(name, cast(min_value), cast(max_value), cast(step), sampling, cast(default), conditions)


class Float(_Numerical):
    """A float in ``[min_value, max_value]``, every value possible unless a ``step`` is given.

    >>> Float("lr", 0.001, 10, step=10, sampling="log").values_in_grid()
    [0.001, 0.01, 0.1, 1.0, 10.0]
    """

    def __init__(self, name: str, min_value: float, max_value: float, step: float | None = None,
                 sampling: str = "linear", default: float | None = None, conditions: tuple = ()):
        def cast(v):
            return None if v is None else float(v)
        super().__init__(name, cast(min_value), cast(max_value), cast(step), sampling, cast(default), conditions)


class Choice(HyperParameter):
    """One of ``values`` (ints, floats, strings or bools, all of one type); the default is the first."""

    def __init__(self, name: str, values: Iterable[int | float | str | bool], ordered: bool | None = None,
                 default: int | float | str | bool | None = None, conditions: tuple = ()):
        values = list(values)
        if not values:
            raise ValueError(f"hyperparameter {name!r}: Choice needs at least one value")
        kinds = {bool if isinstance(v, bool) else (float if isinstance(v, (int, float)) else type(v)) for v in values}
        if len(kinds) > 1 or not kinds <= {bool, float, str}:
            raise TypeError(f"hyperparameter {name!r}: Choice values must be all ints/floats, all strings or "
                            f"all bools, got {values!r}")
        if default is not None and default not in values:
            raise ValueError(f"hyperparameter {name!r}: default {default!r} is not one of {values!r}")
        super().__init__(name, values[0] if default is None else default, conditions)
        self.values = values
        self.ordered = kinds == {float} if ordered is None else bool(ordered)

    def suggest(self, trial):
        return trial.suggest_categorical(self.name, self.values)

    def grid(self) -> list:
        return [self.default] + [v for v in self.values if v != self.default]

    def get_config(self) -> dict:
        return {**super().get_config(), "values": self.values, "ordered": self.ordered}


class Boolean(HyperParameter):
    """``True`` or ``False``; the default is ``False``."""

    def __init__(self, name: str, default: bool = False, conditions: tuple = ()):
        if not isinstance(default, bool):
            raise TypeError(f"hyperparameter {name!r}: Boolean's default must be True or False, got {default!r}")
        super().__init__(name, default, conditions)

    def suggest(self, trial):
        return trial.suggest_categorical(self.name, [False, True])

    def grid(self) -> list:
        return [self.default, not self.default]


class Fixed(HyperParameter):
    """A value that is not tuned (a ``Fixed`` in ``hyperparameters=`` overrides the model's own)."""

    def __init__(self, name: str, value: Any, conditions: tuple = ()):  # any value, returned as it is
        super().__init__(name, value, conditions)
        self.value = value

    def suggest(self, trial):
        return self.value

    def grid(self) -> list:
        return [self.value]


def condition_is_active(condition: tuple, values: dict) -> bool:
    """Whether ``condition`` (a parent's name and its allowed values) holds for ``values``."""
    parent, allowed = condition
    return parent in values and values[parent] in allowed


class HyperParameters:
    """The space a model's ``build(hp)`` declares, and this trial's values (``values``, active
    ones only). Outside a search every hyperparameter takes its default.
    """

    def __init__(self):
        self._space: list[HyperParameter] = []
        self._conditions: list[tuple] = []
        self.values: dict[str, Any] = {}
        # During a search the oracle sets this: it turns a newly met hyperparameter into a value.
        self._choose: Callable[[HyperParameter], Any] | None = None

    @property
    def space(self) -> list[HyperParameter]:
        """Every registered hyperparameter, in the order the model met them."""
        return list(self._space)

    def _find(self, name: str, conditions: tuple) -> HyperParameter | None:
        return next((h for h in self._space if h.name == name and h.conditions == conditions), None)

    def is_active(self, hyperparameter: HyperParameter | str) -> bool:
        """Whether a hyperparameter (or any of that name) has all its parent conditions met."""
        if isinstance(hyperparameter, HyperParameter):
            return all(condition_is_active(c, self.values) for c in hyperparameter.conditions)
        return any(self.is_active(h) for h in self._space if h.name == hyperparameter)

    @contextlib.contextmanager
    def conditional_scope(self, parent_name: str, parent_values) -> Iterator[None]:
        """Hyperparameters made inside are active only while ``parent_name`` is one of
        ``parent_values``; an inactive one is registered and returns ``None``."""
        if not any(h.name == parent_name for h in self._space):
            raise ValueError(f"conditional_scope: no hyperparameter named {parent_name!r} is defined yet; "
                             "create the parent (e.g. hp.Choice) before the scope")
        allowed = tuple(parent_values) if isinstance(parent_values, (list, tuple)) else (parent_values,)
        self._conditions.append((parent_name, allowed))
        try:
            yield
        finally:
            self._conditions.pop()

    @contextlib.contextmanager
    def _maybe_scope(self, parent_name, parent_values):
        if parent_name is None:
            yield
        else:
            with self.conditional_scope(parent_name, parent_values):
                yield

    def _retrieve(self, hyperparameter: HyperParameter) -> Any:
        if any(c[0] == hyperparameter.name for c in hyperparameter.conditions):
            raise ValueError(f"hyperparameter {hyperparameter.name!r} cannot be conditional on itself")
        known = self._find(hyperparameter.name, hyperparameter.conditions)
        if known is None:
            self._space.append(hyperparameter)
            known = hyperparameter
        if not self.is_active(known):
            return None
        if known.name not in self.values:
            self.values[known.name] = self._choose(known) if self._choose else known.default
        return self.values[known.name]

    def Int(self, name: str, min_value: int, max_value: int, step: int | None = None, sampling: str = "linear",
            default: int | None = None, parent_name: str | None = None, parent_values=None) -> int | None:
        """An integer in ``[min_value, max_value]`` (both included)."""
        with self._maybe_scope(parent_name, parent_values):
            return self._retrieve(Int(name, min_value, max_value, step, sampling, default, tuple(self._conditions)))

    def Float(self, name: str, min_value: float, max_value: float, step: float | None = None,
              sampling: str = "linear", default: float | None = None, parent_name: str | None = None,
              parent_values=None) -> float | None:
        """A float in ``[min_value, max_value]``; ``sampling="log"`` for learning rates."""
        with self._maybe_scope(parent_name, parent_values):
            return self._retrieve(Float(name, min_value, max_value, step, sampling, default, tuple(self._conditions)))

    def Choice(self, name: str, values, ordered: bool | None = None, default=None, parent_name: str | None = None,
               parent_values=None):
        """One of ``values``."""
        with self._maybe_scope(parent_name, parent_values):
            return self._retrieve(Choice(name, values, ordered, default, tuple(self._conditions)))

    def Boolean(self, name: str, default: bool = False, parent_name: str | None = None,
                parent_values=None) -> bool | None:
        """``True`` or ``False``."""
        with self._maybe_scope(parent_name, parent_values):
            return self._retrieve(Boolean(name, default, tuple(self._conditions)))

    def Fixed(self, name: str, value, parent_name: str | None = None, parent_values=None):
        """A value that is not tuned."""
        with self._maybe_scope(parent_name, parent_values):
            return self._retrieve(Fixed(name, value, tuple(self._conditions)))

    def get(self, name: str):
        """The value of an active hyperparameter."""
        if name in self.values:
            return self.values[name]
        if any(h.name == name for h in self._space):
            raise ValueError(f"hyperparameter {name!r} is currently inactive (its parent condition is not met)")
        raise KeyError(f"no hyperparameter named {name!r}; known: {sorted({h.name for h in self._space})}")

    def __getitem__(self, name: str):
        return self.get(name)

    def __contains__(self, name: str) -> bool:
        return name in self.values

    def copy(self) -> HyperParameters:
        """The same space and values, without the search's sampler."""
        clone = HyperParameters()
        clone._space, clone.values = list(self._space), dict(self.values)
        return clone
