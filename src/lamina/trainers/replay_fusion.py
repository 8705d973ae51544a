"""A peephole pass over the compiled step's program: the patterns the fused plan of
``fast_plan.py`` runs fast, found in any recorded program and run as one group each
(``replay_kernels.py``); every other primitive replays as recorded (``replay_ops.py``).

The patterns, each matched exactly or not at all (anything else, or a value of the group that
something outside it reads, leaves the primitives as they were):

- ``matmul(a, w) + b``, ``a`` and ``w`` 2-D and ``b`` of shape ``(units,)``, one dtype, the
  product read by the add alone: one BLAS product onto ``b`` (``Affine``); under plain SGD the
  updates of ``w`` and ``b`` land inside their gradients' products;
- ``relu``: numba's loop into a buffer, and its derivative in place on a gradient it owns;
- ``sparse_categorical_crossentropy(labels, softmax(z))`` on probabilities, or the same written
  ``categorical_crossentropy(one_hot(labels, k), softmax(z))`` (the one-hot read by the loss
  alone), the probabilities read by the loss alone (and by the metrics): one compiled pass each
  way, with numba;
- ``mean(values)`` over every axis, or ``divide_no_nan(sum(values), constant)`` (the sum read by
  the division alone): a loss's mean over the batch, in one expression, and the constant
  gradient spread back.

Where a group sits: its forward runs where its last primitive did (its inputs are ready then and
nothing outside reads its inner values), its backward where the first of its primitives' VJPs
would have run (every gradient of its outputs is complete then).
"""
from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import _kernel_switch
from ..ops.linalg_ops import _MATMUL
from . import replay_kernels, replay_ops, sgd_in_product
from .step_trace import CONSTANT, VARIABLE

if TYPE_CHECKING:
    from ..optimizers.optimizer import Optimizer
    from .step_trace import Program

_PRIMITIVES: dict[str, Any] = {}


def primitives() -> dict[str, Any]:
    """The primitives the patterns name, found by tracing their public ops once (an op's
    primitive is not a module name of its own)."""
    if not _PRIMITIVES:
        from .. import ops
        from ..ops.tensor import Tensor
        from .step_trace import StepTrace

        z, bias = Tensor(np.ones((2, 2), np.float32)), Tensor(np.ones(2, np.float32))
        labels = Tensor(np.zeros(2, np.int64))
        with StepTrace([z, bias, labels]) as trace:
            ops.add(z, bias)
            ops.relu(z)
            ops.categorical_crossentropy(ops.one_hot(labels, 2), ops.softmax(z))
            ops.sparse_categorical_crossentropy(labels, z)
            ops.divide_no_nan(ops.sum(bias), 2.0)
            ops.mean(bias)
        for node in trace._nodes:
            _PRIMITIVES[node.prim.name] = node.prim
    return _PRIMITIVES


class _Graph:
    """What the matchers read: who reads each slot, which laid-out backward entry each step has,
    which slots something outside the program reads."""

    def __init__(self, program, laid_out: list, externals: set, optimizer, variables: list):
        self.program, self.steps, self.kinds = program, program.steps, program.kinds
        self.readers: dict[int, list[int]] = defaultdict(list)
        for k, step in enumerate(self.steps):
            for slot in step.args:
                self.readers[slot].append(k)
        self.index_of = {id(step): k for k, step in enumerate(self.steps)}
        self.entries = {self.index_of[id(entry[0])]: index for index, entry in enumerate(laid_out)}
        self.laid_out, self.externals = laid_out, externals
        self.constant_values = {slot: what for slot, kind, what in program.sources if kind == CONSTANT}
        self.constants = set(self.constant_values)
        self.variables = {program.slot(v): v for v in variables if program.slot(v) is not None}
        self.variable_slots = {slot for slot, kind, _ in program.sources if kind == VARIABLE}
        self.optimizer = optimizer
        self.folds = sgd_in_product.folds(optimizer, laid_out, variables, program.slot)
        self.prims = primitives()

    def needs(self, k: int) -> tuple:
        """Which arguments of step ``k`` want a gradient (all False off the gradient's path)."""
        index = self.entries.get(k)
        return tuple(False for _ in self.steps[k].args) if index is None else self.laid_out[index][1]

    def sole_reader(self, slot: int) -> int | None:
        """The one step reading ``slot``, when nothing else (nor anything outside) does."""
        readers = self.readers.get(slot, [])
        return readers[0] if len(readers) == 1 and slot not in self.externals else None

    def is_a(self, k: int | None, name: str) -> bool:
        return k is not None and self.steps[k].prim is self.prims[name]


def _float_kind(kind) -> bool:
    return kind[1] in (np.float32, np.float64)


def _affine(graph: _Graph, k: int):
    step = graph.steps[k]
    if step.prim is not _MATMUL:
        return None
    a, w = step.args
    (product,) = step.outputs
    j = graph.sole_reader(product)
    if j is None or not graph.is_a(j, "add") or len(set(graph.steps[j].args)) != 2:
        return None
    add = graph.steps[j]
    b = add.args[1] if add.args[0] == product else add.args[0]
    (out,) = add.outputs
    kinds = graph.kinds
    if len(kinds[a][0]) != 2:
        return None
    (m, inner), dtype = kinds[a]
    if (len(kinds[w][0]) != 2 or kinds[w][0][0] != inner or not _float_kind(kinds[a])
            or kinds[out] != ((m, kinds[w][0][1]), dtype) or kinds[product] != kinds[out]
            or kinds[w][1] != dtype or kinds[b] != ((kinds[w][0][1],), dtype)):
        return None
    need_a, need_w = graph.needs(k)
    need_b = graph.needs(j)[add.args.index(b)]
    fold = graph.folds.get(graph.entries.get(k, -1))
    fold_w = fold[1] if fold is not None else None
    fold_b = graph.variables.get(b) if need_b and sgd_in_product.bias_foldable(
        graph.optimizer, graph.laid_out, graph.variables.get(b), b) else None
    return (k, j), replay_kernels.Affine(a, w, b, out, kinds, (need_a, need_w, need_b), (fold_w, fold_b))


def _relu(graph: _Graph, k: int):
    step = graph.steps[k]
    if step.prim is not graph.prims["relu"] or not _float_kind(graph.kinds[step.args[0]]):
        return None
    (z,), (y,) = step.args, step.outputs
    if graph.kinds[z] != graph.kinds[y]:
        return None
    return (k,), replay_kernels.Relu(z, y, graph.kinds, graph.needs(k)[0], _compiled_relu())


def _softmax_crossentropy(graph: _Graph, k: int):
    step, kinds = graph.steps[k], graph.kinds
    if step.prim is not graph.prims["softmax"] or _compiled_head() is None:
        return None
    (z,), (p,) = step.args, step.outputs
    if (len(kinds[z][0]) != 2 or not _float_kind(kinds[z]) or step.params.get("axis") not in (-1, 1)
            or kinds[p] != kinds[z]):
        return None
    readers = graph.readers.get(p, [])
    if len(readers) != 1:
        return None  # the probabilities may be an output of the model too: they are materialised
    c = readers[0]
    loss_step = graph.steps[c]
    if loss_step.params.get("from_logits") is not False or loss_step.args[-1] != p or loss_step.args[0] == p:
        return None
    found = _labels_of(graph, c, kinds[z][0][1])
    if found is None:
        return None
    labels, encode = found
    (loss,) = loss_step.outputs
    (rows, _), dtype = kinds[z]
    if kinds[labels][0] != (rows,) or kinds[labels][1].kind not in "iuf" or kinds[loss] != ((rows,), dtype):
        return None
    group = (k, c) if encode is None else (k, encode, c)
    return group, replay_kernels.SoftmaxCrossentropy(z, labels, p, loss, kinds, graph.needs(k)[0], _compiled_head())


def _labels_of(graph: _Graph, c: int, classes: int) -> tuple[int, int | None] | None:
    """The labels' slot of the crossentropy step ``c`` and the step that one-hot encoded them
    (None for the sparse node, which takes them as they are); None when ``c`` is neither."""
    target = graph.steps[c].args[0]
    if graph.is_a(c, "sparse_categorical_crossentropy"):
        return target, None
    producers = [i for i, s in enumerate(graph.steps) if target in s.outputs]
    if (not graph.is_a(c, "categorical_crossentropy") or graph.sole_reader(target) != c or len(producers) != 1
            or not graph.is_a(producers[0], "one_hot")):
        return None
    encode = graph.steps[producers[0]]
    if encode.params.get("num_classes") != classes or encode.params.get("axis") != -1:
        return None
    return encode.args[0], producers[0]


def _mean_tail(graph: _Graph, k: int):
    step, kinds = graph.steps[k], graph.kinds
    if step.params != {"axis": None, "keepdims": False} or not (graph.is_a(k, "sum") or graph.is_a(k, "mean")):
        return None
    (values,), (total,) = step.args, step.outputs
    if not _float_kind(kinds[values]) or kinds[total] != ((), kinds[values][1]):
        return None
    needs = graph.needs(k)[0]
    if graph.is_a(k, "mean"):
        size = int(np.prod(kinds[values][0]))
        return None if size == 0 else ((k,), replay_kernels.MeanTail(values, total, kinds, needs, size, wide=False))
    d = graph.sole_reader(total)
    if not graph.is_a(d, "divide_no_nan") or graph.steps[d].args[0] != total:
        return None
    constant = graph.steps[d].args[1]
    (out,) = graph.steps[d].outputs
    if (constant not in graph.constants or kinds[constant][0] != () or kinds[constant][1].kind not in "fiu"
            or kinds[out] != kinds[total]):
        return None
    value = graph.constant_values[constant]
    if np.ndim(value) != 0 or not np.isfinite(value):
        return None
    return (k, d), replay_kernels.MeanTail(values, out, kinds, needs, float(value), wide=True)


_MATCHERS = (_affine, _relu, _softmax_crossentropy, _mean_tail)


def _compiled_head():
    return _kernel_switch.compiled_module("lamina.trainers._replay_kernels")


def _compiled_relu():
    return _kernel_switch.compiled_module("lamina.trainers._plan_kernels")


def _groups(graph: _Graph) -> dict[int, tuple]:
    groups: dict[int, tuple] = {}
    for k in range(len(graph.steps)):
        if k in groups:
            continue
        for matcher in _MATCHERS:
            found = matcher(graph, k)
            if found is not None and not any(i in groups for i in found[0]):
                for i in found[0]:
                    groups[i] = found
                break
    return groups


class FusedProgram:
    """The program's forward and backward ops, and the Variables updated inside the backward."""

    def __init__(self, program: Program, laid_out: list, externals: set, optimizer: Optimizer, variables: list):
        graph = _Graph(program, laid_out, externals, optimizer, variables)
        groups = _groups(graph)
        self.forward: list = []
        for k, step in enumerate(graph.steps):
            group = groups.get(k)
            if group is None:
                self.forward.append(replay_ops.forward_op(step))
            elif k == max(group[0]):
                self.forward.append(group[1].forward)
        self.backward: list = []
        contributions: dict[int, list[bool]] = defaultdict(list)  # per slot: is each contribution fresh
        emitted: set[int] = set()
        for index, entry in enumerate(laid_out):
            group = groups.get(graph.index_of[id(entry[0])])
            if group is None:
                fold = graph.folds.get(index)
                self.backward.append(replay_ops.backward_op(entry, fold))
                for slot, needed in zip(entry[0].args, (entry[1][0], False) if fold else entry[1]):
                    if needed:
                        contributions[slot].append(False)
            elif id(group) not in emitted:
                emitted.add(id(group))
                self.backward.append(group[1].backward)
                for slot in group[1].targets:
                    contributions[slot].append(slot in group[1].fresh)
        self.contributions = contributions
        self.kernels = [group[1] for group in {id(g): g for g in groups.values()}.values()]
        for kernel in self.kernels:
            if isinstance(kernel, replay_kernels.Relu):
                kernel.owns_gradient = contributions.get(kernel.y) == [True]
        self.folded = [variable for _, variable in graph.folds.values()]
        self.folded += [kernel.fold_b for kernel in self.kernels
                        if isinstance(kernel, replay_kernels.Affine) and kernel.fold_b is not None]

    def gradients_into(self, views: dict[int, np.ndarray]) -> None:
        """Let the fused products write the gradient of each weight (by slot) straight into its
        view of the optimizer's packed array (``compiled_step._PackedUpdate``), where their op is
        the only one adding to it: no copy into the packed array before the update."""
        for kernel in self.kernels:
            if isinstance(kernel, replay_kernels.Affine):
                kernel.gradients_into({slot: view for slot, view in views.items()
                                       if self.contributions.get(slot) == [True]})
