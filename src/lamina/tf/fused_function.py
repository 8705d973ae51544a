"""A replayed ``tf.function`` that is exactly the training step ``fit`` fuses, run by the fused
plan (``trainers/fast_plan.py``) instead of op by op.

The TensorFlow guide's ``train_step`` (a chain of ``Dense`` layers, sparse categorical
crossentropy over the batch, the gradient of every trainable weight, ``apply_gradients``, metric
updates) records the same program at every call. When a traced program is that one exactly,
each primitive and call checked against what the plan does, later calls run the plan's step: one
product per weight gradient, plain SGD landing inside it, the softmax and the loss in one pass,
metrics from the probabilities, the numbers the general step gives up to float rounding
(``tests/test_tf_function.py``). Anything else in the program (another layer, a loss of another
kind, a gradient read outside ``apply``, a second gradient) keeps the op-by-op replay.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..layers.fused import LAYER_CALL
from ..losses import links
from ..ops.core import _CAST
from ..ops.nn_composite import _SPARSE_CCE
from ..ops.tensor import Tensor
from ..optimizers.optimizer import Optimizer
from ..trainers.fast_plan import FastPlan
from ..trainers.step_trace import INPUT


class _PlanOwner:
    """What the plan reads of a compiled model, for a user's own optimizer."""

    def __init__(self, model_layers: list, optimizer: Optimizer):
        self.layers, self.optimizer = model_layers, optimizer

    @property
    def trainable(self) -> bool:
        return True  # each layer's own flag is read by the plan

    @property
    def trainable_weights(self) -> list:
        return [v for layer in self.layers for v in layer.trainable_weights]


class _Sum:
    """The plan's loss tracker: the batch's summed loss."""

    def __init__(self) -> None:
        self.total, self.count = 0.0, 0.0

    def add(self, total: float, count: float) -> None:
        self.total, self.count = self.total + total, self.count + count


class _Metrics:
    """The plan's compiled metrics: the metrics the function updates."""

    built = True

    def __init__(self, metrics: list):
        self.metrics = metrics


class FusedReplay:
    """The plan's step for a program that matched (see ``match``)."""

    def __init__(self, plan: FastPlan, x_index: int, y_index: int, metrics: list, loss_dtype: np.dtype,
                 classes: int):
        self.plan, self.x_index, self.y_index = plan, x_index, y_index
        self.metrics, self.loss_dtype, self.classes = _Metrics(metrics), loss_dtype, classes

    def run(self, input_leaves: list):
        x, y = input_leaves[self.x_index]._value, input_leaves[self.y_index]._value
        labels = np.asarray(y)
        if labels.size and (labels.min() < 0 or labels.max() >= self.classes):
            return None  # the plan has no zero loss for a label out of range: the op-by-op replay does
        self.plan.prepare()
        tracker = _Sum()
        self.plan.train(x, y, slice(None), tracker, self.metrics)
        return Tensor(np.asarray(tracker.total / tracker.count, self.loss_dtype))


def match(program) -> FusedReplay | None:
    """The fused plan's replay of ``program`` when it is the fused training step, else None."""
    steps, calls = _split(program.ordered)
    if steps is None or len(calls) < 1:
        return None
    casts = {step.outputs[0]: step for step in steps if step.prim is _CAST}  # of the labels, checked below
    steps = [step for step in steps if step.prim is not _CAST]
    if len(steps) < 3 or any(step.prim is not LAYER_CALL for step in steps[:-2]):
        return None
    layers = [step.params["layer"] for step in steps[:-2]]
    found = _chain(program, steps, layers, casts)
    if found is None:
        return None
    x_index, y_index, loss_slot, probabilities = found
    optimizer = _gradient_then_apply(program, calls, loss_slot, layers)
    metrics = _metric_calls(calls[2:], y_index, probabilities, program)
    if optimizer is None or metrics is None or program.output != _slot(loss_slot):
        return None
    plan = _plan(layers, optimizer)
    if plan is None:
        return None
    return FusedReplay(plan, x_index, y_index, metrics, program.kinds[loss_slot][1], layers[-1].units)


def _split(ordered: list) -> tuple[list | None, list]:
    """The primitives (all first) and the gradient and calls after them."""
    steps = [step for kind, step in ordered if kind == "prim"]
    rest = ordered[len(steps):]
    if any(kind == "prim" for kind, _ in rest) or not rest or rest[0][0] != "grad":
        return None, []
    return steps, rest


def _slot(n: int):
    from .compiled_function import _Slot
    return _Slot(n)


def _input_index(program, slot: int) -> int | None:
    for source, kind, what in program.sources:
        if source == slot and kind == INPUT:
            return what
    return None


def _labels(program, slot: int, casts: dict) -> int | None:
    """The input the sparse crossentropy's labels come from: directly, or cast (uint8 labels
    become int64) by every one of ``casts``; else None."""
    used = 0
    while slot in casts:
        slot, used = casts[slot].args[0], used + 1
    return _input_index(program, slot) if used == len(casts) else None


def _chain(program, steps: list, layers: list, casts: dict) -> tuple | None:
    """``(x index, y index, loss slot, probabilities slot)`` when the primitives are Dense calls
    in a chain on an input, then the sparse crossentropy of a label input, then its batch mean."""
    previous = steps[0].args[0]
    x_index = _input_index(program, previous)
    if x_index is None or len(program.kinds[previous][0]) != 2:
        return None
    for step, layer in zip(steps[:-2], layers):
        variables = layer._trainable_variables
        if (step.args[0] != previous or step.args[1:] != tuple(program.slot(v) for v in variables)
                or layer.fused_role() != "dense"):
            return None
        previous = step.outputs[0]
    cross, mean = steps[-2], steps[-1]
    if (cross.prim is not _SPARSE_CCE or cross.args[1] != previous or cross.params.get("from_logits")
            or mean.prim.name != "mean" or mean.args != cross.outputs or mean.params.get("axis") is not None
            or mean.params.get("keepdims")):
        return None
    y_index = _labels(program, cross.args[0], casts)
    if (y_index is None or len(program.kinds[cross.args[0]][0]) != 1
            or program.kinds[previous][0][-1] != layers[-1].units):
        return None
    hidden, last = layers[:-1], layers[-1]
    if any(layer.activation.derivative_into is None for layer in hidden) or last.activation.name != "softmax":
        return None
    return x_index, y_index, mean.outputs[0], previous


def _gradient_then_apply(program, calls: list, loss_slot: int, layers: list) -> Any:
    """The optimizer, when the calls start with the loss's gradient for every trainable weight of
    the layers and one ``apply`` of exactly those gradients to exactly those weights."""
    (_, grad), rest = calls[0], calls[1:]
    entries, target, seed, sources, results, shapes, unconnected = grad
    variables = [v for layer in layers for v in layer.trainable_weights]
    if target != loss_slot or seed is not None or sources != [program.slot(v) for v in variables] or not variables:
        return None
    if not rest or rest[0][0] != "call":
        return None
    method, args, kwargs, _ = rest[0][1]
    if method is not getattr(Optimizer.apply, "__wrapped_stateful__", None) or kwargs or len(args) != 3:
        return None
    optimizer, grads, targets = args
    if list(grads) != [_slot(r) for r in results] or len(targets) != len(variables) or any(
            a is not b for a, b in zip(targets, variables)):
        return None
    return optimizer


def _metric_calls(calls: list, y_index: int, probabilities: int, program) -> list | None:
    """The metrics of the remaining calls, when each is ``metric.update_state(y, probabilities)``."""
    from ..metrics.metric import Metric
    metrics = []
    for kind, call in calls:
        method, args, kwargs, _ = call if kind == "call" else (None, (), {}, None)
        if (kind != "call" or len(args) != 3 or not isinstance(args[0], Metric) or kwargs
                or getattr(type(args[0]).update_state, "__wrapped_stateful__", None) is not method
                or _input_index(program, getattr(args[1], "n", -1)) != y_index or args[2] != _slot(probabilities)):
            return None
        metrics.append(args[0])
    return metrics


def _plan(layers: list, optimizer) -> FastPlan | None:
    dtypes = {layer.kernel._value.dtype for layer in layers}
    if len(dtypes) != 1 or dtypes.pop().kind != "f":
        return None
    return FastPlan(_PlanOwner(layers, optimizer), layers, links.SparseSoftmax())
