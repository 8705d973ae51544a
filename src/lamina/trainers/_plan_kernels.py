"""Compiled relu passes and the products' compiled caller for the fused plan (imported only when
numba is installed and the compiled kernels are wanted, the switch of ``_kernel_switch.py``).

NumPy's ``maximum(z, 0, out=z)`` and ``dy *= y > 0`` on the plan's column-slice buffers take ~2x
the time of one compiled loop (the derivative's NumPy form also builds a boolean temporary):
measured, the lesson's epoch at batch 1024 ran 4% faster with these, 1% at batch 32
(bench/RESULTS.md). Both keep NumPy's results exactly, NaN included.

``gather_rows`` copies a batch's rows into the plan's input buffer, casting as it goes, while
asking the memory for the next row's cache lines (``llvm.prefetch``): the rows sit at random
places, and each new row otherwise waits on the memory before its hardware prefetcher ramps up.
Measured at batch 1024 of the lesson's float64 rows with a product between gathers (as in the
step): 958-1036 us against 1123-1335 us for NumPy's fancy indexing + cast (bench/RESULTS.md).
"""
from __future__ import annotations

import ctypes

import numba
import numpy as np
from llvmlite import ir
from numba.extending import intrinsic

from .._numba_jit import jit
from ..backend import blas


# Neither loop returns its array: boxing an array back into Python costs ~1 us a call (measured,
# 32 x 100: 2.9 us against 2.0 us), and the plan does not read the result.
@jit
def relu_into(z, out):
    """``out = max(z, 0)``, NaN kept (as ``np.maximum``)."""
    for i in range(z.shape[0]):
        for j in range(z.shape[1]):
            v = z[i, j]
            out[i, j] = 0 if v < 0 else v


@jit
def relu_derivative_into(dy, y):
    """``dy *= y > 0`` in place."""
    for i in range(dy.shape[0]):
        for j in range(dy.shape[1]):
            dy[i, j] *= y[i, j] > 0


@intrinsic
def _prefetch(typingctx, flat, at):
    """Ask for the cache line holding ``flat[at]`` (LLVM's prefetch: read, no temporal hint kept, data)."""
    def codegen(context, builder, signature, args):
        array = context.make_array(signature.args[0])(context, builder, args[0])
        byte_pointer = ir.IntType(8).as_pointer()
        prefetch = builder.module.declare_intrinsic("llvm.prefetch", fnty=ir.FunctionType(
            ir.VoidType(), [byte_pointer, ir.IntType(32), ir.IntType(32), ir.IntType(32)]))
        address = builder.bitcast(builder.gep(array.data, [args[1]]), byte_pointer)
        builder.call(prefetch, [address] + [ir.Constant(ir.IntType(32), v) for v in (0, 0, 1)])
        return context.get_dummy_value()
    return numba.types.void(flat, at), codegen


@jit
def gather_rows(x, index, out):
    """``out[i] = x[index[i]]`` cast to ``out``'s dtype (as ``np.copyto(casting="unsafe")``), the
    next row's cache lines asked for while one is copied; False, before writing anything, when an
    index is outside ``0 <= i < len(x)`` (the caller's NumPy form then raises or wraps as NumPy
    does). One function, the prefetch loop inline: ~0.15 s less to compile than with a helper."""
    rows, width = x.shape
    flat = x.reshape(rows * width)
    n = index.shape[0]
    for i in range(n):
        if index[i] < 0 or index[i] >= rows:
            return False
    line = max(1, 64 // flat.itemsize)  # values a 64-byte cache line holds: one request each
    for i in range(-1, n):  # i = -1 only asks for the first row
        if i + 1 < n:
            ahead = index[i + 1] * width
            for column in range(0, width, line):
                _prefetch(flat, ahead + column)
        if i >= 0:
            source = index[i]
            for column in range(width):
                out[i, column] = x[source, column]
    return True


# The fused plan's forms: each Dense writes into the first columns of a C-contiguous buffer (the
# next layer's input, a ones column last). Looping over that buffer rather than a column-slice
# view lets LLVM vectorize (a slice's strides are unknown at compile time: one value at a time),
# and the forward pass writes one array it also reads (a relu from ``z`` into ``out`` that may be
# ``z`` keeps a runtime overlap check that fails in place, and a select written back became
# masked stores, slow on this machine's AMD cores): at 128 x 300 float32, 2.9 us against 17-18 us
# for ``relu_into`` in place on the view, 4.5 us against 14 us for the derivative (bench/RESULTS.md).
@jit
def relu_columns(z, buffer):
    """``z = max(z, 0)`` in place, ``z`` the first ``z.shape[1]`` columns of ``buffer`` (written
    through ``buffer``). Adding zero makes it ``np.maximum(v, 0)`` exactly, the sign of zero included
    (``-0.0 + 0.0`` is ``+0.0``; NaN stays NaN), and makes every stored value a new one, so the
    compiler cannot turn the loop into masked stores of the zeros."""
    zero = buffer.dtype.type(0)
    for i in range(z.shape[0]):
        for j in range(z.shape[1]):
            v = buffer[i, j]
            buffer[i, j] = (zero if v < zero else v) + zero


@jit
def relu_derivative_columns(dy, buffer):
    """``dy *= y > 0``, ``y`` the first ``dy.shape[1]`` columns of ``buffer``."""
    for i in range(dy.shape[0]):
        for j in range(dy.shape[1]):
            dy[i, j] *= buffer[i, j] > 0


_gemm_callers: dict = {}


def gemm_caller(dtype):
    """A compiled function taking ``cblas_?gemm``'s 14 arguments and calling it, for
    ``blas.bind_gemm(caller=)``; None without NumPy's cblas for ``dtype``.

    Why. A ctypes call converts each of its 14 arguments on every call: ~4.3 us a product (1 x 1,
    measured), 8 products a step, against ~1.3 us through numba, which passes them as machine
    integers (~25 us of a ~600 us step at batch 32). It calls the same OpenBLAS function, so the
    same thread pool and the same numbers. Compiled once a process, for the dtype's signature
    (~0.15 s; numba cannot cache a function that holds a ctypes pointer)."""
    dtype = np.dtype(dtype)
    if dtype not in _gemm_callers:
        _gemm_callers[dtype] = _compile_caller(blas.cblas_gemm(dtype), dtype)
    return _gemm_callers[dtype]


def _compile_caller(fn, dtype):
    if fn is None:
        return None
    index = "int64" if ctypes.sizeof(fn.argtypes[3]) == 8 else "int32"  # cblas ints: 64-bit in NumPy's build
    real = "float32" if dtype == np.float32 else "float64"
    signature = f"void(int32, int32, int32, {index}, {index}, {index}, {real}, intp, {index}, intp, {index}, " \
                f"{real}, intp, {index})"

    def call(order, trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc):
        fn(order, trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
    return numba.njit(signature, nogil=True)(call)
