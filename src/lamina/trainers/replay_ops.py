"""The compiled step's program as a list of bound calls: one per primitive of the trace (the plain
replay) or per fused group (``replay_fusion.py``), forward and backward.

A forward op is ``op(slots, residuals)``: it reads its arguments from ``slots`` and writes its
outputs there. A backward op is ``op(slots, grads, residuals, learning_rate)``: it reads the
gradient of its outputs from ``grads`` and adds its arguments' gradients there (``contribute``:
a value that fans out gets the sum, and no gradient is changed in place unless the op owns it).
Each op binds what it needs once, so the loop over them does no lookups of its own.
"""
from __future__ import annotations

import functools
from typing import Any, Callable

import numpy as np

from ..ops.primitive import RAW, unbroadcast
from . import sgd_in_product


def contribute(grads: list, slot: int, grad) -> None:
    """Add ``grad`` into the gradient of ``slot`` (a new array when there is one already)."""
    existing = grads[slot]
    grads[slot] = grad if existing is None else existing + grad


def forward_op(step) -> Callable:
    """``step`` (a ``step_trace.Step``) as a forward op: its primitive's forward rule."""
    forward, args, params, outputs, residual = step.prim.forward, step.args, step.params, step.outputs, step.residual
    single = len(outputs) == 1 and not step.prim.multi_output
    first = outputs[0]

    def run(slots: list, residuals: list) -> None:
        out = forward(*[slots[i] for i in args], **params)
        if residual is not None:
            out, residuals[residual] = out
        if single:
            slots[first] = out
        else:
            for slot, value in zip(outputs, out):
                slots[slot] = value
    return run


def backward_op(laid_out_entry, fold) -> Callable:
    """One entry of ``lay_out_backward`` as a backward op: the primitive's VJP on arrays, each
    wanted gradient summed back to its argument's shape and cast to its dtype; with ``fold``
    ``(slot of the left operand, kernel Variable)``, plain SGD's update of the kernel inside
    its gradient's product instead of the kernel's gradient (``sgd_in_product.py``)."""
    step, needs, shapes, dtypes, params = laid_out_entry
    if fold is not None:
        needs = (needs[0], False)
        params = {**params, "needs": needs}
    prim = step.prim
    call: Any = prim.raw_vjp if prim.raw_vjp is not None else functools.partial(prim.vjp, RAW)
    targets = tuple((i, slot, shape, dtype) for i, (slot, needed, shape, dtype)
                    in enumerate(zip(step.args, needs, shapes, dtypes)) if needed)
    residual = step.residual if prim.raw_vjp is not None and prim.saves else None
    outputs, multi, args = step.outputs, prim.multi_output, step.args
    first = outputs[0]

    def run(slots: list, grads: list, residuals: list, learning_rate) -> None:
        g: Any
        if multi:
            out_grads = [grads[o] for o in outputs]
            if all(gi is None for gi in out_grads):
                return
            g = tuple(np.zeros_like(slots[o]) if gi is None else gi for gi, o in zip(out_grads, outputs))
            out = tuple(slots[o] for o in outputs)
        else:
            g = grads[first]
            if g is None:
                return
            out = slots[first]
        values = [slots[i] for i in args]
        if residual is None:
            arg_grads = call(g, out, *values, **params)
        else:
            arg_grads = call(g, out, residuals[residual], *values, **params)
        if fold is not None:
            sgd_in_product.update(slots[fold[0]], g, fold[1], learning_rate)
        for position, slot, shape, dtype in targets:
            grad = arg_grads[position]
            if grad is None:
                continue
            if grad.shape != shape:
                grad = unbroadcast(RAW, grad, shape)
            if grad.dtype != dtype:
                grad = grad.astype(dtype)
            contribute(grads, slot, grad)
    return run


def run_forward(ops: list, slots: list, n_residuals: int) -> list:
    """Run the forward ops over ``slots`` (filled with the sources); return the residuals."""
    residuals: list = [None] * n_residuals
    for op in ops:
        op(slots, residuals)
    return residuals


def run_backward(ops: list, slots: list, residuals: list, target: int, seed, learning_rate) -> list:
    """Run the backward ops from ``seed`` at ``target``; return the gradient of every slot (None
    where none flows). ``learning_rate``: for the updates that land inside the backward pass."""
    grads: list = [None] * len(slots)
    grads[target] = seed
    for op in ops:
        op(slots, grads, residuals, learning_rate)
    return grads
