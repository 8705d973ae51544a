"""``tf.function`` compiled the way ``fit``'s step is (``trainers/compiled_step.py``): traced from
eager calls, then replayed on arrays.

TensorFlow runs a ``tf.function``'s Python once per input signature and replays the graph it
traced. lamina traces eager calls instead: a ``FunctionTrace`` records every primitive on the
arguments' tensors and on Variables, each gradient a ``GradientTape`` takes inside, and each
stateful call (an optimizer's ``apply``, a metric's ``update_state``/``result``/``reset_state``,
a Variable's ``assign``, ``tf.print``; see ``_macros.py``) as one step. When two calls with the
same signature (the tensors' shapes and dtypes, the other arguments' values or identities, the
layers' weight lists) record the same program, later calls replay it: the primitives' forward
rules, each gradient's VJPs laid out once, the stateful calls made again on the new values.

As in TensorFlow, Python code of the function (a ``print``, appending to a list) runs only while
tracing. What keeps a signature eager for good (run as written, which is never wrong): Python
reading a tensor's value inside (``float(loss)``, ``if x > 0``), a Variable changed in place
outside those calls, a gradient taken while another tape records (second order), a jacobian,
a gradient of several targets, or traces that keep differing (a NumPy draw). A call made while a
``GradientTape`` outside records (it must see the ops) and ``run_functions_eagerly(True)`` run
eagerly too. Traces and tapes are per thread, as TensorFlow's: a call traced in one thread records
none of another thread's ops, and a tape recording in another thread does not make a call eager.
"""
from __future__ import annotations

import contextlib
from typing import Any, Callable

import numpy as np

from .. import _macros, _versions
from ..backend import threads
from ..ops import tape as tape_module
from ..ops import tensor as tensor_module
from ..ops.tensor import Tensor
from ..trainers import replay_ops, structures
from . import fused_function
from ..trainers.step_trace import (Program, StepTrace, lay_out_backward,
                                   same_value)

_MAX_SIGNATURES = 8  # programs kept per function; beyond, new signatures run eagerly
_MAX_TRACES = 4  # eager traces of one signature before giving up on it (the first call may build)


class _Call:
    """A stateful call: ``method(*args, **kwargs)``, its tensor arguments to be read from slots."""

    def __init__(self, method, args: tuple, kwargs: dict, result):
        self.method, self.args, self.kwargs, self.result = method, args, kwargs, result


class _Gradient:
    """``tape.gradient(target, sources, output_gradients)`` as recorded: the nodes the tape held."""

    def __init__(self, node_ids: set, target, sources, seed, unconnected: str, result):
        self.node_ids, self.target, self.sources, self.seed = node_ids, target, sources, seed
        self.unconnected, self.result = unconnected, result


class FunctionTrace(StepTrace):
    """A step trace that also records gradients and stateful calls, in order with the primitives."""

    def __init__(self, input_leaves: list):
        super().__init__(input_leaves)
        self.events: list[tuple[int, Any]] = []  # (number of nodes recorded before it, event)
        self.refused: str | None = None

    def __enter__(self) -> FunctionTrace:
        super().__enter__()
        _macros.start(self)
        return self

    def __exit__(self, *exc_info) -> None:
        _macros.stop(self)
        super().__exit__(*exc_info)

    def refuse(self, why: str) -> None:
        if self.refused is None:
            self.refused = why

    @contextlib.contextmanager
    def _paused(self):
        """The body is one recorded step: this trace neither records its ops nor sees its reads."""
        taping = self._pause()
        all_ops = self in tape_module.RECORDING_ALL
        if all_ops:
            tape_module.RECORDING_ALL.remove(self)
        reading = tensor_module.remove_value_reader(self._on_value_read)
        try:
            with _macros.inside():
                yield
        finally:
            if taping:
                self._resume()
            if all_ops:
                tape_module.RECORDING_ALL.append(self)
            if reading:
                tensor_module.add_value_reader(self._on_value_read)

    def record_call(self, method, args: tuple, kwargs: dict):
        with self._paused():
            result = _as_tensors(method(*args, **kwargs))  # a metric's result: a tensor, as in TensorFlow
        for leaf in structures.leaves(result):
            if isinstance(leaf, Tensor) and not leaf._is_variable:
                self._tracked[id(leaf)] = leaf
        self.events.append((len(self._nodes), _Call(method, args, kwargs, result)))
        return result

    def record_gradient(self, tape, target, sources, output_gradients, unconnected: str):
        if any(t is not self and t is not tape for t in tape_module.active()):
            self.refuse("a gradient was taken while another tape recorded (second order)")
        node_ids = {id(node) for node in tape._nodes}
        with self._paused():
            result = tape.gradient(target, sources, output_gradients, unconnected)
        targets = structures.leaves(target)
        seeds = None if output_gradients is None else structures.leaves(output_gradients)
        if len(targets) != 1 or (seeds is not None and len(seeds) != 1):
            self.refuse("a gradient of several targets")
        for leaf in structures.leaves(result):
            if isinstance(leaf, Tensor):
                self._tracked[id(leaf)] = leaf
        event = _Gradient(node_ids, targets[0], structures.leaves(sources), seeds and seeds[0], unconnected, result)
        self.events.append((len(self._nodes), event))
        return result


class _Slot:
    """A tensor of a recorded call's arguments or of the function's result: the value in slot ``n``."""

    __slots__ = ("n",)

    def __init__(self, n: int):
        self.n = n

    def __eq__(self, other) -> bool:
        return isinstance(other, _Slot) and other.n == self.n

    __hash__ = None  # type: ignore[assignment]


def _same_template(a, b) -> bool:
    """Two recorded argument structures alike: slots by number, data by value, objects by identity."""
    if isinstance(a, _Slot) or isinstance(b, _Slot):
        return a == b
    if isinstance(a, (np.ndarray, Tensor, int, float, str, bool, type(None), np.generic)):
        return same_value(a, b)
    if isinstance(a, (list, tuple, dict)):
        return same_value(type(a), type(b)) and len(a) == len(b) and all(
            _same_template(x, y) for x, y in (zip(a.values(), b.values()) if isinstance(a, dict) else zip(a, b))) \
            and (not isinstance(a, dict) or a.keys() == b.keys())
    return a is b


class FunctionProgram(Program):
    """A function trace numbered into slots: its primitives, gradients and stateful calls in order."""

    def __init__(self) -> None:
        super().__init__()
        self.ordered: list[tuple[str, Any]] = []  # ("prim", Step), ("call", ...), ("grad", ...)
        self.output: Any = None

    def template(self, structure) -> Any:
        """``structure`` with each traced tensor as its slot, other data copied, objects kept."""
        def leaf(value):
            if isinstance(value, Tensor) and not value._is_variable:
                slot = self.slot(value)
                return _Slot(slot) if slot is not None else Tensor(value._value.copy())
            return value.copy() if isinstance(value, np.ndarray) else value
        return structures.map_leaves(leaf, structure)

    @classmethod
    def from_function_trace(cls, trace: FunctionTrace, output) -> FunctionProgram:
        program = cls()
        program._add_inputs(trace)
        events, nodes = list(trace.events), trace._nodes
        node_of_step: dict[int, int] = {}
        for position in range(len(nodes) + 1):
            while events and events[0][0] == position:
                program._add_event(events.pop(0)[1], node_of_step)
            if position == len(nodes):
                break
            step = program._add_node(nodes[position])
            program.ordered.append(("prim", step))
            node_of_step[id(step)] = id(nodes[position])
        program.output = program.template(output)
        return program

    def _add_event(self, event, node_of_step: dict) -> None:
        if isinstance(event, _Call):
            args, kwargs = self.template(event.args), self.template(event.kwargs)
            out = structures.map_leaves(lambda leaf: _Slot(self._new_slot(leaf)) if isinstance(leaf, Tensor) and not
                                        leaf._is_variable and self.slot(leaf) is None else None, event.result)
            self.ordered.append(("call", (event.method, args, kwargs, out)))
            return
        recorded = [s for s in self.steps if node_of_step.get(id(s)) in event.node_ids]
        view = _StepsView(recorded, self.kinds)
        target = self.slot(event.target)
        sources = [self.slot(s) for s in event.sources]
        laid_out = [] if target is None else lay_out_backward(view, target, sources)  # type: ignore[arg-type]
        seed = None if event.seed is None else self.template(event.seed)
        results = [None if leaf is None else self._new_slot(leaf) for leaf in structures.leaves(event.result)]
        shapes = [(tuple(np.shape(s._value)), s._value.dtype) if isinstance(s, Tensor) else None for s in event.sources]
        entries = [(entry[0].outputs, replay_ops.backward_op(entry, None)) for entry in laid_out]  # (outputs, op)
        self.ordered.append(("grad", (entries, target, seed, sources, results, shapes, event.unconnected)))

    def same_as(self, other: Program) -> bool:
        if not (isinstance(other, FunctionProgram) and super().same_as(other)
                and len(self.ordered) == len(other.ordered)):
            return False
        for (kind, mine), (twin_kind, theirs) in zip(self.ordered, other.ordered):
            if kind != twin_kind:
                return False
            if kind == "call" and not (mine[0] is theirs[0] and _same_template(mine[1:], theirs[1:])):
                return False
            if kind == "grad" and not (mine[1:2] == theirs[1:2] and mine[3:] == theirs[3:]
                                       and [e[0] for e in mine[0]] == [e[0] for e in theirs[0]]
                                       and _same_template(mine[2], theirs[2])):
                return False
        return _same_template(self.output, other.output)


class _StepsView:
    """The steps one tape recorded, as ``lay_out_backward`` reads a program."""

    def __init__(self, steps: list, kinds: list):
        self.steps, self.kinds = steps, kinds


def _fill(template, slots: list):
    """A recorded structure with each slot's current value as a tensor (None where the slot holds
    none: a gradient that did not flow)."""
    def leaf(value):
        if not isinstance(value, _Slot):
            return value
        array = slots[value.n]
        return None if array is None else Tensor(array)
    return structures.map_leaves(leaf, template)


class _Replay:
    """One signature's program, run on the arrays of a new call."""

    def __init__(self, program: FunctionProgram, fused=None):
        self.program, self.fused = program, fused  # fused: the fused plan's step, when it is one
        self.inputs, self.reads, self.template = program.replay_sources()
        # each primitive bound once as a forward op (replay_ops.py), the other steps as recorded
        self.steps: list[tuple[str, Any]] = [(kind, replay_ops.forward_op(step) if kind == "prim" else step)
                                             for kind, step in program.ordered]

    def run(self, input_leaves: list):
        if self.fused is not None:
            out = self.fused.run(input_leaves)
            if out is not None:
                return out
        program, slots = self.program, list(self.template)
        for slot, index in self.inputs:
            slots[slot] = input_leaves[index]._value
        for slot, variable in self.reads:
            slots[slot] = variable._value  # updated in place by the optimizer: later reads see its writes
        residuals: list = [None] * program.n_residuals
        for kind, step in self.steps:
            if kind == "prim":
                step(slots, residuals)
            elif kind == "call":
                method, args, kwargs, out = step
                result = method(*_fill(args, slots), **_fill(kwargs, slots))
                for slot, value in zip(structures.leaves(out), structures.leaves(result)):
                    if slot is not None:
                        slots[slot.n] = np.asarray(value._value if isinstance(value, Tensor) else value)
            else:
                _run_gradient(step, slots, residuals)
        return _fill(program.output, slots)


def _run_gradient(step, slots: list, residuals: list) -> None:
    entries, target, seed, sources, results, shapes, unconnected = step
    value = slots[target]
    seed_value = np.ones(np.shape(value), value.dtype) if seed is None else np.asarray(
        slots[seed.n] if isinstance(seed, _Slot) else seed, value.dtype)
    grads = replay_ops.run_backward([op for _, op in entries], slots, residuals, target, seed_value, None)
    for source, result, shape in zip(sources, results, shapes):
        if result is None:
            continue
        grad = None if source is None else grads[source]
        if grad is None and unconnected == "zero" and shape is not None:
            grad = np.zeros(*shape)
        slots[result] = grad


_EAGER: Any = object()  # a signature that runs as written, for good


class CompiledFunction:
    """What ``tf.function`` makes of a Python function: per signature, traced then replayed."""

    def __init__(self, fn: Callable):
        self.fn = fn
        self._replays: dict[tuple, Any] = {}  # signature -> _Replay or _EAGER
        self._pending: dict[tuple, tuple] = {}  # signature -> (last program, traces so far)
        self._kept: list = []  # the objects whose ids are in signatures (an id stays theirs)
        self.refused: str | None = None  # why the last signature given up on stays eager

    def __call__(self, *args, **kwargs):
        if EAGER_SWITCH[0] or (tape_module.ANYWHERE and tape_module.active()) or _macros.tracing():
            return self.fn(*args, **kwargs)  # an outer tape or trace of this thread must see the ops themselves
        try:
            args, kwargs = _as_tensors(args), _as_tensors(kwargs)
        except TypeError:  # a structure that cannot be rebuilt leaf by leaf (a namedtuple): as written
            return self.fn(*args, **kwargs)
        leaves = structures.leaves([list(args), kwargs])
        key = self._signature(leaves, kwargs)
        replay = self._replays.get(key)
        if replay is _EAGER or (replay is None and key not in self._pending
                                and len(self._replays) + len(self._pending) >= _MAX_SIGNATURES):
            return self.fn(*args, **kwargs)
        inputs = [leaf if isinstance(leaf, Tensor) and not leaf._is_variable else None for leaf in leaves]
        if replay is not None:
            with threads.for_user_loop():  # the BLAS threads a tape would choose (backend/threads.py)
                return replay.run(inputs)
        self._keep(leaves)
        return self._traced_call(key, inputs, args, kwargs)

    def _signature(self, leaves: list, kwargs: dict) -> tuple:
        key: list = [_versions.VERSION[0], tuple(kwargs)]
        for leaf in leaves:
            if isinstance(leaf, Tensor) and not leaf._is_variable:
                key.append((tuple(leaf.shape), leaf._value.dtype.str))
            elif isinstance(leaf, (int, float, str, bool, type(None))):
                key.append((type(leaf), leaf))
            else:
                key.append(id(leaf))
        return tuple(key)

    def _keep(self, leaves: list) -> None:
        """Hold the objects a stored signature names by id, so that no other object takes the id."""
        for leaf in leaves:
            data = isinstance(leaf, (int, float, str, bool, type(None))) or (
                isinstance(leaf, Tensor) and not leaf._is_variable)
            if not data and not any(kept is leaf for kept in self._kept):
                self._kept.append(leaf)

    def _traced_call(self, key: tuple, inputs: list, args: tuple, kwargs: dict):
        trace = FunctionTrace(inputs)
        with trace:
            output = self.fn(*args, **kwargs)
        why = trace.refused or (trace.value_read and f"Python read a tensor's value ({trace.value_read})")
        if why:
            return self._give_up(key, why, output)
        try:
            program = FunctionProgram.from_function_trace(trace, output)
        except TypeError:  # a recorded argument of a structure it cannot rebuild (a namedtuple)
            return self._give_up(key, "a stateful call took a structure the trace cannot rebuild", output)
        previous, count = self._pending.pop(key, (None, 0))
        if previous is not None and previous.same_as(program):
            self._replays[key] = _Replay(program, fused_function.match(program))
        elif count + 1 >= _MAX_TRACES:
            return self._give_up(key, f"{_MAX_TRACES} calls traced different programs (a random draw or an "
                                 "array made outside the ops)", output)
        else:
            self._pending[key] = (program, count + 1)
        return output

    def _give_up(self, key: tuple, why: str, output):
        self._pending.pop(key, None)
        self._replays[key] = _EAGER
        self.refused = why
        return output


EAGER_SWITCH = [False]  # tf.config.run_functions_eagerly


def _as_tensors(structure):
    """NumPy arrays and scalars as tensors, as TensorFlow converts a function's array arguments."""
    return structures.map_leaves(lambda leaf: Tensor(np.asarray(leaf)) if isinstance(leaf, (np.ndarray, np.generic))
                                 else leaf, structure)
