"""The fused plan's arrays for one batch size, and its products bound to them (``fast_plan.py``)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from .fast_plan import FastPlan


class Buffers:
    """The arrays of one batch size and the products bound to them.

    ``inputs[i]`` is Dense ``i``'s input (with its ones column), ``hidden[i]`` the view of
    ``inputs[i + 1]`` that Dense ``i`` writes (``holding[i]`` the whole buffer: the compiled relu
    loops index it, ``_plan_kernels.relu_columns``), ``input_grads[i]`` the gradient with respect
    to Dense ``i``'s input (without the ones column)."""

    def __init__(self, plan: FastPlan, batch: int):
        dtype, dense = plan.dtype, plan.dense
        bind_gemm = plan.bind_gemm
        self.inputs = []
        for layer in dense:
            buffer = np.empty((batch, layer.kernel.shape[0] + layer.use_bias), dtype)
            if layer.use_bias:
                buffer[:, -1] = 1
            self.inputs.append(buffer)
        self.output = np.empty((batch, dense[-1].units), dtype)
        self.hidden = [self.inputs[i + 1][:, :layer.units] for i, layer in enumerate(dense[:-1])] + [self.output]
        self.holding = self.inputs[1:] + [self.output]  # the C-contiguous buffer each of ``hidden`` is in
        self.features = self.inputs[0][:, :plan.n_in]
        self.input_grads = [np.empty((batch, layer.kernel.shape[0]), dtype) for layer in dense]
        # the gradient arriving at Dense i's output (pre-activation): the output buffer for the last
        self.output_grads = self.input_grads[1:] + [self.output]
        self.forward_calls = [bind_gemm(self.inputs[i], plan.packed[i], self.hidden[i]) for i in range(len(dense))]
        self.input_grad_calls = [bind_gemm(self.output_grads[i], plan.kernels[i], self.input_grads[i], trans_b=True)
                                 for i in range(len(dense))]
        self.weight_calls: list[Any] = [None if target is None else
                             bind_gemm(self.inputs[i], self.output_grads[i], target, trans_a=True)
                             for i, target in enumerate(plan.weight_targets)]
        self.rows = np.arange(batch)  # for picking each row's label column
        self.dropped: dict = {}  # Dense index -> this step's dropout multiplier after it
        # what depends on the first input buffer, per slot: a second one is made for a prefetching
        # fit (trainers/prefetch.py), which gathers a batch into one while the other trains
        self.slots = [(self.inputs[0], self.features, self.forward_calls[0], self.weight_calls[0])]
        self.active = 0

    def slot_features(self, plan: FastPlan, slot: int) -> np.ndarray:
        """The feature columns of first-input buffer ``slot`` (made on first use)."""
        if slot == len(self.slots):
            first = np.empty_like(self.inputs[0])
            if plan.dense[0].use_bias:
                first[:, -1] = 1
            target, bind_gemm = plan.weight_targets[0], plan.bind_gemm
            weights = None if target is None else bind_gemm(first, self.output_grads[0], target, trans_a=True)
            self.slots.append((first, first[:, :plan.n_in], bind_gemm(first, plan.packed[0], self.hidden[0]), weights))
        return self.slots[slot][1]

    def use(self, slot: int) -> None:
        """Train on first-input buffer ``slot`` from now on."""
        if slot != self.active:
            self.inputs[0], self.features, self.forward_calls[0], self.weight_calls[0] = self.slots[slot]
            self.active = slot
