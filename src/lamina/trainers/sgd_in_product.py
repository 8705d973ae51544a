"""Plain SGD's update of a kernel landing inside its gradient's product, in the compiled step.

The fused plan's trick (``fast_plan.py``), for any program: where a kernel's only gradient is one
``matmul``'s (``x @ W``, nothing else reads ``W`` on the way back) and the optimizer declares
``gemm_momentum() == 0.0`` (plain SGD, nothing but ``update_step`` to do), ``W -= lr * x.T @ g``
is one BLAS call with ``beta = 1``: the 784x300 gradient is never written out, and the update
makes no pass of its own. The numbers are the eager step's up to float32 rounding (the product
is scaled inside BLAS). A small kernel (the 100x10 output layer) takes NumPy's product and SGD's
own two passes instead: there the ctypes call costs more than the passes.
"""
from __future__ import annotations

import numpy as np

from ..backend import blas
from ..ops.linalg_ops import _MATMUL
from ..variables import Variable


def declared(optimizer) -> bool:
    """Whether ``optimizer`` says its update may land inside a gradient's product with
    ``beta = 1`` (``gemm_momentum() == 0.0``: plain SGD without momentum)."""
    gemm_momentum = getattr(optimizer, "gemm_momentum", None)  # only SGD declares it
    return gemm_momentum is not None and gemm_momentum() == 0.0


def folds(optimizer, laid_out: list, variables: list, slot_of) -> dict[int, tuple[int, Variable]]:
    """``{backward entry index: (slot of the matmul's left operand, kernel Variable)}`` for the
    kernels whose update can land in their gradient's product."""
    if not blas.HAVE_CBLAS or not declared(optimizer):
        return {}
    found = {}
    for variable in variables:
        slot, value = slot_of(variable), variable._value
        if (slot is None or variable.constraint is not None or value.ndim != 2 or not value.flags.c_contiguous
                or value.dtype not in (np.float32, np.float64)):
            continue
        users = [k for k, entry in enumerate(laid_out) if slot in entry[0].args]
        if len(users) != 1:
            continue
        step, needs, shapes, dtypes, _ = laid_out[users[0]]
        if (step.prim is _MATMUL and step.args[1] == slot and step.args[0] != slot and needs[1]
                and len(shapes[0]) == 2 and dtypes[0] == value.dtype):
            found[users[0]] = (step.args[0], variable)
    return found


SMALL_KERNEL = 8192  # weights below which NumPy's product and two passes beat a ctypes call (~8 us, measured)


def update(left: np.ndarray, grad: np.ndarray, variable, learning_rate: float) -> None:
    """``variable -= learning_rate * left.T @ grad`` in one product (a small kernel: NumPy's
    product, then SGD's own two passes)."""
    value = variable._value
    if value.size < SMALL_KERNEL:
        step = np.matmul(left.T, grad)
        np.multiply(step, learning_rate, out=step)
        np.subtract(value, step, out=value)
        return
    blas.gemm(np.ascontiguousarray(left), np.ascontiguousarray(grad), variable._value, trans_a=True,
              alpha=-learning_rate, beta=1.0)


def bias_foldable(optimizer, laid_out: list, variable, slot: int) -> bool:
    """Whether plain SGD's update of the 1-D ``variable`` (a bias, at ``slot``) may be made in the
    backward pass, from its gradient's product with a row of ones (``replay_kernels.Affine``): the
    one VJP that reads it is the add's that the caller fuses, so nothing reads it after."""
    if variable is None or not declared(optimizer):
        return False
    value = variable._value
    if (variable.constraint is not None or value.ndim != 1 or not value.flags.c_contiguous
            or value.dtype not in (np.float32, np.float64)):
        return False
    return sum(slot in entry[0].args for entry in laid_out) == 1
