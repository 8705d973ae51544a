"""One eager training step recorded as a program of primitives, to be replayed on the next
batches without running ``call`` again (what ``compiled_step.py`` does with it).

Keras compiles ``train_step`` (``jit_compile`` on JAX, ``tf.function`` on TensorFlow): the
model's Python runs once, while the step is traced, and what it did to the tensors is what every
later step does. lamina records the same thing from an eager step: a ``StepTrace`` is a tape that
sees every primitive whose inputs come from the batch or from a Variable (differentiable or
not), notes when Python reads a value (``float(x)``, ``x.numpy()``, ``if x > 0``: control flow a
replay could not follow), both in its own thread only (another thread's fit or predict is not
part of this step, as in TensorFlow), and ``Program.from_trace`` numbers the values into slots:
the batch's arrays first, then Variables (read afresh at each replay), constants (anything else
a primitive took: a literal, an array made outside the ops), and each primitive's outputs.

Two traces of two batches that give the same program (same primitives, parameters and
constants) are the evidence that the step is static: a value the model made outside the ops
from the batch, or a random draw outside a primitive, shows up as a constant that differs.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..ops import tape as tape_module
from ..ops import tensor as tensor_module
from ..ops.tape import GradientTape
from ..ops.tensor import Tensor

if TYPE_CHECKING:
    from ..ops.primitive import Primitive

INPUT, VARIABLE, CONSTANT = "input", "variable", "constant"  # where a program's source slots come from


class StepTrace(GradientTape):
    """A persistent tape that records every primitive on the batch's tensors and any Variable."""

    _all_ops = True

    def __init__(self, batch_leaves: list):
        super().__init__(persistent=True)
        self.batch_leaves = list(batch_leaves)  # None where a batch has no targets or weights
        for leaf in self.batch_leaves:
            if isinstance(leaf, Tensor):
                self._tracked[id(leaf)] = leaf
        self.value_read: str | None = None  # what Python read, when it read a tracked value

    def __enter__(self) -> StepTrace:
        super().__enter__()
        tape_module.RECORDING_ALL.append(self)
        tensor_module.add_value_reader(self._on_value_read)  # this thread's reads only
        return self

    def __exit__(self, *exc_info) -> None:
        if self in tape_module.RECORDING_ALL:
            tape_module.RECORDING_ALL.remove(self)
        tensor_module.remove_value_reader(self._on_value_read)
        super().__exit__(*exc_info)

    def _on_value_read(self, tensor) -> None:
        if self.value_read is None and (id(tensor) in self._tracked or tensor._is_variable):
            self.value_read = f"a value of shape {tuple(tensor.shape)} was read in Python"


class Step:
    """One primitive call of the program: ``slots[outputs] = prim.forward(*slots[args], **params)``."""

    __slots__ = ("prim", "args", "params", "outputs", "residual")

    def __init__(self, prim: Primitive, args: tuple, params: dict, outputs: tuple, residual: int | None):
        self.prim, self.args, self.params, self.outputs, self.residual = prim, args, params, outputs, residual


class Program:
    """A trace numbered into slots (see the module docstring)."""

    def __init__(self) -> None:
        self.steps: list[Step] = []
        self.sources: list[tuple] = []  # (slot, kind, what): INPUT leaf index, VARIABLE, CONSTANT value
        self.n_slots = 0
        self.n_residuals = 0
        self.kinds: list[tuple] = []  # per slot: (shape, dtype) of the traced value
        self._slot_of: dict[int, int] = {}
        self._kept: list = []  # the traced objects whose ids are keys of _slot_of (ids stay unique)

    def slot(self, obj) -> int | None:
        """The slot of a traced tensor (an input, Variable, constant or output), or None."""
        return self._slot_of.get(id(obj))

    def _new_slot(self, obj, kind: str | None = None, what=None) -> int:
        slot = self.n_slots
        self.n_slots += 1
        self._slot_of[id(obj)] = slot
        self._kept.append(obj)
        value = obj._value if isinstance(obj, Tensor) else np.asarray(obj)
        self.kinds.append((tuple(value.shape), value.dtype))
        if kind is not None:
            self.sources.append((slot, kind, what))
        return slot

    def _arg_slot(self, arg) -> int:
        slot = self._slot_of.get(id(arg))
        if slot is not None:
            return slot
        if getattr(arg, "_is_variable", False):
            return self._new_slot(arg, VARIABLE, arg)
        value = arg._value.copy() if isinstance(arg, Tensor) else arg
        return self._new_slot(arg, CONSTANT, value)

    @classmethod
    def from_trace(cls, trace: StepTrace) -> Program:
        program = cls()
        program._add_inputs(trace)
        for node in trace._nodes:
            program._add_node(node)
        return program

    def _add_inputs(self, trace: StepTrace) -> None:
        """The batch's tensors, numbered first."""
        for index, leaf in enumerate(trace.batch_leaves):
            if isinstance(leaf, Tensor):
                self._new_slot(leaf, INPUT, index)

    def _add_node(self, node) -> Step:
        """One recorded primitive call as the program's next step."""
        args = tuple(self._arg_slot(arg) for arg in node.args)
        residual = None
        if node.prim.saves:
            residual, self.n_residuals = self.n_residuals, self.n_residuals + 1
        outputs = tuple(self._new_slot(out) for out in node.outputs)
        step = Step(node.prim, args, dict(node.params), outputs, residual)
        self.steps.append(step)
        return step

    def replay_sources(self) -> tuple[list, list, list]:
        """What a replay fills the slots from: ``(slot, input leaf index)`` pairs, ``(slot,
        Variable)`` pairs (read afresh at each replay), and the slots with the constants in place."""
        inputs = [(slot, what) for slot, kind, what in self.sources if kind == INPUT]
        reads = [(slot, what) for slot, kind, what in self.sources if kind == VARIABLE]
        template: list = [None] * self.n_slots
        for slot, kind, what in self.sources:
            if kind == CONSTANT:
                template[slot] = what
        return inputs, reads, template

    def same_as(self, other: Program) -> bool:
        """Whether two traces did the same thing: the evidence that the step is static."""
        if self.n_slots != other.n_slots or len(self.steps) != len(other.steps):
            return False
        for mine, theirs in zip(self.sources, other.sources):
            if mine[:2] != theirs[:2] or not _same_source(mine[1], mine[2], theirs[2]):
                return False
        for step, twin in zip(self.steps, other.steps):
            if (step.prim is not twin.prim or step.args != twin.args or step.outputs != twin.outputs
                    or not same_value(step.params, twin.params)):
                return False
        return True


def _same_source(kind: str, a, b) -> bool:
    if kind == VARIABLE:
        return a is b
    return same_value(a, b)


def same_value(a, b) -> bool:
    """Equality of traced parameters and constants: arrays by dtype, shape and contents."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.dtype == b.dtype
                and a.shape == b.shape and bool(np.array_equal(a, b, equal_nan=a.dtype.kind in "fc")))
    if isinstance(a, Tensor) or isinstance(b, Tensor):
        return isinstance(a, Tensor) and isinstance(b, Tensor) and same_value(a._value, b._value)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_value(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(same_value(x, y) for x, y in zip(a, b))
    if type(a) is not type(b):
        return False
    try:
        return bool(a == b)
    except Exception:  # an object without a plain equality: only itself is the same
        return a is b


def lay_out_backward(program: Program, target: int, sources: list) -> list:
    """The steps the gradient of ``target`` flows through on its way to ``sources`` (slots),
    last first, each as ``(step, needs, arg shapes, arg dtypes, params)``: ``needs`` says which
    arguments want a gradient (a float value that depends on a source)."""
    reach = {slot for slot in sources if slot is not None}
    forward = []
    for step in program.steps:
        if step.prim.differentiable and any(a in reach for a in step.args):
            forward.append(step)
            reach.update(step.outputs)
    wanted, entries = {target}, []
    for step in reversed(forward):
        if not any(o in wanted for o in step.outputs):
            continue
        needs = tuple(a in reach and program.kinds[a][1].kind == "f" for a in step.args)
        wanted.update(a for a, needed in zip(step.args, needs) if needed)
        params = {**step.params, "needs": needs} if step.prim.takes_needs else step.params
        entries.append((step, needs, tuple(program.kinds[a][0] for a in step.args),
                        tuple(program.kinds[a][1] for a in step.args), params))
    return entries
