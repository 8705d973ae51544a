"""The array calls of the hot loop, in one place.

``xp`` is the array namespace (NumPy; a library with NumPy's interface could stand in).
``gemm`` is BLAS's general matrix product ``C = alpha * op(A) @ op(B) + beta * C``. NumPy's
``matmul`` cannot accumulate into its output, so when NumPy's own bundled OpenBLAS exposes
``cblas_?gemm`` we call it directly: an SGD step then lands in the weights inside the
gradient product itself. Calling NumPy's BLAS (rather than SciPy's, which has its own thread
pool) keeps one set of BLAS threads busy; two pools spinning against each other cost 10x.
Set ``LAMINA_BLAS=numpy`` to use the plain NumPy fallback.
"""
from __future__ import annotations

from typing import Any

import ctypes
import glob
import os

import numpy as np

xp = np

_ROW_MAJOR, _NO_TRANS, _TRANS = 101, 111, 112


def _find_cblas():
    if os.environ.get("LAMINA_BLAS", "").lower() == "numpy":
        return None
    here = os.path.dirname(np.__file__)
    candidates = (glob.glob(os.path.join(here, "..", "numpy.libs", "*openblas*"))
                  + glob.glob(os.path.join(here, ".dylibs", "*openblas*")))
    for path in candidates:
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for prefix, int_type in (("scipy_cblas_", ctypes.c_int64), ("cblas_", ctypes.c_int)):
            suffix = "64_" if int_type is ctypes.c_int64 else ""
            try:
                sgemm = getattr(lib, f"{prefix}sgemm{suffix}")
                dgemm = getattr(lib, f"{prefix}dgemm{suffix}")
            except AttributeError:
                continue
            for fn, real in ((sgemm, ctypes.c_float), (dgemm, ctypes.c_double)):
                fn.restype = None
                fn.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int, int_type, int_type, int_type,
                               real, ctypes.c_void_p, int_type, ctypes.c_void_p, int_type,
                               real, ctypes.c_void_p, int_type]
            return {np.dtype("float32"): sgemm, np.dtype("float64"): dgemm}
    return None


_CBLAS = _find_cblas()
HAVE_CBLAS = _CBLAS is not None


def gemm(a: np.ndarray, b: np.ndarray, out: np.ndarray, trans_a: bool = False, trans_b: bool = False,
         alpha: float = 1.0, beta: float = 0.0) -> np.ndarray:
    """``out = alpha * op(a) @ op(b) + beta * out`` where ``op`` transposes when asked.

    All three arrays must be of one float dtype with contiguous rows (C-contiguous, or a
    column slice ``buf[:, :n]`` of such an array); ``out`` is written in place.

    >>> a = np.ones((2, 3), "float32"); b = np.ones((3, 4), "float32"); c = np.ones((2, 4), "float32")
    >>> float(gemm(a, b, c, beta=1.0)[0, 0])
    4.0
    """
    fn = _CBLAS.get(out.dtype) if _CBLAS is not None else None
    if fn is None:
        return _gemm_numpy(a, b, out, trans_a, trans_b, alpha, beta)
    m, n = out.shape
    k = a.shape[0] if trans_a else a.shape[1]
    size = out.itemsize
    fn(_ROW_MAJOR, _TRANS if trans_a else _NO_TRANS, _TRANS if trans_b else _NO_TRANS, m, n, k,
       alpha, a.ctypes.data, a.strides[0] // size, b.ctypes.data, b.strides[0] // size,
       beta, out.ctypes.data, out.strides[0] // size)
    return out


def cblas_gemm(dtype) -> Any:
    """NumPy's OpenBLAS ``cblas_?gemm`` for ``dtype`` (a ctypes function), or None."""
    return _CBLAS.get(np.dtype(dtype)) if _CBLAS is not None else None


def bind_gemm(a: np.ndarray, b: np.ndarray, out: np.ndarray, trans_a: bool = False, trans_b: bool = False,
              caller=None):
    """``gemm`` with its arrays fixed: returns ``run(alpha=1.0, beta=0.0)``.

    The hot loop calls the same products on the same buffers every step; binding them once
    saves the per-call cost of looking up shapes and data pointers (several microseconds a
    product, ~10% of a batch-32 step). The arrays must outlive the returned function.
    ``caller``: a function taking ``cblas_?gemm``'s arguments in its place (the fused plan's
    compiled one, ``trainers/_plan_kernels.py``: a ctypes call converts its 14 arguments each time).
    """
    fn = _CBLAS.get(out.dtype) if _CBLAS is not None else None
    if fn is not None and caller is not None:
        fn = caller
    if fn is None:
        return lambda alpha=1.0, beta=0.0: _gemm_numpy(a, b, out, trans_a, trans_b, alpha, beta)
    size = out.itemsize
    m, n = out.shape
    k = a.shape[0] if trans_a else a.shape[1]
    head = (_ROW_MAJOR, _TRANS if trans_a else _NO_TRANS, _TRANS if trans_b else _NO_TRANS, m, n, k)
    a_args = (a.ctypes.data, a.strides[0] // size, b.ctypes.data, b.strides[0] // size)
    c_args = (out.ctypes.data, out.strides[0] // size)
    keep = (a, b, out)  # the pointers above stay valid while these arrays live

    def run(alpha=1.0, beta=0.0, _keep=keep):
        fn(*head, alpha, *a_args, beta, *c_args)
    return run


def _gemm_numpy(a, b, out, trans_a, trans_b, alpha, beta):
    a = a.T if trans_a else a
    b = b.T if trans_b else b
    if beta == 0.0:
        np.matmul(a, b, out=out)
        if alpha != 1.0:
            out *= alpha
        return out
    product = np.matmul(a, b)
    if alpha != 1.0:
        product *= alpha
    if beta != 1.0:
        out *= beta
    out += product
    return out
