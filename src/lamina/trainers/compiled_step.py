"""``fit``'s default ``train_step`` compiled, as Keras compiles it: traced from eager steps,
then replayed on arrays (the general path's answer to the fused plan of ``fast_plan.py``).

The first two batches of each shape run the eager ``train_step`` under a ``StepTrace``
(``step_trace.py``). When both traces make the same program, later batches of that shape run
the program: each primitive's forward rule on arrays, then the VJPs of the steps the loss
depends on, in reverse, then the optimizer, the loss trackers and the compiled metrics, the
same calls the eager step makes, with no ``Layer.__call__``, no tensors and no tape. Where the
program holds a pattern the fused plan runs fast (a product plus a bias, relu, softmax with the
sparse crossentropy, the loss's mean), ``replay_fusion.py`` runs it as one group into buffers
of its own (``replay_kernels.py``), with plain SGD's updates inside the backward pass.

What makes a step stay eager (Keras would run it once and freeze it; lamina runs it as
written, which is never wrong): ``run_eagerly=True`` or ``jit_compile=False``; an overridden
``train_step``; a value read in Python inside ``call`` or the loss; a Variable assigned
during the forward pass (BatchNormalization's moving statistics, a metric of a layer); two
traces that differ (a random draw outside the ops, such as NumPy's in a layer's ``call``; an
array made from the batch outside the ops). ``CompiledStep.refused`` says which. lamina's own
random layers draw through an op (``layers/regularization.py``), so their draws are replayed.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..metrics import Mean
from ..ops.tensor import Tensor
from . import replay_fusion, replay_ops, sgd_in_product, structures
from .step_trace import Program, StepTrace, lay_out_backward
from .structures import unpack_x_y_sample_weight
from .trainer import batch_size, update_weights

if TYPE_CHECKING:
    from ..models.model import Model


class CompiledStep:
    """The compiled default ``train_step`` of one model, for one ``fit`` (or a run of
    ``train_on_batch`` calls): one program per shape of batch."""

    def __init__(self, model: Model):
        self.model = model
        self._replays: dict[tuple, _Replay | None] = {}  # None: this shape of batch stays eager
        self._first: dict[tuple, Program] = {}
        self._packed: Any = _MISSING
        self.refused: str | None = None

    @classmethod
    def for_model(cls, model) -> CompiledStep | None:
        if model.run_eagerly or model._jit_compile is False or model._steps_overridden("train_step"):
            return None
        return cls(model)

    def train(self, batch: tuple):
        """One step on ``batch`` (what ``train_step`` takes): its logs, or None when the
        metrics hold them (read when wanted, as after the fused plan)."""
        key = _signature(batch)
        replay = self._replays.get(key, _MISSING)
        if replay is None:
            return self.model.train_step(batch)
        if replay is not _MISSING:
            return replay.run(batch)
        if key not in self._first and len(self._replays) + len(self._first) >= _MAX_SHAPES:
            return self.model.train_step(batch)  # batches of ever new shapes: tracing would not pay
        return self._traced_step(key, batch)

    def _refuse(self, key: tuple, why: str) -> None:
        self._replays[key] = None
        self._first.pop(key, None)
        self.refused = why

    def _traced_step(self, key: tuple, batch: tuple):
        model = self.model
        x, y, sample_weight = unpack_x_y_sample_weight(batch)
        trace = StepTrace(_batch_leaves(batch))
        versions = [(v, v._version) for v in model.variables]
        compile_loss = model._compile_loss
        if compile_loss is not None:
            compile_loss.defer_trackers = True  # their reads of the values are the step's own
        try:
            with trace:
                y_pred = model(x, training=True)
                loss = model.compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight, training=True)
                scaled = model.optimizer.scale_loss(loss)
        finally:
            if compile_loss is not None:
                compile_loss.defer_trackers = False
        per_output: list = [] if compile_loss is None else compile_loss.take_deferred()
        variables = model.trainable_weights
        why = self._why_not(trace, versions, variables)  # before the update writes the weights
        logs = _finish_eager_step(model, trace, batch, loss, scaled, y_pred, per_output, variables)
        if why is not None:
            self._refuse(key, why)
            return logs
        program = Program.from_trace(trace)
        first = self._first.pop(key, None)
        if first is None:
            self._first[key] = program
        elif not first.same_as(program):
            self._refuse(key, "two batches gave different steps (a random draw or an array made outside the ops)")
        else:
            replay = _Replay.build(model, program, loss, scaled, y_pred, per_output, variables)
            self._replays[key] = replay
            if replay is not None:
                if self._packed is _MISSING:  # packed once: a second pack would move the state again
                    self._packed = _PackedUpdate.maybe(model, variables)
                replay.packed = self._packed
                if self._packed is not None:
                    replay.gradients_into(self._packed)
            else:
                self.refused = "the loss or an output does not come from the recorded ops"
        return logs

    @staticmethod
    def _why_not(trace: StepTrace, versions: list, variables: list) -> str | None:
        if trace.value_read is not None:
            return f"Python read a tensor's value during the step ({trace.value_read})"
        changed = [v.path for v, version in versions if v._version != version]
        if changed:
            return f"the forward pass assigned the Variable(s) {changed}"
        if not variables:
            return "the model has no trainable weights"
        return None


_MISSING: Any = object()
_MAX_SHAPES = 8  # programs kept per fit: each holds a copy of its constants


def _batch_leaves(batch) -> list:
    """The arrays of what ``train_step`` takes: a tuple ``(x, y[, sample_weight])`` or a bare ``x``
    (a tensor, list or dict: ``structures.pack_x_y_sample_weight`` without targets)."""
    return structures.leaves(list(batch) if isinstance(batch, tuple) else [batch])


def _signature(batch: tuple) -> tuple:
    leaves = _batch_leaves(batch)
    return tuple(None if leaf is None else (tuple(leaf.shape), str(leaf.dtype)) for leaf in leaves)


def _finish_eager_step(model, trace, batch, loss, scaled, y_pred, per_output, variables):
    """The rest of the default ``train_step`` after its forward pass: the trackers, the
    gradient and the update, the metrics."""
    x, y, sample_weight = unpack_x_y_sample_weight(batch)
    model._loss_tracker.update_state(loss, sample_weight=batch_size(x))
    _update_output_trackers(model, [(value._value, count) for value, count in per_output])
    update_weights(model, trace, scaled, variables)
    return model.compute_metrics(x, y, y_pred, sample_weight)


def _update_output_trackers(model, per_output: list) -> None:
    """Each output's ``<name>_loss`` tracker from its ``(loss value, batch size)``
    (``CompileLoss`` deferred them to the step)."""
    compile_loss = model._compile_loss
    for tracker, (value, count) in zip(compile_loss.trackers if compile_loss is not None else [], per_output):
        _track(tracker, value, count)


class _Replay:
    """The program of one shape of batch, with its backward pass laid out."""

    def __init__(self, model, program: Program, target: int, loss: int, outputs: list, y_pred_like,
                 per_output: list, variables: list, backward: list, seed: np.ndarray):
        self.model, self.program = model, program
        self.target, self.loss, self.outputs, self.y_pred_like = target, loss, outputs, y_pred_like
        self.per_output, self.seed = per_output, seed
        externals = {target, loss, *outputs, *(slot for slot, _ in per_output)}
        fused = replay_fusion.FusedProgram(program, backward, externals, model.optimizer, variables)
        self.forward, self.backward, self.folded = fused.forward, fused.backward, fused.folded
        self.fused = fused  # its kernels: the fused groups (replay_kernels.py)
        folded = {id(v) for v in self.folded}
        kept = [v for v in variables if id(v) not in folded]
        self.variables = kept  # the ones the optimizer's apply updates
        self.var_slots = [program.slot(v) for v in kept]
        self.inputs, self.reads, self.template = program.replay_sources()
        self.overridden_metrics = model._steps_overridden("compute_metrics")
        self.packed: _PackedUpdate | None = None  # shared by the programs of every shape of batch

    def gradients_into(self, packed: _PackedUpdate) -> None:
        """The fused products write their weights' gradients into the packed array's views."""
        views = {id(v): view for v, view in zip(packed.variables, packed.views)}
        self.fused.gradients_into({slot: views[id(v)] for v, slot in zip(self.variables, self.var_slots)
                                   if slot is not None and id(v) in views})

    @classmethod
    def build(cls, model, program: Program, loss, scaled, y_pred, per_output, variables) -> _Replay | None:
        target, loss_slot = program.slot(scaled), program.slot(loss)
        leaves = structures.leaves(y_pred)
        outputs = [program.slot(leaf) for leaf in leaves]
        counts = [count for _, count in per_output]
        per_slots = [program.slot(value) for value, _ in per_output]
        if target is None or loss_slot is None or None in (*outputs, *per_slots):
            return None
        backward = lay_out_backward(program, target, [program.slot(v) for v in variables])
        seed = np.ones(np.shape(scaled._value), scaled._value.dtype)
        return cls(model, program, target, loss_slot, outputs, y_pred, list(zip(per_slots, counts)), variables,
                   backward, seed)

    def run(self, batch: tuple):
        model = self.model
        leaves = _batch_leaves(batch)
        slots = list(self.template)
        for slot, index in self.inputs:
            slots[slot] = leaves[index]._value
        for slot, variable in self.reads:
            slots[slot] = variable._value
        residuals = replay_ops.run_forward(self.forward, slots, self.program.n_residuals)
        learning_rate = model.optimizer.current_learning_rate() if self.folded else None
        grads = replay_ops.run_backward(self.backward, slots, residuals, self.target, self.seed, learning_rate)
        var_grads = [None if s is None else grads[s] for s in self.var_slots]  # None: unused weight
        for variable in self.folded:
            variable._written()
        if not self.variables:  # every update landed inside a product: only the step's count is left
            model.optimizer.finish_step()
        elif self.packed is None or not self.packed.apply(var_grads):
            model.optimizer.apply(var_grads, self.variables)
        x, y, sample_weight = unpack_x_y_sample_weight(batch)
        _track(model._loss_tracker, slots[self.loss], batch_size(x))
        _update_output_trackers(model, [(slots[slot], count) for slot, count in self.per_output])
        if self.overridden_metrics:  # the user's code may keep y_pred: not the buffers of the next step
            y_pred = _pack_like(self.y_pred_like, [Tensor(np.array(slots[s])) for s in self.outputs])
            return model.compute_metrics(x, y, y_pred, sample_weight)
        y_pred = _pack_like(self.y_pred_like, [Tensor(slots[s]) for s in self.outputs])
        metrics = model._compile_metrics
        if metrics is not None and y is not None and not self._sparse_metrics(metrics, y, y_pred, sample_weight):
            metrics.update_state(*model._per_output(y, y_pred, sample_weight))
        return None

    def _sparse_metrics(self, metrics, y, y_pred, sample_weight) -> bool:
        """The fused plan's shortcut (``Metric.fused_update``) for one output of class scores
        with integer labels and no sample weights: a metric that has one counts from the arrays;
        False (nothing done) for anything else."""
        if len(self.outputs) != 1 or sample_weight is not None or not metrics.built or not isinstance(y, Tensor):
            return False
        labels, p = y._value, y_pred._value if isinstance(y_pred, Tensor) else None
        if p is None or p.ndim != 2 or labels.ndim != 1 or labels.dtype.kind not in "iu" or len(labels) != len(p):
            return False
        for metric in metrics.metrics:
            if not metric.fused_update(p, labels, "sparse"):
                metric.update_state(y, y_pred)
        return True


def _track(tracker, value: np.ndarray, count: int) -> None:
    """``tracker.update_state(value, sample_weight=count)`` for a scalar; a ``Mean``'s own sums
    directly (the same float64 arithmetic, without its per-sample reduction)."""
    if type(tracker) is Mean and np.ndim(value) == 0:
        tracker.add(float(np.float64(value) * count), float(count))
    else:
        tracker.update_state(Tensor(value), sample_weight=count)


class _PackedUpdate:
    """The trainable weights laid out in one array (``Optimizer.pack``), so an elementwise
    optimizer updates all of them in one pass, as the fused plan does; only where nothing but
    ``update_step`` applies (``Optimizer.plain``: no clipping, decay, EMA, loss scale) and no
    weight has a constraint. The numbers are those of ``apply``'s one call per variable."""

    def __init__(self, optimizer, variables: list):
        self.optimizer, self.variables = optimizer, variables
        offsets = np.cumsum([0, *(v.size for v in variables)])
        self.flat = np.empty(offsets[-1], variables[0]._value.dtype)
        for variable, start, stop in zip(variables, offsets, offsets[1:]):
            variable.rebind(self.flat[start:stop].reshape(variable.shape))
        self.whole = optimizer.pack(variables, self.flat)
        self.grad = np.empty_like(self.flat)
        self.views = [self.grad[start:stop].reshape(v.shape) for v, start, stop in zip(variables, offsets, offsets[1:])]

    @classmethod
    def maybe(cls, model, variables: list) -> _PackedUpdate | None:
        optimizer = model.optimizer
        if (model._plan is not None or len(variables) < 2 or not optimizer.plain
                or sgd_in_product.declared(optimizer)  # its kernels update inside the products instead
                or not optimizer.updates_elementwise() or any(v.constraint is not None for v in variables)
                or len({v._value.dtype for v in variables}) != 1):
            return None  # the fused plan holds the weights already, or apply has more to do
        return cls(optimizer, variables)

    def apply(self, grads: list) -> bool:
        """One step; False (nothing done) when a weight got no gradient: ``apply`` warns then."""
        if any(g is None for g in grads):
            return False
        for view, grad in zip(self.views, grads):
            if grad is not view:  # a fused product wrote it in place already
                view[...] = grad
        optimizer = self.optimizer
        optimizer.update_steps([self.grad], [self.whole], optimizer.current_learning_rate())
        for variable in self.variables:
            variable._written()
        optimizer.finish_step()
        return True


def _pack_like(structure, leaves: list):
    it = iter(leaves)
    return structures.map_leaves(lambda _: next(it), structure)
