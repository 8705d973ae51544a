"""``Optimizer``: the base every optimizer shares (Keras's ``BaseOptimizer``).

It owns what is common: the learning rate (a float or a schedule), ``iterations``, loss-scale
undoing, gradient accumulation, clipping (``clipnorm``, ``clipvalue``, ``global_clipnorm``),
decoupled weight decay, the weights' moving average (``use_ema``) and the slots' bookkeeping. A
subclass creates its slots in ``build_slots`` and writes one update rule in
``update_step(grad, variable, learning_rate)``, changing ``variable._value`` in place.

``variables`` lists the state in Keras's order, which is the order of ``optimizer/vars/<i>``
in a saved file: ``iteration``, then ``learning_rate`` (only while the rate is a float, not a
schedule), then every model variable's ``average`` (``use_ema``), then every one's
``gradient_accumulator`` (``gradient_accumulation_steps``), then the subclass's slots.
"""
from __future__ import annotations

import re
import warnings

import numpy as np

from .. import _build_hooks, _macros, backend
from .._types import LearningRateLike
from ..variables import Variable
from . import state_copy
from ._helpers import _as_array, _check_range, _is_int, clip
from .schedules import LearningRateSchedule, deserialize, serialize

__all__ = ["Optimizer", "_check_range"]  # the optimizers import _check_range from here


class Optimizer:
    """The base class; use a subclass such as ``SGD`` or ``Adam``.

    >>> import numpy as np, lamina
    >>> w = lamina.Variable(np.array([1.0, 2.0], "float32"), name="w")
    >>> opt = lamina.optimizers.SGD(learning_rate=0.1)
    >>> opt.apply([np.array([1.0, 1.0], "float32")], [w]); w.numpy()
    array([0.9, 1.9], dtype=float32)
    """

    def __init__(self, learning_rate: LearningRateLike = 0.001, weight_decay: float | None = None,
                 clipnorm: float | None = None, clipvalue: float | None = None, global_clipnorm: float | None = None,
                 use_ema: bool = False, ema_momentum: float = 0.99, ema_overwrite_frequency: int | None = None,
                 loss_scale_factor: float | None = None, gradient_accumulation_steps: int | None = None,
                 name: str | None = None, **kwargs):
        cls = type(self).__name__
        if kwargs:
            raise TypeError(f"{cls} got unexpected keyword argument(s) {sorted(kwargs)}")
        self.name = name or backend.snake_case(cls)
        if sum(c is not None for c in (clipnorm, clipvalue, global_clipnorm)) > 1:
            raise ValueError(f"{cls}: set at most one of clipnorm, clipvalue and global_clipnorm, got "
                             f"clipnorm={clipnorm}, clipvalue={clipvalue}, global_clipnorm={global_clipnorm}")
        for arg, value in (("clipnorm", clipnorm), ("clipvalue", clipvalue), ("global_clipnorm", global_clipnorm),
                           ("weight_decay", weight_decay), ("loss_scale_factor", loss_scale_factor)):
            if value is not None and not value >= 0:
                raise ValueError(f"{cls} expects {arg} >= 0, got {arg}={value}")
        if loss_scale_factor == 0:
            raise ValueError(f"{cls} expects loss_scale_factor > 0 or None, got loss_scale_factor=0")
        if gradient_accumulation_steps and not (_is_int(gradient_accumulation_steps)
                                                and gradient_accumulation_steps >= 2):
            raise ValueError(f"{cls} expects gradient_accumulation_steps to be an integer >= 2 or None, "
                             f"got gradient_accumulation_steps={gradient_accumulation_steps}")
        if use_ema:
            _check_range(cls, "ema_momentum", ema_momentum, 0, 1, closed=True)
            if ema_overwrite_frequency and not (_is_int(ema_overwrite_frequency) and ema_overwrite_frequency >= 1):
                raise ValueError(f"{cls} expects ema_overwrite_frequency to be an integer >= 1 or None, "
                                 f"got ema_overwrite_frequency={ema_overwrite_frequency}")
        self.weight_decay, self.clipnorm, self.clipvalue = weight_decay, clipnorm, clipvalue
        self.global_clipnorm, self.use_ema, self.ema_momentum = global_clipnorm, use_ema, ema_momentum
        self.ema_overwrite_frequency = ema_overwrite_frequency
        self.loss_scale_factor, self.gradient_accumulation_steps = loss_scale_factor, gradient_accumulation_steps
        self.iterations = Variable(np.zeros((), np.int64), name="iteration", trainable=False,
                                   path=f"{self.name}/iteration")
        self._variables: list[Variable] = [self.iterations]
        self._learning_rate: LearningRateLike | None = None
        self._learning_rate_variable: Variable | None = None
        self.learning_rate = learning_rate
        self.built = False
        self._slots: dict[int, dict[str, Variable]] = {}
        self._index: dict[int, int] = {}  # id(model variable) -> its position in the built list
        self._trainable_variables: list[Variable] = []
        self._averages: list[Variable] = []
        self._accumulators: list[Variable] = []
        self._exclude_from_weight_decay: dict[int, Variable] = {}  # id -> the variable (state_copy.py)
        self._exclude_pattern: re.Pattern | None = None

    __deepcopy__ = state_copy.deepcopy_optimizer  # its state is keyed by the variables' ids

    @property
    def variables(self) -> list[Variable]:
        """The optimizer's state, in the order Keras saves it (see the module docstring)."""
        return list(self._variables)

    @property
    def updates_applied(self) -> int:
        """Update steps applied so far: ``iterations``, divided by ``gradient_accumulation_steps``
        when accumulating (Keras's ``optimizer.iterations`` in that case)."""
        return int(self.iterations._value) // (self.gradient_accumulation_steps or 1)

    # --- learning rate -----------------------------------------------------------------------
    @property
    def learning_rate(self):
        """The rate as a ``Variable`` (``float()``, ``.numpy()`` and ``assign`` work, as in Keras);
        with a schedule, its value at ``iterations`` as a tensor."""
        if self._learning_rate_variable is not None:
            return self._learning_rate_variable
        from ..ops.tensor import Tensor
        return Tensor(np.asarray(self.current_learning_rate(), backend.floatx()))

    @learning_rate.setter
    def learning_rate(self, value) -> None:
        cls = type(self).__name__
        if callable(value):
            if self._learning_rate_variable is not None:  # Keras stops saving the float once a schedule replaces it
                self._variables.remove(self._learning_rate_variable)
                self._learning_rate_variable = None
            self._learning_rate = value
            return
        if getattr(value, "_is_variable", False) or hasattr(value, "_value"):
            value = float(value)
        if self._learning_rate is not None and self._learning_rate_variable is None:
            raise TypeError(f"{cls} was created with a learning-rate schedule, so its learning_rate cannot be "
                            f"set to a number (got {value!r}); create the optimizer with a float learning_rate")
        try:
            value = float(value)
        except (TypeError, ValueError):
            raise TypeError(f"{cls} expects learning_rate to be a float or a schedule, got {value!r}") from None
        if not value >= 0:
            raise ValueError(f"{cls} expects learning_rate >= 0, got learning_rate={value}")
        if self._learning_rate_variable is None:
            self._learning_rate_variable = Variable(np.array(value, backend.floatx()), name="learning_rate",
                                                    path=f"{self.name}/learning_rate", trainable=False)
            self._variables.insert(1, self._learning_rate_variable)
        else:
            self._learning_rate_variable.assign(value)
        self._learning_rate, self._stored_rate = value, float(self._learning_rate_variable._value)

    def current_learning_rate(self) -> float:
        """The rate for the next update, as a Python float."""
        rate = self._learning_rate
        if isinstance(rate, LearningRateSchedule):
            return float(rate(int(self.iterations._value)))
        if callable(rate):  # Keras calls a plain callable with no arguments
            return float(rate())
        assert rate is not None and self._learning_rate_variable is not None  # a float rate has its variable
        stored = float(self._learning_rate_variable._value)  # (a float compare: ~1 us less a step)
        # the variable is what is saved: it wins only once loading a file (or an assign) changed it
        if stored != self._stored_rate:
            self._learning_rate = rate = self._stored_rate = stored
        return rate

    # --- slots -------------------------------------------------------------------------------
    def build(self, variables: list[Variable]) -> None:
        """Create the state for ``variables`` once: the base's slots (EMA, accumulation), then build_slots's."""
        if self.built:
            return
        self._index.update((id(variable), i) for i, variable in enumerate(variables))
        # Keras creates every average, then every accumulator: the order of a saved file's vars
        if self.use_ema:
            self._averages.extend(self.add_slot(variable, "average") for variable in variables)
        if self.gradient_accumulation_steps:
            self._accumulators.extend(self.add_slot(variable, "gradient_accumulator") for variable in variables)
        self._trainable_variables = list(variables)
        self.build_slots(variables)
        self.built = True
        _build_hooks.built(self)  # a checkpoint restored before the slots existed fills them now

    def build_slots(self, variables: list[Variable]) -> None:
        """Subclasses create their slots here with ``add_slot`` (plain SGD has none)."""

    def add_slot(self, variable: Variable, slot: str, initial: float = 0.0) -> Variable:
        """A state array shaped like ``variable`` (Keras's ``add_variable_from_reference``)."""
        name = f"{variable.path.replace('/', '_')}_{slot}"  # under the optimizer's name, as Keras's
        slot_var = Variable(np.full(variable.shape, initial, variable._value.dtype), name=name,
                            path=f"{self.name}/{name}", trainable=False)
        self._slots.setdefault(id(variable), {})[slot] = slot_var
        self._variables.append(slot_var)
        return slot_var

    def add_variable(self, value, name: str) -> Variable:
        """A state array not tied to one model variable (Nadam's running product)."""
        variable = Variable(np.array(value), name=name, path=f"{self.name}/{name}", trainable=False)
        self._variables.append(variable)
        return variable

    def add_variable_from_reference(self, reference_variable: Variable, name: str | None = None,
                                    initializer="zeros") -> Variable:
        """Keras's name for a slot: a state variable shaped like ``reference_variable``."""
        slot = self.add_slot(reference_variable, name or "slot")
        if initializer != "zeros":
            from .. import initializers
            slot.assign(initializers.required(initializer, "add_variable_from_reference")(slot.shape, slot.dtype))
        return slot

    def assign(self, variable: Variable, value) -> None:
        """``variable = value`` (what a Keras-style ``update_step`` calls)."""
        variable._value[...] = np.asarray(getattr(value, "_value", value))

    def assign_add(self, variable: Variable, value) -> None:
        variable._value[...] += np.asarray(getattr(value, "_value", value))

    def assign_sub(self, variable: Variable, value) -> None:
        variable._value[...] -= np.asarray(getattr(value, "_value", value))

    def slot(self, variable: Variable, name: str) -> Variable:
        return self._slots[id(variable)][name]

    def pack(self, variables: list[Variable], buffer: np.ndarray) -> Variable:
        """One variable over ``buffer``, whose consecutive pieces are ``variables`` (the fused step's
        layout). Each slot moves into a view of one array per slot name, the packed variable's slots:
        one ``update_steps`` on it updates them all, as one call per variable does for elementwise rules."""
        self.build(variables)
        offsets = np.cumsum([0, *(v.size for v in variables)])
        for variable, start in zip(variables, offsets):
            if not np.shares_memory(variable._value, buffer[start:start + 1]):
                raise ValueError(f"pack: variable '{variable.path}' is not at offset {start} of the buffer")
        packed = Variable.wrapping(buffer, name="packed")
        slots = self._slots.setdefault(id(packed), {})
        for name in self._slots.get(id(variables[0]), {}):
            whole = np.empty_like(buffer)
            for variable, start, stop in zip(variables, offsets, offsets[1:]):
                self._slots[id(variable)][name].rebind(whole[start:stop].reshape(variable.shape))
            slots[name] = Variable.wrapping(whole, name=f"packed_{name}", trainable=False)
        return packed

    def scratch(self, variable: Variable, which: int = 0) -> np.ndarray:
        """A work array shaped like ``variable``, reused every step (not state, not saved): an update
        written with ``out=`` into it allocates nothing, which saves more time than the arithmetic costs."""
        scratch: dict = self.__dict__.setdefault("_scratch", {})  # (none after a deepcopy: state_copy.py)
        key = (id(variable), which)  # ``which``: a second work array for a rule that needs two
        work = scratch.get(key)
        if work is None or work.shape != variable.shape or work.dtype != variable._value.dtype:
            work = scratch[key] = np.empty_like(variable._value)
        return work

    def exclude_from_weight_decay(self, var_list=None, var_names=None) -> None:
        """Do not decay these variables (by object, or by a regex found in the variable's name)."""
        if self.built:
            raise ValueError(f"{type(self).__name__}.exclude_from_weight_decay() must be called before the "
                             "optimizer is built (before the first training step)")
        self._exclude_from_weight_decay = {id(v): v for v in var_list or ()}
        self._exclude_pattern = re.compile("|".join(var_names)) if var_names else None

    def _decays(self, variable) -> bool:
        if id(variable) in self._exclude_from_weight_decay:
            return False
        return self._exclude_pattern is None or self._exclude_pattern.search(variable.name) is None

    # --- applying gradients --------------------------------------------------------------------
    @_macros.stateful  # a tf.function's replay applies again (optimizer state is not in the ops)
    def apply(self, grads, variables=None) -> None:
        """One step: undo the loss scale, accumulate (if asked), clip, decay, ``update_step`` for
        each (grad, variable) pair, update the moving average, apply constraints. ``None``
        gradients are skipped."""
        grads = list(grads)
        if variables is None:
            if not self.built:
                raise ValueError(f"{type(self).__name__}.apply(grads) without variables needs a built optimizer; "
                                 "call optimizer.build(variables) first or pass the variables")
            variables = self._trainable_variables
        else:
            variables = list(variables)
            self.build(variables)
            unknown = [v.path for v in variables if id(v) not in self._index]
            if unknown:
                raise ValueError(f"{type(self).__name__} was built for other variables and does not know "
                                 f"{unknown}; create a new optimizer for a new set of variables")
        if len(grads) != len(variables):
            raise ValueError(f"{type(self).__name__}.apply got {len(grads)} gradients for {len(variables)} variables")
        missing = [v.path for g, v in zip(grads, variables) if g is None]
        if missing:
            warnings.warn(f"Gradients do not exist for variables {missing} when minimizing the loss. If using "
                          "`model.compile()`, did you forget to provide a `loss` argument?", stacklevel=2)
        pairs = [(_as_array(g, v), v) for g, v in zip(grads, variables) if g is not None]
        if pairs:
            grads, variables = [g for g, _ in pairs], [v for _, v in pairs]
            if self.loss_scale_factor is not None:
                grads = [g / self.loss_scale_factor for g in grads]
            if self.gradient_accumulation_steps:
                self._accumulate_or_update(grads, variables)
            else:
                self._update(grads, variables)
            if self.use_ema:
                self._update_moving_average()
            for variable in variables:
                if variable.constraint is not None:
                    variable._value[...] = np.asarray(variable.constraint(variable._value))
                variable._written()
        self.finish_step()

    def finish_step(self) -> None:
        """Count the step, and every 64 steps zero the state values below 1e-30.

        State that only decays (the momentum of a weight whose gradient is always 0: a kernel row
        for an always-black pixel) sinks into float32's subnormals, where each operation takes
        ~100x longer on x86 CPUs (measured: it doubled an Adam epoch). TensorFlow and JAX flush
        subnormals to zero in the CPU's mode; 1e-30 is far below any step, far above 1.2e-38."""
        count = self.iterations._value
        count[()] = step = int(count) + 1  # in Python ints: ~2 us less a step than NumPy scalars
        if step % 64 == 0:
            for variable in self._variables:
                value = variable._value
                if value.dtype.kind == "f" and value.ndim:
                    np.putmask(value, np.abs(value) < 1e-30, 0)

    def apply_gradients(self, grads_and_vars) -> None:
        """Keras's spelling: ``apply_gradients(zip(grads, variables))``."""
        pairs = list(grads_and_vars)
        self.apply([g for g, _ in pairs], [v for _, v in pairs])

    def _update(self, grads, variables) -> None:
        grads = self._clip(grads)
        learning_rate = self.current_learning_rate()
        if self.weight_decay:
            for variable in variables:
                if self._decays(variable):
                    variable._value -= variable._value * (self.weight_decay * learning_rate)
        self.update_steps(grads, variables, learning_rate)

    def update_steps(self, grads, variables, learning_rate) -> None:
        """``update_step`` for each pair; Nadam first advances its shared running product here."""
        for grad, variable in zip(grads, variables):
            self.update_step(grad, variable, learning_rate)

    def _accumulate_or_update(self, grads, variables) -> None:
        steps = self.gradient_accumulation_steps
        assert steps is not None  # only called when accumulating
        sums = [self._accumulators[self._index[id(v)]]._value for v in variables]
        if (int(self.iterations._value) + 1) % steps:
            for grad, total in zip(grads, sums):
                total += grad
            return
        self._update([(g + total) / steps for g, total in zip(grads, sums)], variables)
        for accumulator in self._accumulators:
            accumulator._value[...] = 0

    def _update_moving_average(self) -> None:
        step = self.updates_applied
        momentum = self.ema_momentum if step else 0.0  # the first average is the weights themselves
        for variable, average in zip(self._trainable_variables, self._averages):
            average._value[...] = momentum * average._value + (1 - momentum) * variable._value
        if self.ema_overwrite_frequency and (step + 1) % self.ema_overwrite_frequency == 0:
            self.finalize_variable_values(self._trainable_variables)

    def finalize_variable_values(self, variables) -> None:
        """With ``use_ema``, write the moving averages into ``variables`` (the model's trainable
        weights); ``fit`` calls this once training ends. Without EMA it does nothing.

        >>> import numpy as np, lamina
        >>> w = lamina.Variable(np.zeros(1, "float32"), name="w")
        >>> opt = lamina.optimizers.SGD(1.0, use_ema=True, ema_momentum=0.5)
        >>> for _ in range(2): opt.apply([np.ones(1, "float32")], [w])
        >>> opt.finalize_variable_values([w]); w.numpy()
        array([-1.5], dtype=float32)
        """
        if not (self.use_ema and self.built):
            return
        for variable in variables:
            variable._value[...] = self._averages[self._index[id(variable)]]._value

    def scale_loss(self, loss):
        """Multiply ``loss`` (or its gradient) by ``loss_scale_factor``; ``apply`` divides it out."""
        return loss if self.loss_scale_factor is None else loss * self.loss_scale_factor

    def _clip(self, grads):
        return clip(grads, self.clipnorm, self.global_clipnorm, self.clipvalue)

    def update_step(self, grad, variable, learning_rate) -> None:
        raise TypeError(f"{type(self).__name__} must implement update_step(grad, variable, learning_rate)")

    def updates_elementwise(self) -> bool:
        """Whether ``update_step`` treats every element alone (so one call over all the weights
        laid out in one array gives the same numbers): built-ins declare it with
        ``_elementwise_rule``; a subclass with its own ``update_step`` does not inherit it."""
        return getattr(type(self), "_elementwise_rule", None) is type(self).update_step

    @property
    def plain(self) -> bool:
        """True when nothing but ``update_step`` applies (no clipping, weight decay, EMA, loss
        scale or accumulation), so updates may be fused."""
        return (self.clipnorm is None and self.clipvalue is None and self.global_clipnorm is None
                and not self.weight_decay and not self.use_ema and self.loss_scale_factor is None
                and not self.gradient_accumulation_steps)

    def get_config(self) -> dict:
        rate = self._learning_rate
        return {"name": self.name, "learning_rate": serialize(rate) if isinstance(rate, LearningRateSchedule) else rate,
                "weight_decay": self.weight_decay, "clipnorm": self.clipnorm,
                "global_clipnorm": self.global_clipnorm, "clipvalue": self.clipvalue,
                "use_ema": self.use_ema, "ema_momentum": self.ema_momentum,
                "ema_overwrite_frequency": self.ema_overwrite_frequency,
                "loss_scale_factor": self.loss_scale_factor,
                "gradient_accumulation_steps": self.gradient_accumulation_steps}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if isinstance(config.get("learning_rate"), dict):
            config["learning_rate"] = deserialize(config["learning_rate"])
        return cls(**config)
